"""`course lab`: the trainee workspace is built from release notebooks, keeps the trainee's work on rebuild,
and JupyterLab opens there with the trainer-only nbgrader tools off."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from course.apps import lab as workspace
from tests import grading_support as gs
from tests.paths import ROOT

HIDDEN = (
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "BEGIN SOLUTION",
    "BEGIN MARK SCHEME",
    "m.score(",
    "A model answer only graders see.",
)


@pytest.fixture
def course_env(tmp_path, monkeypatch, fictional_case):
    gs.use_fixture_case(monkeypatch)
    notebooks = tmp_path / "notebooks"
    monkeypatch.setenv("COURSE_NOTEBOOKS", str(notebooks))
    return notebooks


def _lab(args, cwd, **kw):
    return subprocess.run(
        [sys.executable, "-m", "course.apps.cli", "lab", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        **kw,
    )


@pytest.mark.slow
def test_lab_build_only_builds_the_workspace_from_release_notebooks(course_env, fictional_case, tmp_path):
    gs.write_source_course(fictional_case, course_env)
    ws = tmp_path / "ws"
    out = _lab(["--build-only", "--workspace", str(ws)], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Added f01-early." in out.stdout and "Added f02-later." in out.stdout
    for mid in ("f01-early", "f02-later"):
        nb = nbformat.read(ws / mid / f"{mid}.ipynb", as_version=4)
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert graded and all("checksum" in c.metadata["nbgrader"] for c in graded)  # made by generate_assignment
    for path in ws.rglob("*"):
        if path.is_file() and workspace.CONFIG_DIR not in path.parts:
            text = path.read_text(errors="replace")
            assert not [h for h in HIDDEN if h in text], path
    assert not list(ws.rglob("answers.json"))


@pytest.mark.slow
def test_rebuilding_keeps_the_trainees_answers_and_edits_and_adds_new_modules(course_env, fictional_case, tmp_path):
    gs.write_source_course(fictional_case, course_env, ["f01-early"])
    ws = tmp_path / "ws"
    workspace.build_workspace(ws, course_env, log=lambda *_: None)
    answers = ws / "f01-early" / "answers.json"
    answers.write_text(json.dumps(gs.answers_doc(fictional_case, {"hv-bruise": "refer"})))
    nb_path = ws / "f01-early" / "f01-early.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("My own note"))
    nbformat.write(nb, nb_path)
    before = (answers.read_bytes(), nb_path.read_bytes())

    gs.write_source_course(fictional_case, course_env, ["f02-later"])
    out = _lab(["--build-only", "--workspace", str(ws)], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (answers.read_bytes(), nb_path.read_bytes()) == before
    assert (ws / "f02-later" / "f02-later.ipynb").exists()
    assert "Added f02-later." in out.stdout
    assert "Kept your own copy of f01-early" in out.stdout and "untouched" in out.stdout


def test_workspace_config_switches_off_trainer_tools_only(tmp_path):
    cfg = workspace.write_lab_config(tmp_path)
    page = json.loads((cfg / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert page == {
        "@jupyter/nbgrader:formgrader": True,
        "@jupyter/nbgrader:create-assignment": True,
        "@jupyter/nbgrader:course-list": True,
    }
    server = json.loads((cfg / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert server == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
        "course.apps.home_page": True,  # the course home, `course open`'s landing page
    }
    env = workspace.lab_environment(tmp_path)
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(cfg)


def test_workspace_jupyterlab_serves_trainee_shortcuts_that_leave_arrow_keys_to_widgets(tmp_path):
    """Through the real jupyterlab_server settings code, configured from the workspace's own config file."""
    from jupyterlab_server.settings_utils import get_settings

    cfg = workspace.write_lab_config(tmp_path)
    lab = json.loads((cfg / "jupyter_server_config.json").read_text())["LabApp"]
    assert Path(lab["app_settings_dir"]) == (cfg / workspace.APP_SETTINGS_DIR).resolve()
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    found, _ = get_settings(
        str(lab["app_settings_dir"]),
        str(schemas),
        str(tmp_path / "user-settings"),
        "@jupyterlab/shortcuts-extension:shortcuts",
    )
    shortcuts = found["schema"]["properties"]["shortcuts"]["default"]
    off = {
        (s["command"], tuple(s["keys"]))
        for s in shortcuts
        if s.get("disabled") and s["selector"] == workspace.COMMAND_MODE_FOCUS
    }
    back = {
        (s["command"], tuple(s["keys"]))
        for s in shortcuts
        if not s.get("disabled") and s["selector"] == workspace.COMMAND_MODE_FOCUS + workspace.OUTSIDE_OUTPUTS
    }
    # JupyterLab's one-key shortcuts that act on any focused element (the arrows, "a", "d d"...) are switched
    # off, and given back except inside a cell's output, where the course's widgets are...
    for key in [
        ("notebook:move-cursor-down", ("ArrowDown",)),
        ("notebook:move-cursor-up", ("ArrowUp",)),
        ("notebook:insert-cell-above", ("A",)),
        ("notebook:delete-cell", ("D", "D")),
    ]:
        assert key in off and key in back, key
    assert off == back
    # ...and shortcuts with Ctrl or Accel (run the cell, select all) are left alone.
    assert not [k for k in off if k[1][0].startswith(("Accel", "Ctrl", "Alt"))]


def test_saving_a_notebook_in_the_workspace_replaces_widget_views_with_a_run_all_note(tmp_path):
    """Through the real jupyter_server contents manager, configured from the workspace's own config file."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from traitlets.config import Config

    from course.apps.save_hook import NOTE_TEXT, STALE_MARK, WIDGET_VIEW

    cfg = workspace.write_lab_config(tmp_path)
    config = Config(json.loads((cfg / "jupyter_server_config.json").read_text()))
    cm = FileContentsManager(config=config, root_dir=str(tmp_path))
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "m.lens()",
                outputs=[
                    nbformat.v4.new_output(
                        "display_data",
                        data={
                            WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
                            "text/plain": "VBox()",
                        },
                    ),
                    nbformat.v4.new_output("stream", text="kept\n"),
                ],
            ),
            nbformat.v4.new_code_cell(
                "1 + 1", outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]
            ),
        ]
    )
    cm.save({"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(nb))}, "m.ipynb")
    saved = nbformat.read(tmp_path / "m.ipynb", as_version=4)
    first, stream = saved.cells[0].outputs
    assert WIDGET_VIEW not in first.data and first.data["text/plain"] == NOTE_TEXT
    assert "Run All Cells" in first.data["text/html"] and first.metadata[STALE_MARK] is True
    assert stream.text == "kept\n" and saved.cells[1].outputs[0].data == {"text/plain": "2"}
    nbformat.validate(saved)


@pytest.mark.slow
def test_lab_no_browser_prints_the_address_and_serves_without_formgrader(course_env, fictional_case, tmp_path):
    gs.write_source_course(fictional_case, course_env, ["f01-early"])
    ws = tmp_path / "ws"
    proc = subprocess.Popen(
        [sys.executable, "-m", "course.apps.cli", "lab", "--no-browser", "--port", "0", "--workspace", str(ws)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        url = None
        for _ in range(40):
            line = proc.stdout.readline()
            m = re.search(r"(http://127\.0\.0\.1:\d+/lab\?token=\w+)", line)
            if m:
                url = m.group(1)
                break
        assert url, proc.stderr.read() if proc.poll() is not None else "no address printed"
        base, token = url.split("/lab?token=")
        html = urllib.request.urlopen(url, timeout=30).read().decode()
        page = json.loads(
            re.search(
                r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.DOTALL
            ).group(1)
        )
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(
            page["disabledExtensions"]
        )
        assert "@jupyter/nbgrader:assignment-list" not in page["disabledExtensions"]
        names = {e["name"] for e in page.get("federated_extensions", [])}
        assert {"@jupyter-widgets/jupyterlab-manager", "@jupyter/nbgrader"} <= names
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{base}/formgrader?token={token}", timeout=30)
        assert e.value.code == 404
        ok = urllib.request.urlopen(f"{base}/nbgrader_version?token={token}&version=0", timeout=30)
        assert ok.status == 200  # the trainee-side nbgrader server extensions stay on
        contents = json.loads(urllib.request.urlopen(f"{base}/api/contents/f01-early?token={token}").read())
        assert [c["name"] for c in contents["content"] if c["name"].endswith(".ipynb")] == ["f01-early.ipynb"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.skipif(
    not (ROOT / "notebooks" / "m01-early-years" / "m01-early-years.ipynb").exists(),
    reason="notebooks/ holds no module notebooks yet",
)
def test_lab_build_only_on_the_course_modules_has_no_hidden_tests_or_solutions(tmp_path, monkeypatch):
    from course.grading.config import module_ids

    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.delenv("COURSE_NOTEBOOKS", raising=False)
    ws = tmp_path / "ws"
    out = _lab(["--build-only", "--workspace", str(ws)], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    modules = module_ids(ROOT / "notebooks")
    assert sorted(p.name for p in ws.iterdir() if p.name != workspace.CONFIG_DIR) == sorted(modules)
    for path in ws.rglob("*.ipynb"):
        text = path.read_text()
        assert not [h for h in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "BEGIN MARK SCHEME", ".score(") if h in text]
