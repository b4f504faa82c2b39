"""`course lab` and `course present` on a machine other people use: the JupyterLab token is in no process's
command line (which every local user can read), and a port or workspace that cannot be used is a message
and a non-zero exit before any server starts, never a traceback or a server on another port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course.apps import lab
from course.apps.server import stop
from tests.paths import FIXTURE_PACK


def course_cli(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `course ...`; a command that starts a server instead of refusing is stopped (with its server) and
    fails the test."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "course.apps.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"`course {' '.join(args)}` was still running after {timeout} s:\n{out}\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@contextlib.contextmanager
def listening_port():
    """A port something else is listening on, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def cmdlines() -> dict[int, str]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                found[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc (Linux)")
def test_lab_token_is_in_no_process_command_line_and_still_guards_the_server(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    lab.write_lab_config(ws)
    proc, url = lab.start_lab(ws, 0)
    try:
        base, token = url.split("/lab?token=")
        assert len(token) >= 32
        leaks = {pid: line for pid, line in cmdlines().items() if token in line}
        assert leaks == {}, leaks
        assert proc.pid in cmdlines()  # the server was looked at
        with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=30) as r:
            assert r.status == 200
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{base}/api/status", timeout=30)
        assert e.value.code == 403
        log = ws / lab.CONFIG_DIR / "lab.log"
        assert stat.S_IMODE(log.stat().st_mode) == 0o600  # the server logs its address with the token
    finally:
        stop(proc)


def test_lab_refuses_a_workspace_that_is_a_file(tmp_path):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("mine")
    out = course_cli(["lab", "--build-only", "--workspace", str(not_a_folder)], tmp_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert f"{not_a_folder} is a file, not a folder" in out.stderr
    assert not_a_folder.read_text() == "mine"


def test_lab_refuses_a_workspace_inside_a_file(tmp_path):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("mine")
    out = course_cli(["lab", "--build-only", "--workspace", str(not_a_folder / "ws")], tmp_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    assert "cannot use" in out.stderr and "notes.txt" in out.stderr


@pytest.mark.parametrize("command", ["lab", "present"])
@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_a_message_before_any_server_starts(tmp_path, command, port):
    extra = ["--data", str(FIXTURE_PACK)] if command == "present" else ["--workspace", str(tmp_path / "ws")]
    out = course_cli([command, "--no-browser", "--port", port, *extra], tmp_path)
    assert out.returncode != 0, out.stdout
    assert f"port {port} is not a port number (1 to 65535)" in out.stderr
    assert "Traceback" not in out.stderr and "http://" not in out.stdout
    assert not (tmp_path / "ws").exists()  # checked before the workspace is built


@pytest.mark.parametrize("command", ["lab", "present"])
def test_a_busy_port_is_a_message_not_a_server_on_another_port(tmp_path, command):
    extra = ["--data", str(FIXTURE_PACK)] if command == "present" else ["--workspace", str(tmp_path / "ws")]
    with listening_port() as port:
        out = course_cli([command, "--no-browser", "--port", str(port), *extra], tmp_path)
    assert out.returncode != 0, out.stdout
    assert f"port {port} is in use" in out.stderr and "choose another" in out.stderr
    assert "Traceback" not in out.stderr and "http://" not in out.stdout


def test_the_pages_config_shuts_down_the_kernel_of_a_page_that_was_left(tmp_path):
    """Voila cannot shut a left page's kernel down (the server refuses its request): the server culls kernels
    no page is connected to, so a trainee going through six modules does not keep six kernels."""
    from course.apps.pages import KERNEL_IDLE_S, pages_config

    cfg = pages_config(tmp_path)
    cull = cfg["MappingKernelManager"]
    assert cull["cull_idle_timeout"] == KERNEL_IDLE_S and 0 < KERNEL_IDLE_S <= 1800
    assert cull["cull_connected"] is False and cull["cull_interval"] > 0
    assert cfg["VoilaConfiguration"]["template"] == "course-trainee"
    # A room's kernels start together on a few cores: a page waits longer than Voila's 60 s before an error.
    assert cfg["VoilaExecutor"]["startup_timeout"] >= 120
    assert (tmp_path / "share" / "jupyter" / "voila" / "templates" / "course-trainee" / "index.html.j2").exists()


def test_the_home_notebook_earlier_versions_wrote_is_removed_and_nothing_else(tmp_path):
    """The course home is a page of the server now (course/apps/home_page.py): `course open` and trainees' servers
    remove the home.ipynb earlier versions wrote, when it is still the course's own, and leave any other alone."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from course.apps.pages import remove_old_home

    def old_home(source: str) -> None:  # as write_home wrote it until 2026-12
        cell = new_code_cell(source, id="course-home", metadata={"jupyter": {"source_hidden": True}})
        nbformat.write(new_notebook(cells=[cell]), tmp_path / "home.ipynb")

    old_home("from course.notebook import open_home\n\nopen_home()")
    assert remove_old_home(tmp_path) is True and not (tmp_path / "home.ipynb").exists()
    assert remove_old_home(tmp_path) is False  # nothing there
    old_home("from course.notebook import open_home\n\nopen_home()\nprint('my notes')")
    assert remove_old_home(tmp_path) is False and (tmp_path / "home.ipynb").exists()
    (tmp_path / "home.ipynb").write_text("not a notebook", encoding="utf-8")
    assert remove_old_home(tmp_path) is False and (tmp_path / "home.ipynb").exists()
