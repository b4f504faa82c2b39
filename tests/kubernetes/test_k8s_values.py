"""Helm values for Zero to JupyterHub from the users CSV (deploy/kubernetes/values.py), checked without a
cluster: against the chart's schema, through the chart's own hub configuration, and by KubeSpawner (the
version the chart's hub runs) building each person's pod specification (issue 20, point 7)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from kubernetes_asyncio.client import ApiClient
from kubespawner import KubeSpawner

from tests.kubernetes.chart import (
    HUB,
    chart_files,
    helm_merge,
    hub_user,
    load_hub_config,
    load_yaml,
    offline_kubeconfig,
    recorded_sha256,
    run,
    sha256,
)
from tests.paths import ROOT

VALUES_PY = ROOT / "deploy" / "kubernetes" / "values.py"
USERS = "username,role,full_name\nt.jones,trainer,Tess Jones\na.khan,trainee,Amir Khan\nb.okafor,trainee,Bola\n"


def _values_module():
    spec = importlib.util.spec_from_file_location("course_k8s_values", VALUES_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


values_py = _values_module()


def generate(tmp_path, *extra: str, users: str = USERS, settings: dict | None = None) -> dict:
    """Run the generator as an administrator would, and read the YAML it prints."""
    (tmp_path / "users.csv").write_text(users, encoding="utf-8")
    args = ["--users", str(tmp_path / "users.csv"), "--uids", str(tmp_path / "uids.json")]
    if settings is not None:
        (tmp_path / "course-hub.json").write_text(json.dumps(settings), encoding="utf-8")
        args += ["--settings", str(tmp_path / "course-hub.json")]
    args += ["--image", "registry.example/course:3f2a9c1", "--host", "hub.example.org", "--authenticator", "azuread"]
    if not any(a.startswith("--exchange") for a in extra):
        args += ["--exchange-nfs", "nfs.example.org:/exports/course-exchange"]
    if not any(a.startswith("--tls") for a in extra):
        args += ["--contact-email", "it@example.org"]
    out = subprocess.run([sys.executable, str(VALUES_PY), *args, *extra], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


@pytest.fixture
def values(tmp_path):
    return generate(tmp_path, settings={"mem_limit": "1500M", "hub_admins": ["it.admin"]})


@pytest.fixture
def hub_config(values, tmp_path, monkeypatch):
    return load_hub_config(values, tmp_path, monkeypatch)


async def _pod(config, name: str, options: dict | None = None):
    """The spawner and its pod as KubeSpawner would send it to the API server (JSON, Kubernetes' names)."""
    spawner = KubeSpawner(config=config, user=hub_user(name), hub=HUB)
    spawner.user_options = options or {}
    await spawner.load_user_options()
    manifest = await spawner.get_pod_manifest()
    async with ApiClient() as api:
        return spawner, api.sanitize_for_serialization(manifest)


def pod(config, tmp_path, monkeypatch, name, options=None):
    offline_kubeconfig(tmp_path, monkeypatch)
    return run(_pod(config, name, options))


def _container(manifest: dict) -> dict:
    (notebook,) = [c for c in manifest["spec"]["containers"] if c["name"] == "notebook"]
    return notebook


def _env(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container["env"]}


# --------------------------------------------------------------------------------------------- the chart


def test_vendored_chart_files_are_the_ones_source_md_records():
    files = chart_files()
    assert {name: sha256(data) for name, data in files.items()} == recorded_sha256()
    assert load_yaml("jupyterhub/Chart.yaml")["appVersion"] == values_py.CHART_JUPYTERHUB
    hub_reqs = files["images/hub/requirements.txt"].decode()
    assert f"\njupyterhub=={values_py.CHART_JUPYTERHUB}\n" in hub_reqs
    assert f"\njupyterhub-kubespawner=={values_py.CHART_KUBESPAWNER}\n" in hub_reqs


def test_tests_build_pods_with_the_kubespawner_the_chart_hub_runs():
    import kubespawner

    assert kubespawner.__version__ == values_py.CHART_KUBESPAWNER
    assert f"jupyterhub-kubespawner=={values_py.CHART_KUBESPAWNER}" in (ROOT / "deploy" / "constraints.txt").read_text()


def test_generated_values_validate_against_the_chart_schema(values):
    schema = load_yaml("jupyterhub/values.schema.yaml")
    merged = helm_merge(load_yaml("jupyterhub/values.yaml"), values)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(merged)]
    assert errors == []


def test_schema_check_would_catch_a_misplaced_value(values):
    schema = load_yaml("jupyterhub/values.schema.yaml")
    values["singleuser"]["memory"]["limt"] = "1G"
    merged = helm_merge(load_yaml("jupyterhub/values.yaml"), values)
    assert any("limt" in e.message for e in jsonschema.Draft7Validator(schema).iter_errors(merged))


@pytest.mark.parametrize(
    ("tls", "expect"),
    [
        (["--tls", "secret", "--tls-secret", "hub-tls"], {"proxy.https.type": "secret"}),
        (["--tls", "ingress", "--tls-secret", "hub-tls", "--ingress-class", "nginx"], {"ingress.enabled": True}),
    ],
)
def test_every_tls_choice_validates_against_the_chart_schema(tmp_path, tls, expect):
    values = generate(tmp_path, *tls)
    merged = helm_merge(load_yaml("jupyterhub/values.yaml"), values)
    assert list(jsonschema.Draft7Validator(load_yaml("jupyterhub/values.schema.yaml")).iter_errors(merged)) == []
    for path, want in expect.items():
        node = values
        for part in path.split("."):
            node = node[part]
        assert node == want
    if "ingress" in values:
        assert values["ingress"]["tls"] == [{"hosts": ["hub.example.org"], "secretName": "hub-tls"}]
        assert values["proxy"]["service"]["type"] == "ClusterIP"


# ----------------------------------------------------------------------------------------- the hub's config


def test_chart_hub_config_lets_in_only_the_csv_and_makes_no_trainer_an_admin(hub_config):
    c = hub_config
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert c.JupyterHub.authenticator_class == "azuread"
    assert c.Authenticator.allowed_users == ["a.khan", "b.okafor", "t.jones"]
    assert c.Authenticator.allow_all is False
    assert c.Authenticator.admin_users == ["it.admin"]


def test_chart_hub_config_runs_the_idle_culler_after_30_minutes(hub_config):
    (culler,) = [s for s in hub_config.JupyterHub.services if s["name"] == "jupyterhub-idle-culler"]
    assert "--timeout=1800" in culler["command"] and "--cull-every=300" in culler["command"]


def test_chart_hub_config_sets_image_limits_storage_and_the_exchange(hub_config):
    k = hub_config.KubeSpawner
    assert k.image == "registry.example/course:3f2a9c1"
    assert (k.mem_limit, k.mem_guarantee, k.cpu_limit, k.cpu_guarantee) == ("1500M", "300M", 1.0, 0.05)
    assert k.storage_capacity == "1Gi" and k.storage_pvc_ensure is True
    assert k.volumes["course-exchange"]["nfs"] == {"server": "nfs.example.org", "path": "/exports/course-exchange"}
    assert callable(k.uid) and callable(k.profile_list)


# ------------------------------------------------------------------------------------------ the pods


def test_trainee_pod_runs_the_course_image_with_limits_own_home_exchange_and_no_trainer_tools(
    hub_config, tmp_path, monkeypatch
):
    spawner, manifest = pod(hub_config, tmp_path, monkeypatch, "a.khan")
    nb = _container(manifest)
    assert nb["image"] == "registry.example/course:3f2a9c1"
    assert nb["resources"]["limits"] == {"memory": 1500 * 2**20, "cpu": 1.0}
    assert nb["resources"]["requests"] == {"memory": 300 * 2**20, "cpu": 0.05}
    mounts = {m["mountPath"]: m for m in nb["volumeMounts"]}
    volumes = {v["name"]: v for v in manifest["spec"]["volumes"]}
    exchange = volumes[mounts["/srv/nbgrader/exchange"]["name"]]
    assert exchange["nfs"] == {"server": "nfs.example.org", "path": "/exports/course-exchange"}
    home = volumes[mounts["/home/jovyan"]["name"]]
    assert home["persistentVolumeClaim"]["claimName"] == spawner.pvc_name
    assert spawner.pvc_name.startswith("claim-a-khan-")  # one volume per person (KubeSpawner's safe slug)
    env = _env(nb)
    assert env["COURSE_ROLE"] == "trainee"
    assert env["JUPYTER_CONFIG_PATH"] == "/opt/course-hub/etc/jupyter-trainee"  # formgrader off (setup.py)
    assert nb["args"][:4] == ["/bin/sh", "-c", 'umask 077 && exec "$0" "$@"', "jupyterhub-singleuser"]
    assert "--ContentsManager.pre_save_hook=course.apps.save_hook.strip_widget_views" in nb["args"]
    assert not nb.get("lifecycle")  # the trainer's start hook is the trainer's alone


def test_each_person_runs_as_their_own_uid_and_group_as_the_exchange_needs(hub_config, tmp_path, monkeypatch):
    uids = json.loads((tmp_path / "uids.json").read_text())
    _, trainee = pod(hub_config, tmp_path, monkeypatch, "a.khan")
    _, other = pod(hub_config, tmp_path, monkeypatch, "b.okafor")
    _, trainer = pod(hub_config, tmp_path, monkeypatch, "t.jones")
    assert _container(trainee)["securityContext"] == {
        "runAsUser": uids["a.khan"],
        "runAsGroup": 100,
        "allowPrivilegeEscalation": False,
    }
    assert _container(other)["securityContext"]["runAsUser"] == uids["b.okafor"] != uids["a.khan"]
    assert _container(trainer)["securityContext"]["runAsUser"] == uids["t.jones"]
    assert trainee["spec"]["securityContext"] == {"fsGroup": 100, "supplementalGroups": [values_py.TRAINEES_GID]}
    assert trainer["spec"]["securityContext"]["supplementalGroups"] == [values_py.GRADERS_GID]


def test_trainer_pod_has_the_trainer_profile_tools_more_memory_and_makes_the_course_folders(
    hub_config, tmp_path, monkeypatch
):
    _, manifest = pod(hub_config, tmp_path, monkeypatch, "t.jones")
    nb = _container(manifest)
    env = _env(nb)
    assert env["COURSE_ROLE"] == "trainer" and "JUPYTER_CONFIG_PATH" not in env
    assert nb["resources"]["limits"] == {"memory": 2 * 2**30, "cpu": 2.0}
    start = nb["lifecycle"]["postStart"]["exec"]["command"]
    assert start[:2] == ["/bin/sh", "-c"]
    assert "~/course/nbgrader_config.py" in start[2]
    assert "/srv/nbgrader/exchange/safeguarding-case-review/inbound" in start[2] and "chmod 3733" in start[2]
    assert {m["mountPath"] for m in nb["volumeMounts"]} >= {"/home/jovyan", "/srv/nbgrader/exchange"}


def test_a_trainee_cannot_choose_the_trainer_profile(hub_config, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="No such profile: trainer"):
        pod(hub_config, tmp_path, monkeypatch, "a.khan", {"profile": "trainer"})


def test_trainees_see_no_options_form_and_the_trainer_sees_only_the_trainer_profile(hub_config, tmp_path, monkeypatch):
    offline_kubeconfig(tmp_path, monkeypatch)

    async def forms():
        trainee = KubeSpawner(config=hub_config, user=hub_user("a.khan"), hub=HUB)
        trainer = KubeSpawner(config=hub_config, user=hub_user("t.jones"), hub=HUB)
        return await trainee.get_options_form(), await trainer.get_options_form()

    trainee_form, trainer_form = run(forms())
    assert trainee_form == ""
    assert 'value="trainer"' in trainer_form and 'value="trainee"' not in trainer_form


def test_someone_not_in_the_csv_gets_no_pod(hub_config, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="not in the course's users CSV"):
        pod(hub_config, tmp_path, monkeypatch, "mallory")


def test_pods_name_every_person_in_etc_passwd_and_the_graders_group(values):
    files = values["singleuser"]["extraFiles"]
    assert files["passwd"]["mountPath"] == "/etc/passwd" and files["group"]["mountPath"] == "/etc/group"
    uids = values["custom"]["course"]["people"]
    for name, person in uids.items():
        assert f"{name}:x:{person['uid']}:100:" in files["passwd"]["stringData"]
    assert f"course-graders:x:{values_py.GRADERS_GID}:t.jones\n" in files["group"]["stringData"]


# ------------------------------------------------------------------------------------------- the generator


def test_uids_are_kept_between_runs_and_never_reused(tmp_path):
    first = generate(tmp_path)["custom"]["course"]["people"]
    fewer = "username,role,full_name\nt.jones,trainer,T\nb.okafor,trainee,B\nz.new,trainee,Z\n"
    second = generate(tmp_path, users=fewer)["custom"]["course"]["people"]
    assert second["t.jones"]["uid"] == first["t.jones"]["uid"]
    assert second["b.okafor"]["uid"] == first["b.okafor"]["uid"]
    assert second["z.new"]["uid"] not in {p["uid"] for p in first.values()}  # a.khan's uid is not handed on
    assert "a.khan" not in second


@pytest.mark.parametrize(
    ("users", "extra", "message"),
    [
        ("username,role\nAmir Khan,trainee\n", [], "is not a valid system user name"),
        ("username,role\na.khan,trainee\n", [], "no trainer"),
        (USERS, ["--tls", "secret"], "--tls secret needs --tls-secret"),
        (USERS, ["--exchange-nfs", "just-a-name"], "give SERVER:/EXPORTED/PATH"),
    ],
)
def test_generator_refuses_bad_input_and_says_what_to_fix(tmp_path, users, extra, message):
    (tmp_path / "users.csv").write_text(users, encoding="utf-8")
    argv = ["--users", str(tmp_path / "users.csv"), "--image", "r/course:1", "--host", "h.example.org"]
    argv += [
        "--authenticator",
        "azuread",
        "--contact-email",
        "a@example.org",
        "--uids",
        str(tmp_path / "u.json"),
        *extra,
    ]
    if "--exchange-nfs" not in extra:
        argv += ["--exchange-pvc", "course-exchange"]
    out = subprocess.run([sys.executable, str(VALUES_PY), *argv], capture_output=True, text=True)
    assert out.returncode != 0 and message in out.stderr
    assert not (tmp_path / "u.json").exists()  # nobody was given a uid by a run that wrote no values


def test_generator_offers_no_any_password_authenticator():
    assert "dummy" not in values_py.AUTHENTICATORS
    with pytest.raises(SystemExit):
        values_py.build_parser().parse_args(
            ["--users", "u.csv", "--image", "r/c:1", "--host", "h", "--authenticator", "dummy", "--exchange-pvc", "x"]
        )


# ------------------------------------------------------------------------------------------------ the docs


def _k8s_section() -> str:
    return (ROOT / "docs" / "kubernetes.md").read_text(encoding="utf-8")


def _command(section: str, program: str) -> list[str]:
    """The documented command that runs `program`, continuation lines joined, $(...) filled with a sample."""
    import shlex

    blocks: list[list[str]] = []
    inside = False
    for line in section.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
            blocks.append([])
        elif inside:
            blocks[-1].append(line)
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", "\n".join(block))
        for line in joined.splitlines():
            if program in line:
                line = re.sub(r"\$\([^)]*\)", "3f2a9c1", line.split(" > ")[0])
                return shlex.split(line)
    raise AssertionError(f"docs/kubernetes.md shows no {program} command")


def test_documented_values_command_runs_as_written(tmp_path):
    argv = _command(_k8s_section(), "deploy/kubernetes/values.py")
    assert argv[:2] == ["python3", "deploy/kubernetes/values.py"]
    args = argv[2:]
    args[args.index("--users") + 1] = str(ROOT / "deploy" / "jupyterhub" / "users.example.csv")
    args[args.index("--uids") + 1] = str(tmp_path / "uids.json")
    (tmp_path / "course-hub.json").write_text("{}", encoding="utf-8")
    args[args.index("--settings") + 1] = str(tmp_path / "course-hub.json")
    out = subprocess.run([sys.executable, str(VALUES_PY), *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert yaml.safe_load(out.stdout)["proxy"]["https"]["hosts"] == ["hub.example.org"]


def test_documented_chart_version_is_the_one_the_values_and_tests_are_for():
    section = _k8s_section()
    helm = _command(section, "helm upgrade --install")
    assert helm[helm.index("--version") + 1] == values_py.CHART_VERSION
    assert f"Zero to JupyterHub Helm chart {values_py.CHART_VERSION}" in section
    assert (
        f"JupyterHub {values_py.CHART_JUPYTERHUB}" in section
        and f"KubeSpawner {values_py.CHART_KUBESPAWNER}" in section
    )
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    pointer = deploy[deploy.index("## Zero to JupyterHub on Kubernetes") :]
    assert f"Helm chart {values_py.CHART_VERSION}" in pointer and "docs/kubernetes.md" in pointer
    build = _command(section, "docker build")
    assert build[build.index("-f") + 1] == "deploy/kubernetes/Dockerfile" and build[-1] == "."


@pytest.mark.skipif(os.geteuid() != 0, reason="runs the hook as another uid, as the trainer's pod does: needs root")
def test_trainer_start_hook_makes_course_and_exchange_folders_as_init_course_does_and_keeps_edits():
    """The trainer's postStart command, run by /bin/sh as an unprivileged uid in the graders group (as in the pod),
    over a 1777 exchange: ~/course gets the image's settings, the course's exchange folders get init-course's
    modes, and a second start changes nothing the trainer edited."""
    base = Path(tempfile.mkdtemp(prefix="course-k8s-hook-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        prefix, home, exchange = base / "opt", base / "home", base / "exchange"
        trainer_files = prefix / "etc" / "trainer"
        trainer_files.mkdir(parents=True)
        (trainer_files / "course_nbgrader_config.py").write_text("# course settings\n", encoding="utf-8")
        (trainer_files / "user_nbgrader_config.py").write_text("# user settings\n", encoding="utf-8")
        for path in (base / "opt", prefix / "etc", trainer_files):
            os.chmod(path, 0o755)
        home.mkdir()
        os.chown(home, 20003, 100)
        exchange.mkdir()
        os.chmod(exchange, 0o1777)
        settings = values_py.DEFAULTS | {"exchange_root": str(exchange)}
        script = values_py.trainer_start(settings).replace(values_py.PREFIX, str(prefix))

        def start():
            subprocess.run(
                ["/bin/sh", "-c", script], env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, check=True,
                user=20003, group=100, extra_groups=[values_py.GRADERS_GID], timeout=30,
            )  # fmt: skip

        start()
        course = exchange / values_py.DEFAULTS["course_id"]
        modes = {p.name: (p.stat().st_mode & 0o7777, p.stat().st_uid, p.stat().st_gid) for p in course.iterdir()}
        assert modes == {
            "outbound": (0o755, 20003, 100),
            "inbound": (0o3733, 20003, values_py.GRADERS_GID),
            "feedback": (0o711, 20003, 100),
        }
        config = home / "course" / "nbgrader_config.py"
        assert config.read_text() == "# course settings\n" and config.stat().st_mode & 0o777 == 0o600
        assert (home / ".jupyter" / "nbgrader_config.py").read_text() == "# user settings\n"
        config.write_text("# edited by the trainer\n")
        start()
        assert config.read_text() == "# edited by the trainer\n"
    finally:
        shutil.rmtree(base)
