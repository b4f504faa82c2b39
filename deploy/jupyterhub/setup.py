#!/usr/bin/python3
"""Set up one machine to serve the course with JupyterHub (LocalProcessSpawner, one system user per person).

Run as root with Debian's Python (standard library only):

    /usr/bin/python3 deploy/jupyterhub/setup.py install            # venv, course files, exchange, config
    /usr/bin/python3 deploy/jupyterhub/setup.py add-users users.csv --passwords /root/passwords.csv
    /usr/bin/python3 deploy/jupyterhub/setup.py init-course --trainer t.jones
    /opt/course-hub/venv/bin/jupyterhub -f /opt/course-hub/etc/jupyterhub_config.py

Everything it installs lives under --prefix (default /opt/course-hub) and the exchange folder (default
/srv/nbgrader/exchange), with two small files in /etc (the trainers' PATH, and sshd's refusal of trainees
when sshd is installed); `remove-users` undoes add-users, `uninstall` the rest. Re-running `install`
(`upgrade`) keeps what the settings file already says (the options given win; keys it does not manage, e.g.
hub_admins, are kept). The hub listens on 127.0.0.1 unless given a certificate (--ssl-cert, --ssl-key) or
--insecure-http (listening.py). `backup` and `restore` carry everything over to a fresh install
(setup_ops.py). See docs/deploy.md and docs/operations.md.
"""

from __future__ import annotations

import argparse
import grp
import hashlib
import json
import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # its modules, beside it
import setup_ops  # noqa: E402
import setup_system  # noqa: E402
import setup_users  # noqa: E402
from listening import ListenError, insecure_warning, listen_settings  # noqa: E402
from setup_base import (  # noqa: E402
    SetupError,
    ensure_group,
    existing_settings,
    load_settings,
    log,
    run,
    settings_path,
    write_file,
)
from setup_users import add_users, remove_users  # noqa: E402

sys.path.remove(str(HERE))
# The users CSV rule and the first-passwords file, by the names the hub tests load setup.py for.
USERNAME, read_users, open_passwords = setup_users.USERNAME, setup_users.read_users, setup_users.open_passwords
COURSE_ID = "safeguarding-case-review"
DEFAULT_PREFIX = "/opt/course-hub"
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
# Defaults an environment may change (a second hub on one machine; the deploy test runs docs/deploy.md with
# them): COURSE_HUB_PREFIX, COURSE_HUB_EXCHANGE, COURSE_HUB_GROUP_PREFIX, COURSE_HUB_BIND_URL. An option given,
# or what the settings file already says, wins over them.
ENV = os.environ
# What trainees' servers run without: the trainer tools (they would only show the trainee's own empty course).
TRAINER_ONLY_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.create_assignment",
    "nbgrader.server_extensions.course_list",
)
TRAINER_ONLY_LAB_EXTENSIONS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)


def install_choices(args: argparse.Namespace, old: dict) -> dict:
    """What this install uses: an option given on the command line, else what the earlier install (or the
    administrator) left in the settings, else the default. Checked before anything is changed."""

    def pick(arg, key, default):
        return arg if arg is not None else old.get(key, default)

    group_prefix = args.group_prefix or (None if old else ENV.get("COURSE_HUB_GROUP_PREFIX"))
    chosen = {
        "course_id": pick(args.course_id, "course_id", COURSE_ID),
        "exchange_root": pick(args.exchange, "exchange_root", ENV.get("COURSE_HUB_EXCHANGE", DEFAULT_EXCHANGE)),
        "graders_group": f"{group_prefix}-graders" if group_prefix else old.get("graders_group", "course-graders"),
        "trainees_group": f"{group_prefix}-trainees" if group_prefix else old.get("trainees_group", "course-trainees"),
        "authenticator": pick(args.authenticator, "authenticator", "pam"),
        "python": pick(args.python, "python", "/usr/bin/python3"),
        # A case pack or notebooks given once (not the repository's) stay chosen on upgrade.
        "data_source": pick(args.data, "data_source", None),
        "notebooks_source": pick(args.notebooks, "notebooks_source", None),
    }
    insecure = args.insecure_http or (args.bind_url is None and old.get("insecure_http", False))
    try:
        chosen |= listen_settings(
            pick(args.bind_url, "bind_url", ENV.get("COURSE_HUB_BIND_URL")),
            pick(args.ssl_cert, "ssl_cert", ""),
            pick(args.ssl_key, "ssl_key", ""),
            insecure,
            chosen["authenticator"],
        )
    except ListenError as e:
        raise SetupError(f"not installing: {e}") from None
    return chosen


# --------------------------------------------------------------------------- install


def course_package_copy(repo: Path, dest: Path) -> Path:
    """The files pip needs to build the course package, copied so the working tree stays clean."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(repo / name, dest / name)
    shutil.copytree(repo / "course", dest / "course", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def deps_key(repo: Path) -> str:
    """Hash of what decides the dependencies of the venv: pyproject.toml, the pinned versions (when the
    repository has them) and the Python that builds it."""
    h = hashlib.sha256((repo / "pyproject.toml").read_bytes())
    for pins in constraint_args(repo)[1:]:
        h.update(Path(pins).read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()[:16]


def constraint_args(repo: Path) -> list[str]:
    """pip's `-c deploy/constraints.txt` when the checkout has it: the exact versions make and CI test with."""
    pins = repo / "deploy" / "constraints.txt"
    return ["-c", str(pins)] if pins.exists() else []


def install_proxy(prefix: Path) -> str:
    """configurable-http-proxy with npm, every package at the version of deploy/jupyterhub/proxy's lockfile."""
    dest = prefix / "proxy"
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(HERE / "proxy" / name, dest / name)
    run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--prefix", str(dest)])
    return str(dest / "node_modules" / ".bin" / "configurable-http-proxy")


def build_venv(venv: Path, repo: Path, python: str = "/usr/bin/python3") -> None:
    """Create (or refresh) the venv every user's server runs from.

    The dependencies are installed once per pyproject.toml (stamp file); the course package itself is
    reinstalled every time, without dependencies, so that the servers run the course code of this checkout.
    """
    stamp = venv / ".course-deps"
    key = deps_key(repo)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    pinned = constraint_args(repo)
    with tempfile.TemporaryDirectory(prefix="course-build-") as tmp:
        src = course_package_copy(repo, Path(tmp))
        if not (venv / "bin" / "python").exists() or not stamp.exists() or stamp.read_text().strip() != key:
            log(f"building {venv} from {python} (dependencies from PyPI; about 30 s with a warm cache)")
            if venv.exists():
                shutil.rmtree(venv)
            run([python, "-m", "venv", str(venv)])
            run([*pip, "install", *pinned, "--upgrade", "pip", "setuptools>=68", "wheel"])
            run([*pip, "install", *pinned, f"{src}[hub]"])
            stamp.write_text(key + "\n")
        else:
            log(f"reusing {venv} (dependencies unchanged); reinstalling the course package")
        run([*pip, "install", "--no-deps", "--no-build-isolation", "--force-reinstall", str(src)])
    # Every user must be able to read and run it (umask of the caller notwithstanding).
    run(["chmod", "-R", "a+rX", str(venv)])


def global_nbgrader_config(settings: dict) -> str:
    return f"""# nbgrader settings for everyone on this server (written by deploy/jupyterhub/setup.py; do not edit here).
# Trainees read this one; the trainer's course folder has its own nbgrader_config.py that loads after it.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {settings["course_id"]!r}
c.Exchange.root = {settings["exchange_root"]!r}
# Our exchange classes: submissions readable only by the course's graders group (nbgrader leaves them
# world-readable behind a random name), no submitting in another trainee's name, and collect skips any
# submission whose owner is not the trainee it names. See docs/deploy.md, "What the exchange allows".
c.ExchangeFactory.submit = "course.grading.exchange.ExchangeSubmit"
c.ExchangeFactory.collect = "course.grading.exchange.ExchangeCollect"
c.Exchange.path_includes_course = False
"""


def trainer_course_config(settings: dict) -> str:
    shipped = Path(settings["share"]) / "grading" / "nbgrader_config.py"
    return (
        shipped.read_text(encoding="utf-8")
        + f"""

# --- shared server (appended by deploy/jupyterhub/setup.py) ---------------------------------------------
# The exchange is the server's shared one, not a folder inside this course.
c.Exchange.root = {settings["exchange_root"]!r}
c.ExchangeFactory.submit = "course.grading.exchange.ExchangeSubmit"
c.ExchangeFactory.collect = "course.grading.exchange.ExchangeCollect"
c.Exchange.path_includes_course = False
"""
    )


def trainer_user_config(course_dir: Path) -> str:
    return f"""# The trainer's nbgrader settings (written by deploy/jupyterhub/setup.py): formgrader and the nbgrader
# commands use the course folder {course_dir}, wherever they are started from.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {str(course_dir)!r}
load_subconfig("nbgrader_config.py", path={str(course_dir)!r})  # noqa: F821
"""


def install(args: argparse.Namespace) -> dict:
    prefix = Path(args.prefix)
    old = existing_settings(prefix)
    chosen = install_choices(args, old)
    if os.geteuid() != 0:
        raise SetupError("run setup.py as root (it creates system users, groups and the exchange folder)")
    repo = Path(args.repo).resolve()
    kept_proxy = old.get("proxy_command") if old.get("proxy_command") and os.path.exists(old["proxy_command"]) else None
    proxy = args.proxy or kept_proxy or shutil.which("configurable-http-proxy")
    node = None
    if not proxy or setup_system.proxy_engines(proxy):  # a proxy that runs on Node (not --proxy /bin/true)
        node = setup_system.check_node(need_npm=not proxy)  # before anything is changed
        log(f"Node {node} (the proxy needs {setup_system.NODE_MIN_MAJOR} or newer)")
    for sub in ("etc", "share", "state"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(prefix, 0o755)
    os.chmod(prefix / "etc", 0o755)
    os.chmod(prefix / "share", 0o755)
    os.chmod(prefix / "state", 0o700)  # hub database and cookie secret: root only

    venv = Path(args.venv or old.get("venv") or prefix / "venv")
    build_venv(venv, repo, python=chosen["python"])

    share = prefix / "share"
    sources = {
        "data": Path(chosen["data_source"] or repo / "data"),
        "notebooks": Path(chosen["notebooks_source"] or repo / "notebooks"),
    }
    for name, src in sources.items():
        if (share / name).exists():
            shutil.rmtree(share / name)
        shutil.copytree(
            src,
            share / name,
            ignore=shutil.ignore_patterns("__pycache__", "answers.json", "answers.json.*", ".ipynb_checkpoints"),
        )
    (share / "grading").mkdir(exist_ok=True)
    shutil.copy2(repo / "grading" / "nbgrader_config.py", share / "grading" / "nbgrader_config.py")
    run(["chmod", "-R", "a+rX,go-w", str(share)])

    if not proxy:
        log("installing configurable-http-proxy from npm (the versions in deploy/jupyterhub/proxy/package-lock.json)")
        proxy = install_proxy(prefix)
    engines = setup_system.proxy_engines(proxy)
    if engines:
        log(f"{proxy} declares Node {engines}; this machine has {node or setup_system.check_node(False)}")

    graders, trainees = chosen["graders_group"], chosen["trainees_group"]
    ensure_group(graders)
    ensure_group(trainees)

    exchange = Path(chosen["exchange_root"])
    exchange.mkdir(parents=True, exist_ok=True)
    # 1777 like /tmp: nbgrader needs the root writable by all (it checks for 0777 and keeps the sticky bit);
    # sticky stops one user renaming or deleting another's folders.
    os.chmod(exchange, 0o1777)

    # Keys this install does not manage (hub_admins, mem_limit, anything an administrator added) are kept.
    settings = old | {
        "course_id": chosen["course_id"],
        "prefix": str(prefix),
        "venv": str(venv),
        "share": str(share),
        "data_dir": str(share / "data"),
        "notebooks_dir": str(share / "notebooks"),
        "exchange_root": str(exchange),
        "graders_group": graders,
        "trainees_group": trainees,
        "users_csv": str(prefix / "etc" / "users.csv"),
        "state_dir": str(prefix / "state"),
        "trainee_config_dir": str(prefix / "etc" / "jupyter-trainee"),
        "proxy_command": proxy,
        "authenticator": chosen["authenticator"],
        "python": chosen["python"],
        "data_source": chosen["data_source"],
        "notebooks_source": chosen["notebooks_source"],
        "bind_url": chosen["bind_url"],
        "ssl_cert": chosen["ssl_cert"],
        "ssl_key": chosen["ssl_key"],
        "insecure_http": chosen["insecure_http"],
    }
    write_file(settings_path(prefix), json.dumps(settings, indent=2) + "\n")
    write_file(venv / "etc" / "jupyter" / "nbgrader_config.py", global_nbgrader_config(settings))

    tdir = Path(settings["trainee_config_dir"])
    # Trainees' JupyterLab settings (the arrow keys on the course's option buttons and drop-downs) and the
    # trainee pages (Voila's settings, and its templates under tdir/share/jupyter, which the hub puts on
    # trainees' JUPYTER_PATH), written by the course package in the venv: course/apps/lab.py and pages.py say why.
    make = (
        "import json, sys, pathlib; from course.apps.lab import write_trainee_lab_settings as w; "
        "from course.apps.pages import pages_config as p; "
        "print(json.dumps({**w(sys.argv[1]), **p(pathlib.Path(sys.argv[1]))}))"
    )
    lab = json.loads(run([str(venv / "bin" / "python"), "-c", make, str(tdir)]).stdout)
    server = {
        # The course home (course/apps/home_page.py), the page the hub opens for a trainee: no kernel needed.
        "jpserver_extensions": {**dict.fromkeys(TRAINER_ONLY_SERVER_EXTENSIONS, False), "course.apps.home_page": True},
        # Trainees' login shell is nologin (no shell outside the hub); a terminal in their own server, where
        # their kernels already run their code, is still a shell (e.g. for passwd).
        "terminado_settings": {"shell_command": ["/bin/bash", "-l"]},
    }
    write_file(tdir / "jupyter_server_config.json", json.dumps({"ServerApp": server, **lab}, indent=2) + "\n")
    write_file(tdir / "jupyter_server_config.py", setup_system.TRAINEE_SERVER_CONFIG)
    disabled = {"disabledExtensions": dict.fromkeys(TRAINER_ONLY_LAB_EXTENSIONS, True)}
    write_file(tdir / "labconfig" / "page_config.json", json.dumps(disabled, indent=2) + "\n")
    run(["chmod", "-R", "a+rX,go-w", str(tdir)])  # read by every trainee's server, whatever root's umask

    setup_system.write_trainer_lab_settings(venv)
    setup_system.write_trainer_path(settings)
    setup_system.write_ssh_deny(settings)
    shutil.copy2(HERE / "jupyterhub_config.py", prefix / "etc" / "jupyterhub_config.py")
    shutil.copy2(HERE / "listening.py", prefix / "etc" / "listening.py")
    users = prefix / "etc" / "users.csv"
    if not users.exists():
        write_file(users, "username,role,full_name\n", 0o644)
    write_file(prefix / "etc" / "course-hub.service", SYSTEMD_UNIT.format(prefix=prefix, venv=venv))
    log(f"installed under {prefix}; exchange {exchange}; proxy {proxy}; the hub will listen on {settings['bind_url']}")
    if settings["insecure_http"]:
        log(insecure_warning(settings["bind_url"]))
    log(
        f"start with: {venv}/bin/jupyterhub -f {prefix}/etc/jupyterhub_config.py"
        f"  (or install {prefix}/etc/course-hub.service as a systemd unit)"
    )
    return settings


SYSTEMD_UNIT = """[Unit]
Description=JupyterHub for the safeguarding course
After=network.target

[Service]
User=root
WorkingDirectory={prefix}/state
Environment=COURSE_HUB_SETTINGS={prefix}/etc/course-hub.json
ExecStart={venv}/bin/jupyterhub -f {prefix}/etc/jupyterhub_config.py
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


# --------------------------------------------------------------------------- the trainer's course


def init_course(args: argparse.Namespace) -> Path:
    settings = load_settings(args.prefix)
    try:
        pw = pwd.getpwnam(args.trainer)
    except KeyError:
        raise SetupError(f"{args.trainer}: no such user. Add them with `setup.py add-users` (role trainer).") from None
    graders_gid = grp.getgrnam(settings["graders_group"]).gr_gid
    home = Path(pw.pw_dir)
    course = home / "course"
    course.mkdir(exist_ok=True)
    write_file(course / "nbgrader_config.py", trainer_course_config(settings), 0o600)
    write_file(home / ".jupyter" / "nbgrader_config.py", trainer_user_config(course), 0o600)
    for path in (course, course / "nbgrader_config.py", home / ".jupyter", home / ".jupyter" / "nbgrader_config.py"):
        os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(course, 0o700)
    os.chmod(home, 0o700)

    # The course's folders in the exchange, owned by the trainer, made here so their modes are ours:
    #   outbound 0755  everyone reads released modules
    #   inbound  3733  anyone may drop a submission; nobody but the trainer can list it; sticky: nobody
    #                  renames or deletes another's; setgid: submissions take the graders group, which
    #                  course.grading.exchange keeps as the only group able to read them
    #   feedback 0711  trainees read only their own feedback file, by its hashed name
    root = Path(settings["exchange_root"]) / settings["course_id"]
    for path, mode, gid in (
        (root, 0o755, pw.pw_gid),
        (root / "outbound", 0o755, pw.pw_gid),
        (root / "inbound", 0o3733, graders_gid),
        (root / "feedback", 0o711, pw.pw_gid),
    ):
        path.mkdir(exist_ok=True)
        os.chown(path, pw.pw_uid, gid)
        os.chmod(path, mode)
    log(f"course folder {course} and exchange {root} ready for {args.trainer}")
    return course


def upgrade(args: argparse.Namespace) -> dict:
    """install with no options: every choice comes from the settings file, nothing the administrator set
    changes. The hub keeps running the old code until it is restarted (which ends trainees' sessions)."""
    if not existing_settings(args.prefix):
        raise SetupError(f"{settings_path(args.prefix)}: not found; this is a first install: run `install`")
    again = build_parser().parse_args(["--prefix", str(args.prefix), "install", "--repo", args.repo])
    settings = install(again)
    log("upgraded; restart the hub when no session is running (a restart ends every trainee's open session)")
    return settings


def status(args: argparse.Namespace) -> None:
    print(json.dumps(load_settings(args.prefix), indent=2))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--prefix",
        default=os.environ.get("COURSE_HUB_PREFIX", DEFAULT_PREFIX),
        help=f"where the hub's files live (default {DEFAULT_PREFIX})",
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("install", help="venv, course files, exchange folder, groups, hub configuration")
    s.add_argument("--repo", default=str(REPO), help="the course repository (default: this one)")
    s.add_argument("--venv", help="venv to create or refresh (default PREFIX/venv)")
    s.add_argument("--data", help="the case pack to serve (default: the repository's data/)")
    s.add_argument("--notebooks", help="the module notebooks (default: the repository's notebooks/)")
    s.add_argument(
        "--python",
        help="the Python to build the venv from (default /usr/bin/python3); every user must be able to read it",
    )
    s.add_argument("--exchange", help=f"nbgrader exchange (default {DEFAULT_EXCHANGE})")
    s.add_argument("--course-id", help=f"nbgrader course id (default {COURSE_ID})")
    s.add_argument("--group-prefix", help="groups PREFIX-graders and PREFIX-trainees (default course)")
    s.add_argument("--proxy", help="path of configurable-http-proxy (default: on PATH, else npm install)")
    s.add_argument(
        "--authenticator",
        choices=("pam", "dummy"),
        help="pam: system passwords (default); dummy: any password, for tests only (loopback only)",
    )
    s.add_argument(
        "--bind-url",
        help="where the hub listens (default http://127.0.0.1:8000, or https://:8000 with a certificate)",
    )
    s.add_argument("--ssl-cert", help='TLS certificate (PEM) for the hub; with --ssl-key ("" drops TLS)')
    s.add_argument("--ssl-key", help="its private key, not readable by every user")
    s.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain HTTP off loopback (passwords in clear): only on a network you trust",
    )
    s.set_defaults(func=install)

    s = sub.add_parser("add-users", help="create system users from a CSV (username,role,full_name)")
    s.add_argument("csv")
    s.add_argument(
        "--passwords",
        help="set a random first password for each new user and append them to this "
        "file (mode 0600); needed with the pam authenticator",
    )
    s.set_defaults(func=add_users)

    s = sub.add_parser("remove-users", help="delete the system users listed in a CSV, with their homes")
    s.add_argument("csv")
    s.add_argument("--keep-homes", action="store_true", help="delete the users but keep their home folders")
    s.add_argument(
        "--delete-trainer-courses",
        action="store_true",
        help="also delete the home of a listed trainer, with their course (gradebook, marks): refused without it",
    )
    s.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    s.set_defaults(func=remove_users)

    s = sub.add_parser("init-course", help="the trainer's course folder, nbgrader config and exchange folders")
    s.add_argument("--trainer", required=True)
    s.set_defaults(func=init_course)

    s = sub.add_parser("status", help="print the installed settings")
    s.set_defaults(func=status)

    s = sub.add_parser("upgrade", help="install again from this checkout, keeping every setting (after git pull)")
    s.add_argument("--repo", default=str(REPO), help="the course repository (default: this one)")
    s.set_defaults(func=upgrade)

    setup_ops.add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SetupError as e:
        print(f"setup.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
