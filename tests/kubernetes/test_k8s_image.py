"""The single-user image (deploy/kubernetes/Dockerfile) is built by the one machine's setup.py install: its RUN
lines call the real scripts with arguments they accept, agree with the Helm values, and (root, slow) run for
real into a temporary prefix, as the image build would (issue 20, point 7). No Docker daemon is needed."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.hub.conftest import load_setup_module
from tests.paths import ROOT

DOCKERFILE = ROOT / "deploy" / "kubernetes" / "Dockerfile"
setup = load_setup_module()


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


values_py = _module(ROOT / "deploy" / "kubernetes" / "values.py", "course_k8s_values_img")
image_setup = _module(ROOT / "deploy" / "kubernetes" / "image_setup.py", "course_k8s_image_setup")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [(m.group(1), m.group(2).strip()) for m in re.finditer(r"^([A-Z]+)\s+(.*)$", joined, re.MULTILINE)]


def build_args() -> dict[str, str]:
    return dict(arg.split("=", 1) for op, arg in instructions() if op == "ARG")


def env() -> dict[str, str]:
    (line,) = [arg for op, arg in instructions() if op == "ENV"]
    return dict(part.split("=", 1) for part in shlex.split(line))


def install_steps() -> list[list[str]]:
    """The commands of the RUN that installs the course, split on &&, with the build args filled in."""
    args = build_args()
    (run,) = [arg for op, arg in instructions() if op == "RUN" and "setup.py" in arg]
    run = re.sub(r"^--mount=\S+\s+", "", run)
    filled = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], run)
    return [shlex.split(step) for step in filled.split("&&")]


def test_image_installs_with_the_one_machine_install_and_arguments_it_accepts():
    steps = install_steps()
    (install,) = [s for s in steps if "deploy/jupyterhub/setup.py" in s]
    assert install[0] == "/usr/bin/python3"
    parsed = setup.build_parser().parse_args(install[2:])  # raises SystemExit on an argument it does not know
    assert parsed.func is setup.install and parsed.prefix == values_py.PREFIX
    assert parsed.exchange == values_py.DEFAULTS["exchange_root"]  # where the Helm values mount the exchange
    assert parsed.course_id == values_py.DEFAULTS["course_id"]
    assert os.access(parsed.proxy, os.X_OK)  # skips npm: the chart runs its own proxy
    (extra,) = [s for s in steps if "deploy/kubernetes/image_setup.py" in s]
    assert image_setup.build_parser().parse_args(extra[2:]).prefix == values_py.PREFIX
    assert steps[0] == ["cd", "/srv/course-src"]


def test_image_pins_the_chart_jupyterhub_and_everything_else_as_the_constraints():
    assert build_args()["JUPYTERHUB_VERSION"] == values_py.CHART_JUPYTERHUB
    (sed,) = [s for s in install_steps() if s[0] == "sed"]
    assert sed[-1] == "deploy/constraints.txt"
    pattern, replacement = re.fullmatch(r"s/(.*)/(.*)/", sed[2]).groups()
    text = (ROOT / "deploy" / "constraints.txt").read_text(encoding="utf-8")
    after = re.sub(pattern.replace("^", "(?m)^", 1), replacement, text)
    changed = set(after.splitlines()) ^ set(text.splitlines())
    assert changed == {f"jupyterhub=={values_py.CHART_JUPYTERHUB}", re.search(r"(?m)^jupyterhub==.*$", text)[0]}


def test_image_gives_every_server_what_the_one_machine_hub_gives_it():
    e = env()
    assert e["PATH"].startswith(f"{values_py.PREFIX}/venv/bin:")
    assert e["COURSE_DATA"] == f"{values_py.PREFIX}/share/data"
    assert e["COURSE_NOTEBOOKS"] == f"{values_py.PREFIX}/share/notebooks"
    assert e["HOME"] == values_py.HOME
    user = next(arg for op, arg in instructions() if op == "USER")
    assert not user.startswith("0") and user != "root"
    assert next(arg for op, arg in instructions() if op == "CMD") == '["jupyterhub-singleuser"]'


def _missing_for_image_install() -> str | None:
    if os.geteuid() != 0:
        return "needs root: setup.py install creates groups (CI runs it as root)"
    if not Path("/usr/bin/python3").exists() or not shutil.which("groupadd"):
        return "needs Debian's /usr/bin/python3 and groupadd, as the image has"
    return None


@pytest.mark.slow
@pytest.mark.hub
@pytest.mark.skipif(_missing_for_image_install() is not None, reason=str(_missing_for_image_install()))
def test_image_install_step_runs_for_real_into_a_temporary_prefix(tmp_path):
    """The Dockerfile's install RUN, as written, in a copy of the repository (its sed edits the copy), with the
    prefix and exchange moved to temporary folders and the groups tagged, then removed."""
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    prefix, exchange, tag = tmp_path / "opt", tmp_path / "exchange", "ct" + secrets.token_hex(3)
    script = " && ".join(shlex.join(s) for s in install_steps())
    script = script.replace("/srv/course-src", str(src)).replace(values_py.PREFIX, str(prefix))
    script = script.replace(values_py.DEFAULTS["exchange_root"], str(exchange))
    script = script.replace(" install ", f" install --group-prefix {tag} ", 1)
    try:
        # What install writes in /etc for the trainers' PATH and sshd goes to the test's own folders instead.
        env = {**os.environ, "COURSE_HUB_PROFILE_D": str(tmp_path / "profile.d")}
        env["COURSE_HUB_SSHD_CONFIG_D"] = str(tmp_path / "sshd_config.d")
        out = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=900, env=env)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        assert (tmp_path / "profile.d" / f"{tag}-graders-tools.sh").exists()
        assert not Path(f"/etc/profile.d/{tag}-graders-tools.sh").exists()
    finally:
        for group in (f"{tag}-graders", f"{tag}-trainees"):
            subprocess.run(["groupdel", group], capture_output=True)
    py = prefix / "venv" / "bin" / "python"
    versions = json.loads(
        subprocess.run(
            [str(py), "-c", "import json, importlib.metadata as m; "
             "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert versions["jupyterhub"] == values_py.CHART_JUPYTERHUB
    pinned = dict(
        line.lower().replace("_", "-").split("==")
        for line in (ROOT / "deploy/constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    others = {n.replace("_", "-"): v for n, v in versions.items() if n not in ("jupyterhub", "course")}
    assert {n: v for n, v in others.items() if pinned.get(n) != v} == {}
    assert (prefix / "venv" / "bin" / "jupyterhub-singleuser").exists()
    settings = json.loads((prefix / "etc" / "course-hub.json").read_text())
    assert settings["course_id"] == values_py.DEFAULTS["course_id"] and settings["exchange_root"] == str(exchange)
    nbgrader = (prefix / "venv" / "etc" / "jupyter" / "nbgrader_config.py").read_text()
    assert f"c.Exchange.root = {str(exchange)!r}" in nbgrader and "course.grading.exchange.ExchangeCollect" in nbgrader
    trainee = json.loads((prefix / "etc" / "jupyter-trainee" / "jupyter_server_config.json").read_text())
    assert trainee["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False
    course = (prefix / "etc" / "trainer" / "course_nbgrader_config.py").read_text()
    assert f"c.Exchange.root = {str(exchange)!r}" in course
    user = (prefix / "etc" / "trainer" / "user_nbgrader_config.py").read_text()
    assert "c.CourseDirectory.root = '/home/jovyan/course'" in user
    assert (prefix / "share" / "notebooks").is_dir() and (prefix / "share" / "data").is_dir()
    assert (ROOT / "deploy/constraints.txt").read_text() == (src / "deploy/constraints.txt").read_text().replace(
        f"jupyterhub=={values_py.CHART_JUPYTERHUB}\n", f"jupyterhub=={pinned['jupyterhub']}\n"
    )  # the sed changed the copy, not the repository
