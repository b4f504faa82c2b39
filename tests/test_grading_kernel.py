"""Grading runs only the course's code (issue 17): a `course/` package, `sitecustomize.py`, `*.pth`,
`ipykernel_launcher.py` or IPython configuration shipped in a submission is never imported or run, by `course
grade` (one kernel reused across submissions) or by plain `nbgrader autograde` (a kernel per notebook), and a
later honest submission in the same worker is scored by the course."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course.grading.autograde import grade
from tests import grading_support as gs
from tests import hostile_support as hs
from tests.test_grading import ALIGNED, NONE_ALIGNED, _fresh_course, _scores

pytestmark = pytest.mark.slow
QUIET = {"progress": False, "log": lambda *_: None}


@pytest.fixture(scope="module")
def released(tmp_path_factory, fictional_case):
    yield from hs.released_fixture_course(tmp_path_factory, fictional_case)


def _shown(course: Path, trainee: str, grade_id: str) -> str:
    import nbformat

    nb = nbformat.read(course / "autograded" / trainee / "f01-early" / "f01-early.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


# --------------------------------------------------------------------------- 1. only the course's code runs


def _plant(folder: Path, marker: Path, everything: bool) -> None:
    """A submission that ships its own `course` package (scoring everything full marks) and, with `everything`,
    every other file Python or IPython would run from a working folder; each leaves a marker file if it runs."""

    def runs(name: str) -> str:
        return f"open({str(marker / name)!r}, 'w').close()\n"

    import course

    fake = folder / "course"
    fake.mkdir()
    # The rest of the package comes from where the course is installed (an attacker can guess it), so grading
    # works as usual, but the notebook facade is the trainee's: every decision scores full marks.
    real = str(Path(course.__file__).parent)
    (fake / "__init__.py").write_text(runs("course-package") + f"__path__.append({real!r})\n")
    (fake / "notebook.py").write_text(
        runs("course-notebook") + "class _M:\n"
        "    def recorded(self, d):\n        print('planted')\n"
        "    def score(self, d):\n        return {'practice': 1.0}.get(d, 2.0)\n"
        "def open_module(*a, **k):\n    return _M()\n"
    )
    if not everything:
        return
    for name in ("sitecustomize.py", "usercustomize.py", "ipykernel_launcher.py", "yaml.py", "ipywidgets.py"):
        (folder / name).write_text(runs(name))
    (folder / "evil.pth").write_text("import os; " + runs("pth").strip() + "\n")
    (folder / "ipython_config.py").write_text(f"c.InteractiveShellApp.exec_lines = [{runs('ipython-config')!r}]\n")
    (folder / "ipython_kernel_config.py").write_text(
        f"c.InteractiveShellApp.exec_lines = [{runs('ipython-kernel-config')!r}]\n"
    )


@pytest.mark.parametrize(
    ("how", "planted"),
    [("course grade", "course package"), ("course grade", "every file"), ("nbgrader autograde", "every file")],
)
def test_a_planted_course_package_never_runs_and_never_scores(released, fictional_case, tmp_path, how, planted):
    course = _fresh_course(released, f"planted-{how.split()[0]}-{planted.split()[0]}")
    marker = tmp_path / "ran"
    marker.mkdir()
    attacker = gs.submit(course, "a-attacker", "f01-early", gs.answers_doc(fictional_case, NONE_ALIGNED))
    _plant(attacker, marker, everything=planted == "every file")
    gs.submit(course, "b-honest", "f01-early", gs.answers_doc(fictional_case, NONE_ALIGNED))
    gs.submit(course, "c-honest", "f01-early", gs.answers_doc(fictional_case, ALIGNED))
    if how == "course grade":
        run = grade(course, workers=1, **QUIET)  # one worker: every submission in the same reused kernel
    else:
        env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
        cli = subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", "f01-early"],
            cwd=course,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert cli.returncode == 0, cli.stderr[-2000:]
    assert sorted(p.name for p in marker.iterdir()) == [], "a file from a submission was run"
    if how == "course grade":
        assert run.failed == {}
    scores = _scores(course)
    for trainee in ("a-attacker", "b-honest"):
        assert scores[(trainee, "f01-early", "score-practice")] == 0.0, trainee
        assert scores[(trainee, "f01-early", "score-hv-bruise")] == 0.0, trainee
    assert scores[("c-honest", "f01-early", "score-hv-bruise")] == 2.0
    assert "planted" not in _shown(course, "a-attacker", "score-hv-bruise")
    kept = sorted(p.name for p in (course / "autograded" / "a-attacker" / "f01-early").iterdir())
    assert kept == ["answers.json", "f01-early.ipynb", "timestamp.txt"]
