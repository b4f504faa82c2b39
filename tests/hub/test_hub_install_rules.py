"""What the installer checks and writes outside its prefix, and the deploy pages against the scripts; anywhere,
no root (the pages themselves are run as written by test_hub_deploy_doc.py, as root)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hub import deploy_doc
from tests.hub.conftest import load_setup_module
from tests.paths import ROOT

setup = load_setup_module()
system = sys.modules["setup_system"]
base = sys.modules["setup_base"]


def test_the_deploy_pages_give_every_tested_step_once_and_in_order():
    assert [b.name for b in deploy_doc.blocks()] == list(deploy_doc.STEPS)


def test_no_command_in_the_deploy_pages_needs_sudo_or_debians_npm_beside_nodesource():
    lines = deploy_doc.all_fenced_commands()
    assert lines
    assert not [line for line in lines if re.search(r"(^|[;&|]\s*)sudo\s", line)]
    installs = [line for line in lines if "apt-get install" in line]
    assert installs and not [line for line in installs if re.search(r"\bnpm\b", line)]


def test_the_foreground_hub_command_is_what_the_systemd_unit_runs():
    hub = next(b for b in deploy_doc.blocks() if b.name == "hub")
    unit = setup.SYSTEMD_UNIT.format(prefix="/opt/course-hub", venv="/opt/course-hub/venv")
    assert f"ExecStart={hub.text}\n" in unit


def test_every_setup_command_in_the_pages_parses_with_the_installer():
    parser = setup.build_parser()
    used = []
    for line in deploy_doc.all_fenced_commands():
        found = re.search(r"deploy/jupyterhub/setup\.py (.*)$", line.split("#")[0])
        if found:
            args = shlex.split(found.group(1))
            parser.parse_args(args)  # SystemExit on an unknown command or option
            used.append(args[0])
    assert {"install", "add-users", "init-course", "upgrade", "backup", "restore", "uninstall"} <= set(used)
    assert {"reset-password", "stop-server", "recover-answers"} <= set(used)


def test_the_node_the_installer_asks_for_is_the_one_the_proxy_declares():
    lock = json.loads((ROOT / "deploy" / "jupyterhub" / "proxy" / "package-lock.json").read_text())
    declared = lock["packages"]["node_modules/configurable-http-proxy"]["engines"]["node"]
    assert re.fullmatch(r">=\s*(\d+)", declared).group(1) == str(system.NODE_MIN_MAJOR)
    package = json.loads((ROOT / "node_modules" / "configurable-http-proxy" / "package.json").read_text())
    assert package["engines"]["node"] == declared  # the proxy the hub tests run is the one install pins
    assert system.proxy_engines(str(ROOT / "node_modules" / ".bin" / "configurable-http-proxy")) == declared


def _fake(tmp_path: Path, name: str, output: str) -> None:
    tool = tmp_path / name
    tool.write_text(f"#!/bin/sh\necho {output}\n")
    tool.chmod(0o755)


def test_node_18_is_refused_with_what_to_install(tmp_path, monkeypatch):
    _fake(tmp_path, "node", "v18.20.4")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(base.SetupError, match=r"Node v18\.20\.4\. configurable-http-proxy needs Node 20.*NodeSource"):
        system.check_node(need_npm=False)


def test_node_20_without_npm_is_enough_when_the_proxy_is_there(tmp_path, monkeypatch):
    _fake(tmp_path, "node", "v20.20.2")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert system.check_node(need_npm=False) == "v20.20.2"
    with pytest.raises(base.SetupError, match="NodeSource's nodejs includes npm"):
        system.check_node(need_npm=True)
    _fake(tmp_path, "npm", "10.8.2")
    assert system.check_node(need_npm=True) == "v20.20.2"


def test_pins_are_used_when_the_repository_has_them_and_change_the_venv(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    assert setup.constraint_args(tmp_path) == []
    before = setup.deps_key(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "constraints.txt").write_text("jupyterhub==5.2.1\n")
    assert setup.constraint_args(tmp_path) == ["-c", str(tmp_path / "deploy" / "constraints.txt")]
    assert setup.deps_key(tmp_path) != before


def _path_after_login(script: Path) -> str:
    out = subprocess.run(
        ["/bin/sh", "-c", f'PATH=/usr/bin:/bin; . "{script}"; echo "$PATH"'], capture_output=True, text=True
    )
    return out.stdout.strip()


def test_a_trainers_login_shell_finds_the_course_tools_and_others_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(system, "PROFILE_D", tmp_path)
    mine = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
    venv = tmp_path / "venv"
    script = system.write_trainer_path({"venv": str(venv), "graders_group": mine})
    assert script == tmp_path / f"{mine}-tools.sh"
    assert _path_after_login(script) == f"{venv}/bin:/usr/bin:/bin"
    other = system.write_trainer_path({"venv": str(venv), "graders_group": "no-such-group-here"})
    assert _path_after_login(other) == "/usr/bin:/bin"


def test_sshd_refuses_the_trainees_group_when_sshd_is_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(system, "SSHD_CONFIG_D", tmp_path / "missing")
    assert system.write_ssh_deny({"trainees_group": "course-trainees"}) is None
    monkeypatch.setattr(system, "SSHD_CONFIG_D", tmp_path)
    path = system.write_ssh_deny({"trainees_group": "course-trainees"})
    assert "\nDenyGroups course-trainees\n" in path.read_text()
    settings = {"trainees_group": "course-trainees", "graders_group": "course-graders", "venv": "/v"}
    monkeypatch.setattr(system, "PROFILE_D", tmp_path)
    system.write_trainer_path(settings)
    assert sorted(p.name for p in system.remove_system_files(settings)) == [
        "course-graders-tools.sh",
        "course-trainees.conf",
    ]
    assert not os.listdir(tmp_path)


def test_trainers_open_formgrader_in_a_tab_of_its_own_not_in_jupyterlab(tmp_path):
    overrides = system.write_trainer_lab_settings(tmp_path)
    menus = json.loads(overrides.read_text())["@jupyterlab/mainmenu-extension:plugin"]["menus"]
    (item,) = [i for m in menus for i in m["items"]]
    assert item["command"] == "help:open"
    assert item["args"] == {
        "url": "/hub/user-redirect/formgrader",
        "text": "Formgrader (opens in a new tab)",
        "newBrowserTab": True,
    }
    page = json.loads((tmp_path / "etc" / "jupyter" / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True


def test_restore_writes_only_inside_the_home_and_never_through_a_planted_link(tmp_path):
    import getpass
    import io
    import tarfile

    ops = sys.modules["setup_ops"]
    outside, home = tmp_path / "outside", tmp_path / "home"
    outside.mkdir()
    home.mkdir()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:

        def add(name, data=b"x", link=None):
            info = tarfile.TarInfo(name)
            info.uname = getpass.getuser()
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, io.BytesIO(data))

        add("homes/u/answers.json", b"{}")
        add("homes/u/elsewhere", link=str(outside))
        add("homes/u/elsewhere/planted.txt")
        add("homes/u/../../escaped.txt")
        add("homes/u/fifo-like", link="/dev/zero")
    archive.seek(0)
    with tarfile.open(fileobj=archive) as tar:
        assert ops._extract(tar, "homes/u", home) == 3
    assert (home / "answers.json").read_bytes() == b"{}"
    assert (home / "elsewhere").is_symlink() and (home / "fifo-like").is_symlink()
    assert not list(outside.iterdir()) and not (tmp_path / "escaped.txt").exists()


def test_an_upgrade_keeps_the_python_case_pack_and_notebooks_an_install_was_given(tmp_path):
    old = {"python": "/usr/local/bin/python3.12", "data_source": "/srv/pack", "notebooks_source": "/srv/nbs"}
    again = setup.build_parser().parse_args(["install"])
    chosen = setup.install_choices(again, old)
    assert {k: chosen[k] for k in old} == old
    first = setup.install_choices(again, {})
    assert (first["python"], first["data_source"], first["notebooks_source"]) == ("/usr/bin/python3", None, None)
    given = setup.build_parser().parse_args(["install", "--data", "/srv/other"])
    assert setup.install_choices(given, old)["data_source"] == "/srv/other"


def test_a_backup_keeps_files_links_and_databases_and_leaves_out_pipes(tmp_path):
    import io
    import sqlite3
    import tarfile

    ops = sys.modules["setup_ops"]
    home, outside, again = tmp_path / "home", tmp_path / "outside.txt", tmp_path / "again"
    (home / "m00-welcome").mkdir(parents=True)
    (home / "m00-welcome" / "answers.json").write_text('{"schema": 2}')
    outside.write_text("not the trainee's")
    (home / "link").symlink_to(outside)
    os.mkfifo(home / "pipe")
    with sqlite3.connect(home / "marks.sqlite") as db:
        db.execute("create table marks (mark real)")
        db.execute("insert into marks values (4)")
    db.close()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        ops._add_tree(tar, home, "homes/u")
    archive.seek(0)
    again.mkdir()
    with tarfile.open(fileobj=archive) as tar:
        assert "homes/u/pipe" not in tar.getnames()
        ops._extract(tar, "homes/u", again)
    assert (again / "m00-welcome" / "answers.json").read_text() == '{"schema": 2}'
    assert (again / "link").is_symlink() and os.readlink(again / "link") == str(outside)
    with sqlite3.connect(again / "marks.sqlite") as db:
        assert db.execute("select mark from marks").fetchall() == [(4.0,)]
    db.close()
