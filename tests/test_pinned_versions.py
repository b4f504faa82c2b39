"""Reproducible installs: deploy/constraints.txt pins every Python package, and the Makefile's venv (so CI),
the hub's installer and the proxy's npm install all use exact versions (issue 20, point 6)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.hub.conftest import load_setup_module
from tests.paths import ROOT

CONSTRAINTS = ROOT / "deploy" / "constraints.txt"
PROXY_LOCK = ROOT / "deploy" / "jupyterhub" / "proxy" / "package-lock.json"
setup = load_setup_module()


def _update_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_constraints", ROOT / "deploy" / "update_constraints.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pins(path: Path = CONSTRAINTS) -> dict[str, Version]:
    """name -> pinned version; fails on any line that is not exactly `name==version`."""
    found: dict[str, Version] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{path.name}:{n}: {line!r} is not name==version"
        assert not req.extras and req.marker is None and req.url is None, f"{path.name}:{n}: {line!r}"
        assert "*" not in specs[0].version, f"{path.name}:{n}: {line!r} is a wildcard, not one version"
        name = canonicalize_name(req.name)
        assert name not in found, f"{path.name}:{n}: {req.name} is pinned twice"
        found[name] = Version(specs[0].version)
    return found


def _pyproject_requirements() -> list[Requirement]:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = list(doc["project"]["dependencies"])
    for extra in doc["project"].get("optional-dependencies", {}).values():
        reqs += extra
    reqs += doc["build-system"]["requires"]
    return [Requirement(r) for r in reqs]


def test_constraints_pin_every_line_to_one_exact_version():
    assert len(pins()) > 100  # the whole environment, not a few top-level names


def test_constraints_cover_every_requirement_of_pyproject_with_a_version_it_allows():
    pinned = pins()
    for req in _pyproject_requirements():
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} (pyproject.toml) is not pinned in deploy/constraints.txt"
        assert req.specifier.contains(pinned[name], prereleases=True), f"{req} but pinned {pinned[name]}"
    # what the installer asks for besides pyproject: pip, wheel and setuptools>=68 for the hub's venv
    assert {"pip", "setuptools", "wheel", "jupyterhub"} <= set(pinned)


def test_the_test_venv_holds_exactly_the_pinned_versions():
    """The Makefile (so CI) built this venv: every package in it is pinned, at the pinned version."""
    pinned = pins()
    drift = {}
    # the venv's own site-packages: setuptools puts its vendored packages on sys.path once imported
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    for dist in distributions(path=site):
        name = canonicalize_name(dist.metadata["Name"])
        if name != "course" and pinned.get(name) != Version(dist.version):
            drift[name] = (dist.version, str(pinned.get(name)))
    assert not drift, f"installed vs pinned (run make, or make constraints): {drift}"


def test_makefile_installs_every_package_with_the_constraints():
    out = subprocess.run(
        ["make", "-n", "-B", ".venv/.installed"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    installs = [line for line in out.splitlines() if "pip install" in line]
    assert len(installs) == 2, out
    assert all("-c deploy/constraints.txt" in line for line in installs), out
    assert any("-e '.[test]'" in line for line in installs)


def test_make_constraints_target_rewrites_the_file_then_rebuilds_the_venv():
    # --no-print-directory: run under `make test`, make would start with "make[1]: Entering directory ...".
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", "constraints"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "deploy/update_constraints.py" in out.splitlines()[0]


def test_hub_installer_installs_the_venv_with_the_constraints(tmp_path, monkeypatch):
    ran: list[list[str]] = []

    def record(cmd, **kw):
        ran.append([str(c) for c in cmd])
        if cmd[1:3] == ["-m", "venv"]:
            Path(cmd[3]).mkdir()  # what `python -m venv` would have made, so the stamp can be written
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(setup, "run", record)
    setup.build_venv(tmp_path / "venv", ROOT)
    installs = [cmd for cmd in ran if "install" in cmd and "--no-deps" not in cmd]
    assert len(installs) == 2, ran
    for cmd in installs:
        assert cmd[cmd.index("-c") + 1] == str(CONSTRAINTS), cmd
    assert any(c.endswith("[hub]") for c in installs[1])


def test_hub_venv_is_rebuilt_when_the_constraints_change(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n", encoding="utf-8")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "constraints.txt").write_text("a==1\n", encoding="utf-8")
    first = setup.deps_key(tmp_path)
    (tmp_path / "deploy" / "constraints.txt").write_text("a==2\n", encoding="utf-8")
    assert setup.deps_key(tmp_path) != first


def test_hub_proxy_lockfile_pins_the_proxy_and_everything_under_it_as_the_tests_use_them():
    mine = json.loads(PROXY_LOCK.read_text(encoding="utf-8"))["packages"]
    tested = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    wanted = json.loads((PROXY_LOCK.parent / "package.json").read_text(encoding="utf-8"))["dependencies"]
    chp = "node_modules/configurable-http-proxy"
    assert wanted == {"configurable-http-proxy": tested[chp]["version"]}  # an exact version, not a range
    for path, entry in mine.items():
        if not path:
            continue
        assert entry.get("integrity", "").startswith("sha512-"), f"{path} is not pinned by its hash"
        assert entry["version"] == tested[path]["version"], f"{path}: {entry['version']} vs {tested[path]['version']}"


def test_hub_installer_installs_the_proxy_from_its_lockfile(tmp_path, monkeypatch):
    ran: list[list[str]] = []
    monkeypatch.setattr(setup, "run", lambda cmd, **kw: ran.append([str(c) for c in cmd]))
    proxy = setup.install_proxy(tmp_path)
    assert ran == [["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--prefix", str(tmp_path / "proxy")]]
    assert (tmp_path / "proxy" / "package-lock.json").read_bytes() == PROXY_LOCK.read_bytes()
    assert proxy == str(tmp_path / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")


def test_update_script_writes_a_file_these_tests_accept_and_refuses_venvs_that_disagree(tmp_path):
    upd = _update_module()
    out = tmp_path / "constraints.txt"
    out.write_text(upd.render({"Zeta_Pkg": "1.0", "alpha": "2.0.post1"}, "test"), encoding="utf-8")
    assert pins(out) == {"alpha": Version("2.0.post1"), "zeta-pkg": Version("1.0")}
    assert upd.union([{"A": "1"}, {"a": "1", "b": "2"}]) == {"A": "1", "b": "2"}
    with pytest.raises(SystemExit, match="A: 1 and 2"):
        upd.union([{"A": "1"}, {"A": "2"}])


@pytest.mark.slow
def test_constraints_resolve_the_course_with_every_extra_to_pinned_versions_only(tmp_path):
    """pip resolves course[test,hub] under the constraints (index metadata, no install): every package it
    would install is pinned, at the pinned version, so nothing is left to the day of the install."""
    report = tmp_path / "report.json"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report",
         str(report), "-c", str(CONSTRAINTS), f"{ROOT}[test,hub]", "pip", "setuptools", "wheel"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    pinned = pins()
    chosen = {
        canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"]
        for i in json.loads(report.read_text())["install"]
    }
    chosen.pop("course")
    assert {n: v for n, v in chosen.items() if pinned.get(n) != Version(v)} == {}
    assert set(chosen) == set(pinned)  # and nothing pinned that the course no longer needs


@pytest.mark.slow
def test_proxy_installs_from_its_lockfile_for_real(tmp_path):
    setup.install_proxy(tmp_path)
    installed = json.loads((tmp_path / "proxy/node_modules/configurable-http-proxy/package.json").read_text())
    assert (
        installed["version"]
        == json.loads((PROXY_LOCK.parent / "package.json").read_text())["dependencies"]["configurable-http-proxy"]
    )
