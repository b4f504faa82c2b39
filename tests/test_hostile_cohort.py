"""One cohort with every kind of damaged or hostile submission among ordinary ones (issue 17), through release,
`course grade` (interrupted, then resumed), `course feedback` and `course export`, as a trainer runs them:
every ordinary score right, no trainee text executable in any output, no traceback anywhere, every refused or
flagged input named, and an exit status that says something needs attention."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course.grading.autograde import STATE_DIR
from course.grading.export import gradebook_rows
from course.grading.release import release
from course.store import AnswerStore
from tests import grading_support as gs
from tests import hostile_support as hs
from tests.paths import ROOT
from tests.test_grading import ALIGNED, NONE_ALIGNED, PARTLY
from tests.test_grading_hostile import _drop, _hostile_notebook
from tests.test_grading_kernel import _plant

pytestmark = pytest.mark.slow
MODULE = "f01-early"
HOSTILE_ID = "<img src=x onerror=alert('XSS17')>"


def _edited_first_answer(folder: Path, case) -> None:
    """A first answer recorded by the course's own store, then changed by hand to the review's choice."""
    store = AnswerStore(folder, case)
    store.record("practice", "b", "first go", 3)
    store.record("hv-bruise", "record", "first go", 3)
    doc = json.loads((folder / "answers.json").read_text(encoding="utf-8"))
    doc["decisions"]["hv-bruise"]["first"]["choice"] = "refer"
    (folder / "answers.json").write_text(json.dumps(doc), encoding="utf-8")


def _cohort(course: Path, case, marker: Path) -> dict[tuple[str, str], float]:
    """Submit the cohort; returns the expected score of every ordinary (and recoverable) submission."""
    expected: dict[tuple[str, str], float] = {}

    def ordinary(trainee, choices, points, edit=None, module=MODULE):
        gs.submit(course, trainee, module, gs.answers_doc(case, choices), notebook_edit=edit)
        for did, p in points.items():
            expected[(trainee, f"score-{did}")] = p

    ordinary("ord-aligned", ALIGNED, {"practice": 1.0, "hv-bruise": 2.0})
    ordinary("ord-none", NONE_ALIGNED, {"practice": 0.0, "hv-bruise": 0.0})
    ordinary("ord-partly", PARTLY, {"practice": 1.0, "hv-bruise": 1.0})
    ordinary("lee2", ALIGNED, {"practice": 1.0, "hv-bruise": 2.0})
    ordinary("pat", PARTLY, {"practice": 1.0, "hv-bruise": 1.0})
    ordinary("index", ALIGNED, {"practice": 1.0, "hv-bruise": 2.0})
    ordinary("=cmd", NONE_ALIGNED, {"practice": 0.0, "hv-bruise": 0.0})
    ordinary("l" * 250, PARTLY, {"practice": 1.0, "hv-bruise": 1.0})
    ordinary(HOSTILE_ID, ALIGNED, {"practice": 1.0, "hv-bruise": 2.0})
    ordinary("mallory", ALIGNED, {"practice": 1.0, "hv-bruise": 2.0}, edit=_hostile_notebook)
    ordinary("no-graded-cell", ALIGNED, {"practice": 1.0, "hv-bruise": 2.0}, edit=_drop("score-hv-bruise"))
    ordinary("no-opening-cell", ALIGNED, {"practice": 1.0, "hv-bruise": 2.0}, edit=_drop("intro"))
    ordinary("lee[2]", NONE_ALIGNED, {})  # refused: nbgrader would grade lee2 instead
    ordinary("pat ", NONE_ALIGNED, {})  # refused: nbgrader would grade pat instead
    gs.submit(course, "ord-multi", "f02-later", gs.answers_doc(case, {"social-assessment": ["history", "child"]}))
    expected[("ord-multi", "score-social-assessment")] = 4.0
    attacker = gs.submit(course, "a-attacker", MODULE, gs.answers_doc(case, NONE_ALIGNED))
    _plant(attacker, marker, everything=True)
    expected[("a-attacker", "score-practice")] = expected[("a-attacker", "score-hv-bruise")] = 0.0
    good = gs.answers_doc(case, ALIGNED)
    for name, content in hs.damaged_answers(good).items():
        hs.write_damaged(gs.submit(course, f"t-{name}", MODULE, None), content)
        expected[(f"t-{name}", "score-hv-bruise")] = 0.0
    gs.submit(course, "t-bom", MODULE, "\ufeff" + json.dumps(good))
    expected[("t-bom", "score-hv-bruise")] = 2.0
    edited = gs.submit(course, "t-edited", MODULE, None)
    _edited_first_answer(edited, case)
    expected[("t-edited", "score-practice")] = 0.0
    expected[("t-edited", "score-hv-bruise")] = 2.0  # flagged to the trainer, scored as it stands
    junk = gs.submit(course, "t-junk-notebook", MODULE, good)
    (junk / f"{MODULE}.ipynb").write_bytes(bytes(range(256)) * 4)
    return expected


def _course(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "course.apps.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)


def test_a_hostile_cohort_through_grade_feedback_and_export(tmp_path, fictional_case, monkeypatch):
    gs.use_fixture_case(monkeypatch)
    gs.write_source_course(fictional_case, tmp_path / "notebooks")
    release(tmp_path / "grading", tmp_path / "notebooks", log=lambda *_: None)
    course = tmp_path / "grading"
    marker = tmp_path / "ran"
    marker.mkdir()
    expected = _cohort(course, fictional_case, marker)

    # course grade, interrupted part-way, then resumed
    cmd = [sys.executable, "-m", "course.apps.cli", "grade", "--course-dir", str(course), "--workers", "2"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((course / STATE_DIR).glob("*/*.json"))) < 3:
        time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    out1, err1 = first.communicate(timeout=120)
    done_first = len(list((course / STATE_DIR).glob("*/*.json")))
    second = _course("grade", "--course-dir", str(course), "--workers", "2", "--no-progress")
    shown = second.stdout + second.stderr
    assert second.returncode == 1, shown[-3000:]  # something needs attention
    assert f"{done_first} submission(s) already graded" in second.stdout
    for text in (out1 + err1, shown):
        assert hs.tracebacks(text) == [], text[-3000:]
    assert sorted(p.name for p in marker.iterdir()) == []  # nothing a trainee sent ever ran

    rows = gradebook_rows(course)
    scores = {(r["trainee"], r["item"]): r["score"] for r in rows}
    for key, points in expected.items():
        assert scores.get(key) == points, (key, scores.get(key))
    assert not {r["trainee"] for r in rows} & {"lee[2]", "pat "}
    # every refused or flagged submission is named in what the trainer sees
    named = [
        "'lee[2]'",
        "'pat '",
        "t-junk-notebook/f01-early",
        "t-edited/f01-early",
        "no-graded-cell/f01-early",
        "no-opening-cell/f01-early",
        "a-attacker/f01-early",  # a `course` folder and other files it shipped were removed before grading
        *(f"t-{name}/f01-early" for name in hs.damaged_answers({"decisions": {"hv-bruise": {}}})),
    ]
    for name in named:
        assert name in shown, name
    assert "t-bom/f01-early" not in shown and "ord-aligned/f01-early" not in shown
    junk_line = next(line for line in shown.splitlines() if "t-junk-notebook" in line)
    assert "notebook" in junk_line and "UnicodeDecodeError" not in junk_line

    # feedback: a page for every graded submission; the junk one is named, nobody else stopped
    gs.mark_reflections(course)  # feedback is made only for marked reflections
    fb = _course("feedback", "--course-dir", str(course))
    assert hs.tracebacks(fb.stdout + fb.stderr) == []
    graded_pairs = {(r["trainee"], r["module"]) for r in rows}
    pages = list((course / "feedback").rglob("*.html"))
    assert {(p.parent.parent.name, p.parent.name) for p in pages} >= graded_pairs - {("t-junk-notebook", MODULE)}
    assert fb.returncode == (1 if "t-junk-notebook" in fb.stdout + fb.stderr else 0)

    # export: grades.csv and the summaries
    ex = _course("export", "--course-dir", str(course))
    assert ex.returncode == 0 and hs.tracebacks(ex.stdout + ex.stderr) == [], ex.stderr
    csv_text = (course / "grades.csv").read_text(encoding="utf-8")
    assert "\n'=cmd," in csv_text and "\n=cmd," not in csv_text
    index = (course / "summaries" / "index.md").read_text(encoding="utf-8")
    assert index.startswith("# Cohort summary") and "ord-aligned" in index

    # no trainee text executable in any output file, no traceback, no server path on a trainee's page
    import csv

    for row in csv.reader(csv_text.splitlines()):  # a spreadsheet evaluates no cell
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row), row
    outputs = [*pages, *(course / "summaries").glob("*.md"), *(course / "autograded").rglob("*.ipynb")]
    for path in outputs:
        assert hs.executable_markup_in_file(path) == [], path
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert hs.tracebacks(html) == [] and str(tmp_path) not in html, page
    mallory = (course / "feedback" / "mallory" / MODULE / f"{MODULE}.html").read_text(encoding="utf-8")
    assert "My honest reflection" in mallory
    nb = nbformat.read(course / "autograded" / "t-edited" / MODULE / f"{MODULE}.ipynb", as_version=4)
    assert any("changed by hand" in o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
