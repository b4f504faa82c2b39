#!/usr/bin/env python3
"""Helm values for Zero to JupyterHub (chart CHART_VERSION) from the same settings and users CSV as one machine.

    python3 deploy/kubernetes/values.py --users staff.csv --uids uids.json --image registry.example/course:GIT_SHA \\
        --host hub.example.org --tls letsencrypt --contact-email it@example.org \\
        --authenticator azuread --exchange-nfs nfs.example.org:/exports/course-exchange > values.yaml
    helm upgrade --install course jupyterhub/jupyterhub --version 4.4.0 -f values.yaml -f auth-secrets.yaml

What it writes (docs/kubernetes.md, "What the values say, and why"):
- who may log in (the CSV), hub admins (`hub_admins` of course-hub.json, none by default), the authenticator;
- one image for everyone (deploy/kubernetes/Dockerfile), memory and CPU per trainee, a private home volume each;
- each person's own uid (kept in --uids, never reused) and /etc/passwd and /etc/group naming them, so the
  nbgrader exchange on a shared ReadWriteMany volume keeps the one machine's file permissions;
- two profiles: trainees (no trainer tools, no choice to make) and trainers (formgrader, the graders group,
  their ~/course and the course's exchange folders made at start); a trainee cannot pick the trainer's;
- the idle culler, and TLS: Let's Encrypt, a certificate in a Kubernetes Secret, or an ingress.
Standard library only (YAML out when PyYAML is there, else JSON, which Helm reads as YAML).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "jupyterhub"))
from setup_base import SetupError  # noqa: E402
from setup_users import read_users  # noqa: E402

sys.path.remove(str(HERE.parent / "jupyterhub"))

CHART_VERSION = "4.4.0"  # jupyterhub/zero-to-jupyterhub-k8s; its hub runs JupyterHub CHART_JUPYTERHUB
CHART_JUPYTERHUB = "5.5.0"  # the image's jupyterhub must share this major version (Dockerfile ARG)
CHART_KUBESPAWNER = "7.0.0"  # what the chart's hub spawns with; the tests build pods with the same
PREFIX = "/opt/course-hub"  # where the Dockerfile runs setup.py install
HOME = "/home/jovyan"
FIRST_UID = 20001
USERS_GID = 100  # the chart's fsGid: every pod's primary group; home volumes are made writable to it
GRADERS_GID = 19001
TRAINEES_GID = 19002
DEFAULTS = {
    "course_id": "safeguarding-case-review",
    "exchange_root": "/srv/nbgrader/exchange",
    "graders_group": "course-graders",
    "trainees_group": "course-trainees",
    "mem_limit": "1G",  # a working trainee is ~265 MB (docs/deploy.md, sizing); room for a second module
    "hub_admins": [],
}
AUTHENTICATORS = ("azuread", "generic-oauth", "github", "google", "gitlab", "cilogon", "ldapauthenticator")


def settings_from(path: str | None) -> dict:
    found = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    if not isinstance(found, dict):
        raise SetupError(f"{path}: not a JSON object")
    return DEFAULTS | {k: found[k] for k in DEFAULTS if k in found}


def assign_uids(path: Path | None, usernames: list[str]) -> dict[str, int]:
    """Each person's uid: kept from the file, new people get the next free one; a uid is never reused, so
    files in the exchange keep meaning who made them. The file is rewritten with any new people."""
    known: dict[str, int] = json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else {}
    if not isinstance(known, dict) or not all(isinstance(v, int) for v in known.values()):
        raise SetupError(f"{path}: must be a JSON object of username: uid")
    taken = set(known.values())
    if len(taken) != len(known):
        raise SetupError(f"{path}: two people share a uid")
    nxt = max([FIRST_UID - 1, *taken]) + 1
    for name in sorted(usernames):
        if name not in known:
            known[name] = nxt
            nxt += 1
    if path:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dict(sorted(known.items())), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return {name: known[name] for name in usernames}


def etc_files(people: dict, settings: dict) -> tuple[str, str]:
    """/etc/passwd and /etc/group for every pod: the names the exchange's owner checks read (course.grading.exchange)."""
    passwd = ["root:x:0:0:root:/root:/bin/bash", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"]
    passwd += [f"{n}:x:{p['uid']}:{USERS_GID}:{n}:{HOME}:/bin/bash" for n, p in sorted(people.items())]
    members = {
        role: ",".join(sorted(n for n, p in people.items() if p["role"] == role)) for role in ("trainer", "trainee")
    }
    group = [
        "root:x:0:",
        f"users:x:{USERS_GID}:",
        f"{settings['graders_group']}:x:{GRADERS_GID}:{members['trainer']}",
        f"{settings['trainees_group']}:x:{TRAINEES_GID}:{members['trainee']}",
        "nogroup:x:65534:",
    ]
    return "\n".join(passwd) + "\n", "\n".join(group) + "\n"


def trainer_start(settings: dict) -> str:
    """The trainer's pod, at start (postStart, as the trainer): ~/course with its nbgrader settings (as
    setup.py init-course writes them, pre-rendered in the image), and the course's folders in the exchange with
    init-course's modes. Only what is missing is made; a failure is logged, never stops the server."""
    ex = f"{settings['exchange_root']}/{settings['course_id']}"
    t = f"{PREFIX}/etc/trainer"
    return (
        "umask 077; mkdir -p ~/course ~/.jupyter; "
        f"[ -e ~/course/nbgrader_config.py ] || cp {t}/course_nbgrader_config.py ~/course/nbgrader_config.py; "
        f"[ -e ~/.jupyter/nbgrader_config.py ] || cp {t}/user_nbgrader_config.py ~/.jupyter/nbgrader_config.py; "
        f"umask 022; mkdir -p {ex}/outbound {ex}/inbound {ex}/feedback 2>/dev/null; "
        f"if [ -O {ex}/inbound ]; then chgrp {GRADERS_GID} {ex}/inbound && chmod 3733 {ex}/inbound; "
        f"chmod 0711 {ex}/feedback; fi; true"
    )


def profiles(settings: dict) -> list[dict]:
    trainee_env = {"COURSE_ROLE": "trainee", "JUPYTER_CONFIG_PATH": f"{PREFIX}/etc/jupyter-trainee"}
    return [
        {
            "display_name": "Trainee",
            "slug": "trainee",
            "description": "The course modules; no trainer tools.",
            "kubespawner_override": {"environment": trainee_env, "supplemental_gids": [TRAINEES_GID]},
        },
        {
            "display_name": "Trainer",
            "slug": "trainer",
            "description": "The course with nbgrader's formgrader; releases, collects and grades.",
            "kubespawner_override": {
                "environment": {"COURSE_ROLE": "trainer"},
                "supplemental_gids": [GRADERS_GID],
                "mem_limit": "2G",  # autograde runs in this pod (course grade spreads it over its cores)
                "cpu_limit": 2.0,
                "lifecycle_hooks": {"postStart": {"exec": {"command": ["/bin/sh", "-c", trainer_start(settings)]}}},
            },
        },
    ]


# Run by the chart's jupyterhub_config.py (hub.extraConfig, last): which profile and uid each person gets.
EXTRA_CONFIG = """\
# deploy/kubernetes/values.py: each person's uid and profile from custom.course (the users CSV).
from z2jh import get_config as _course_config


def _course_person(spawner):
    person = _course_config("custom.course.people", {}).get(spawner.user.name)
    if person is None:
        raise ValueError(f"{spawner.user.name} is not in the course's users CSV: add them, regenerate the values")
    return person


def _course_profiles(spawner):
    role = _course_person(spawner)["role"]
    return [p for p in _course_config("custom.course.profiles") if p["slug"] == role]


def _course_options_form(spawner):
    # Trainees have nothing to choose: no form. Trainers see their one profile.
    if _course_person(spawner)["role"] != "trainer":
        return ""
    return spawner._render_options_form(_course_profiles(spawner))


c.KubeSpawner.uid = lambda spawner: _course_person(spawner)["uid"]
c.KubeSpawner.profile_list = _course_profiles
c.KubeSpawner.options_form = _course_options_form
"""


def exchange_volume(args: argparse.Namespace) -> dict:
    if args.exchange_nfs:
        server, _, path = args.exchange_nfs.partition(":")
        if not server or not path.startswith("/"):
            raise SetupError(f"--exchange-nfs {args.exchange_nfs!r}: give SERVER:/EXPORTED/PATH")
        return {"name": "course-exchange", "nfs": {"server": server, "path": path}}
    return {"name": "course-exchange", "persistentVolumeClaim": {"claimName": args.exchange_pvc}}


def tls_values(args: argparse.Namespace) -> dict:
    if args.tls == "letsencrypt":
        if not args.contact_email:
            raise SetupError("--tls letsencrypt needs --contact-email (Let's Encrypt writes there before expiry)")
        https = {
            "enabled": True,
            "type": "letsencrypt",
            "hosts": [args.host],
            "letsencrypt": {"contactEmail": args.contact_email},
        }
        return {"proxy": {"https": https}}
    if not args.tls_secret:
        raise SetupError(f"--tls {args.tls} needs --tls-secret NAME (a kubernetes.io/tls Secret for {args.host})")
    if args.tls == "secret":
        return {
            "proxy": {
                "https": {"enabled": True, "type": "secret", "hosts": [args.host], "secret": {"name": args.tls_secret}}
            }
        }
    ingress: dict = {
        "enabled": True,
        "hosts": [args.host],
        "tls": [{"hosts": [args.host], "secretName": args.tls_secret}],
    }
    if args.ingress_class:
        ingress["ingressClassName"] = args.ingress_class
    # Behind the ingress the proxy needs no address of its own outside the cluster.
    return {"ingress": ingress, "proxy": {"service": {"type": "ClusterIP"}}}


def build_values(args: argparse.Namespace) -> dict:
    # every input checked before the uids file is touched
    settings = settings_from(args.settings)
    tls, volume = tls_values(args), exchange_volume(args)
    name, _, tag = args.image.rpartition(":")
    if not name or "/" in tag:
        raise SetupError(f"--image {args.image!r}: give NAME:TAG (tag it with the git commit it was built from)")
    rows = read_users(Path(args.users))
    if not any(r["role"] == "trainer" for r in rows):
        raise SetupError(f"{args.users}: no trainer: at least one row must have the role trainer")
    uids = assign_uids(Path(args.uids) if args.uids else None, [r["username"] for r in rows])
    people = {r["username"]: {"role": r["role"], "uid": uids[r["username"]]} for r in rows}
    passwd, group = etc_files(people, settings)
    exchange = settings["exchange_root"]
    values: dict = {
        "hub": {
            "config": {
                "JupyterHub": {"authenticator_class": args.authenticator},
                "Authenticator": {
                    "allowed_users": sorted(people),
                    "admin_users": sorted(settings["hub_admins"]),  # not the trainers: admins reach every server
                    "allow_all": False,
                },
                # as on one machine: saved widget views are replaced by a note (course/apps/save_hook.py)
                # and every pod's primary group is `users` (the chart sets the uid and fsGid, not this)
                "KubeSpawner": {
                    "args": ["--ContentsManager.pre_save_hook=course.apps.save_hook.strip_widget_views"],
                    "gid": USERS_GID,
                },
            },
            "extraConfig": {"course": EXTRA_CONFIG},
        },
        "singleuser": {
            "image": {"name": name, "tag": tag},
            "defaultUrl": "/lab",
            # umask 077 as on one machine: what a person's server makes is theirs alone
            "cmd": ["/bin/sh", "-c", 'umask 077 && exec "$0" "$@"', "jupyterhub-singleuser"],
            "uid": FIRST_UID - 1,  # replaced per person by hub.extraConfig; never a shared uid
            "fsGid": USERS_GID,
            "memory": {"limit": settings["mem_limit"], "guarantee": "300M"},
            "cpu": {"limit": 1.0, "guarantee": 0.05},
            "storage": {
                "type": "dynamic",
                "capacity": "1Gi",
                "homeMountPath": HOME,
                "extraVolumes": [volume],
                "extraVolumeMounts": [{"name": "course-exchange", "mountPath": exchange}],
            },
            "extraFiles": {
                "passwd": {"mountPath": "/etc/passwd", "stringData": passwd, "mode": 0o444},
                "group": {"mountPath": "/etc/group", "stringData": group, "mode": 0o444},
            },
            "extraEnv": {"COURSE_ROLE": "trainee"},
            # Trainees' pods must not reach private addresses: the exchange's NFS server is one of them
            # (the node mounts it, not the pod). This is the chart's default, stated so it stays so.
            "networkPolicy": {"egressAllowRules": {"privateIPs": False}},
            "profileList": [],  # per person, by hub.extraConfig
        },
        "cull": {"enabled": True, "timeout": 1800, "every": 300, "users": False},
        "prePuller": {"continuous": {"enabled": True}},
        "scheduling": {"userScheduler": {"enabled": True}},
        "custom": {"course": {"people": people, "profiles": profiles(settings), "chartVersion": CHART_VERSION}},
    }
    for key, part in tls.items():
        values[key] = values.get(key, {}) | part
    return values


def dump(values: dict) -> str:
    head = f"# Zero to JupyterHub {CHART_VERSION} values, generated by deploy/kubernetes/values.py: edit the inputs, not this.\n"
    try:
        import yaml
    except ImportError:
        return head + json.dumps(values, indent=2) + "\n"

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, s):  # the config code and /etc files as blocks a person can read
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None)

    Dumper.add_representer(str, text)
    return head + yaml.dump(values, Dumper=Dumper, sort_keys=False, width=120)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", required=True, help="the users CSV (username,role,full_name), as for setup.py add-users")
    p.add_argument(
        "--settings",
        help="course-hub.json: course_id, exchange_root, mem_limit, hub_admins (defaults as on one machine)",
    )
    p.add_argument(
        "--uids", help="JSON file of username: uid, kept between runs (made if missing); keep it with your backups"
    )
    p.add_argument("--image", required=True, help="the single-user image, NAME:TAG (deploy/kubernetes/Dockerfile)")
    p.add_argument("--host", required=True, help="the hub's public host name, e.g. hub.example.org")
    p.add_argument("--tls", choices=("letsencrypt", "secret", "ingress"), default="letsencrypt")
    p.add_argument("--contact-email", help="Let's Encrypt's contact (with --tls letsencrypt)")
    p.add_argument("--tls-secret", help="a kubernetes.io/tls Secret for the host (with --tls secret or ingress)")
    p.add_argument("--ingress-class", help="the ingress class (with --tls ingress), e.g. nginx")
    p.add_argument(
        "--authenticator",
        required=True,
        choices=AUTHENTICATORS,
        help="how people log in (its client id and secret go in a separate values file)",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--exchange-nfs", help="the nbgrader exchange: an NFS export, SERVER:/PATH (mode 1777, root_squash)"
    )
    where.add_argument(
        "--exchange-pvc", help="the nbgrader exchange: an existing ReadWriteMany claim in the hub's namespace"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        text = dump(build_values(args))
    except SetupError as e:
        print(f"values.py: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
