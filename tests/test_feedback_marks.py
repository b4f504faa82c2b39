"""Feedback only when its marks are right (issue 19, Deliver 5-7): nbgrader's own behaviour on a resubmission, stale
marks held back and flagged, pages in the course's words, feedback handed back through the exchange and as zips,
and marks.csv; end to end with nbgrader's real API and gradebook on the fictional case."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from course.apps.cli import main as course_main
from course.core.contract import file_stem
from course.grading.autograde import STATE_DIR, grade
from course.grading.config import load_config
from course.grading.feedback import feedback
from course.grading.marks import Mark, MarkBook, fingerprint, reflection_text, write_to_gradebook
from course.grading.marks_export import FORMGRADER, marks_rows, write_marks_csv
from course.grading.readiness import STALE_MARK
from course.grading.release import release
from tests import grading_support as gs

pytestmark = pytest.mark.slow

M = "f01-early"
GID = f"reflection-{M}"
DEAD = (
    "The first year in the town. Press **Refresh** to see your answers beside the review's view.\n\n"
    "Double-click this cell to write your reflection."
)
NOT_COURSE_WORDS = (
    "Code Score",
    "Tests Failed",
    "Test cell",
    "Grade cell",
    "Student's answer",
    "Written response",
    "In&nbsp;[",
    "open_module",
    "m.recorded(",
    "m.decision(",
    "press Submit",
    "Press <strong>Refresh",
    "Refresh",
    "Double-click",
    "MathJax",
)


def _no_reflection(nb):
    """The trainee sends the module with the reflection box untouched (as released)."""
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == GID:
            c.source = "YOUR ANSWER HERE"


@pytest.fixture(scope="module")
def fixture_env():
    with pytest.MonkeyPatch.context() as mp:
        gs.use_fixture_case(mp)
        yield


@pytest.fixture(scope="module")
def released(tmp_path_factory, fictional_case, fixture_env):
    """The fictional course, its module notebooks carrying instructions for the live page, released once."""
    base = tmp_path_factory.mktemp("fb")
    notebooks = base / "notebooks"
    gs.write_source_course(fictional_case, notebooks, [M])
    path = notebooks / M / f"{M}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(DEAD))
    nbformat.write(nb, path)
    release(base / "grading", notebooks, log=lambda *_: None)
    return base / "grading"


def _course(released: Path, name: str) -> Path:
    dest = released.parent / name
    shutil.copytree(released, dest, ignore=shutil.ignore_patterns("submitted", "autograded", "feedback", STATE_DIR))
    return dest


def _gradebook(course: Path):
    from nbgrader.api import Gradebook

    cfg = load_config(course)
    return Gradebook(cfg.CourseDirectory.db_url, cfg.CourseDirectory.course_id)


def _reflection_grade(course: Path, trainee: str) -> dict:
    with _gradebook(course) as gb:
        g = gb.find_grade(GID, M, M, trainee)
        c = gb.find_comment(GID, M, M, trainee)
        return {"manual": g.manual_score, "needs": g.needs_manual_grade, "comment": c.manual_comment}


def _formgrader_mark(course: Path, trainee: str, score: float, comment: str) -> None:
    """What formgrader's Manual Grading page saves: the manual score (which clears the flag) and the comment."""
    with _gradebook(course) as gb:
        g = gb.find_grade(GID, M, M, trainee)
        g.manual_score, g.needs_manual_grade = score, False
        gb.find_comment(GID, M, M, trainee).manual_comment = comment
        gb.db.commit()


def _recorded_mark(course: Path, trainee: str, points: int, comment: str, marker="Jo", text=None) -> Mark:
    """What the marking page does: record the mark with the fingerprint of the text marked, then the gradebook."""
    text = reflection_text(course, trainee, M) if text is None else text
    with MarkBook(course) as book:
        mark = book.record(Mark(trainee, M, marker, {"overall": points}, comment, fingerprint(text)))
    write_to_gradebook(course, mark)
    return mark


def _submit(course: Path, case, trainee: str, edit=None, when="2026-01-10 10:00:00.000000 UTC", choices=None):
    gs.submit(
        course, trainee, M, gs.answers_doc(case, choices or {"practice": "b"}), notebook_edit=edit, timestamp=when
    )


def _grade_cli(course: Path, capsys) -> str:
    capsys.readouterr()
    course_main(["grade", "--course-dir", str(course), "--workers", "1", "--no-progress"])
    return capsys.readouterr().out


def _page(course: Path, trainee: str) -> Path:
    return course / "feedback" / trainee / M / f"{M}.html"


def test_nbgrader_keeps_the_old_mark_and_comment_when_a_resubmission_is_autograded(released, fictional_case):
    """The issue's scenario, measured on nbgrader itself: an empty reflection marked 0 with a comment, then a real
    reflection sent; autograde asks for a grader again but keeps the old score and comment."""
    course = _course(released, "nbgrader-resubmission")
    _submit(course, fictional_case, "ana", _no_reflection)
    grade(course, workers=1, progress=False, log=lambda *_: None)
    _formgrader_mark(course, "ana", 0, "No reflection was submitted, so this scores 0.")
    _submit(course, fictional_case, "ana", when="2026-01-11 10:00:00.000000 UTC")
    grade(course, workers=1, progress=False, log=lambda *_: None)
    assert _reflection_grade(course, "ana") == {
        "manual": 0.0,
        "needs": True,
        "comment": "No reflection was submitted, so this scores 0.",
    }


def test_a_resubmission_marked_before_it_is_flagged_stale_and_its_old_mark_never_sent(released, fictional_case, capsys):
    course = _course(released, "stale")
    _submit(course, fictional_case, "ana", _no_reflection)
    _grade_cli(course, capsys)
    _formgrader_mark(course, "ana", 0, "No reflection was submitted, so this scores 0.")
    made, _ = feedback(course, log=lambda *_: None)
    assert made == [_page(course, "ana")]  # sent once, while it was right

    _submit(course, fictional_case, "ana", when="2026-01-11 10:00:00.000000 UTC")
    held: list[str] = []
    feedback(course, log=lambda *_: None, held=held)  # resubmitted, not graded again yet
    assert held == ["ana/f01-early: resubmitted after it was graded: run `course grade` first, then mark it"]

    out = _grade_cli(course, capsys)
    assert "Stale mark: ana/f01-early: the mark given before the resubmission (0 of 3) is stale" in out
    assert "must be marked again before their feedback is sent: ana/f01-early" in out
    comment = _reflection_grade(course, "ana")["comment"]
    assert comment.startswith(STALE_MARK) and "No reflection was submitted" in comment  # flagged, not lost

    assert course_main(["feedback", "--course-dir", str(course)]) == 1
    printed = capsys.readouterr().out
    assert "Held back (1)" in printed
    assert "ana/f01-early: its comment was written for an earlier submission and is still flagged" in printed
    assert not _page(course, "ana").exists(), "the page sent before the resubmission must not stay to be released"

    # The marker saves a score in formgrader but leaves the flagged comment: still held back.
    _formgrader_mark(course, "ana", 2, comment)
    held = []
    feedback(course, log=lambda *_: None, held=held)
    assert len(held) == 1 and "still flagged" in held[0]
    # A mark saved in formgrader with the flag line deleted by hand goes out (the marker rewrote the comment).

    _recorded_mark(course, "ana", 3, "Links the bruise to the wider picture.")
    made, problems = feedback(course, log=lambda *_: None)
    assert problems == [] and made == [_page(course, "ana")]
    html = made[0].read_text()
    assert "Links the bruise to the wider picture." in html and "3 of 3 points" in html
    assert "No reflection was submitted" not in html and STALE_MARK not in html
    assert "My reflection as ana" in html


def test_feedback_holds_back_unmarked_and_changed_reflections_and_sends_formgrader_marks(
    released, fictional_case, capsys
):
    course = _course(released, "held")
    for t in ("unmarked", "changed", "formgrader", "recorded", "empty"):
        _submit(course, fictional_case, t, _no_reflection if t == "empty" else None)
    grade(course, workers=2, progress=False, log=lambda *_: None)
    _recorded_mark(course, "changed", 2, "Fine.", text="An earlier text of the reflection.")
    _formgrader_mark(course, "formgrader", 2, "Marked in formgrader.")
    _recorded_mark(course, "recorded", 1, "Say what you would do.")
    assert course_main(["feedback", "--course-dir", str(course)]) == 1
    out = capsys.readouterr().out
    assert "unmarked/f01-early: the reflection still needs marking" in out
    assert "changed/f01-early: the reflection changed since Jo marked it" in out
    assert {p.parent.parent.name for p in (course / "feedback").glob("*/*/*.html")} == {
        "formgrader",
        "recorded",
        "empty",  # nothing written: nbgrader's own 0 and "No response." stand
    }
    assert "Marked in formgrader." in _page(course, "formgrader").read_text()
    empty = _page(course, "empty").read_text()
    assert "You did not write a reflection for this module, so it scores 0." in empty
    assert "YOUR ANSWER HERE" not in empty and "No response." not in empty and "Comment from your trainer" not in empty


def test_a_resubmission_with_the_same_reflection_keeps_its_recorded_mark(released, fictional_case, capsys):
    course = _course(released, "same-text")
    _submit(course, fictional_case, "ana")
    grade(course, workers=1, progress=False, log=lambda *_: None)
    _recorded_mark(course, "ana", 2, "Good link.")
    _submit(course, fictional_case, "ana", when="2026-01-11 10:00:00.000000 UTC", choices={"practice": "a"})
    out = _grade_cli(course, capsys)
    assert "Mark kept: ana/f01-early: graded again with the same reflection: Jo's mark stands" in out
    assert _reflection_grade(course, "ana") == {"manual": 2.0, "needs": False, "comment": "Good link."}
    made, problems = feedback(course, log=lambda *_: None)
    assert problems == [] and len(made) == 1


def test_feedback_page_is_in_the_course_words_with_no_code_and_the_reviews_options(released, fictional_case):
    course = _course(released, "words")
    _submit(course, fictional_case, "ana", choices={"practice": "b", "hv-bruise": "record"})
    grade(course, workers=1, progress=False, log=lambda *_: None)
    _formgrader_mark(course, "ana", 1, "Say who you would tell.")
    made, problems = feedback(course, log=lambda *_: None)
    assert problems == []
    html = made[0].read_text()
    for words in NOT_COURSE_WORDS:
        assert words not in html, words
    assert not re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", html)  # nothing loaded from elsewhere: works offline
    assert "<script" not in html
    for words in (
        "Your feedback: The early months",
        "Your points: 1 of 6 points",
        "Decision: What do you do?",
        "Your reflection",
        "Comment from your trainer",
        "Say who you would tell.",
        "The first year in the town.",  # the paragraph stays; only its instruction goes
        "<strong>The review supports:</strong> Talk to social care",
        "Record it and wait: 0 points (your choice)",
        "Talk to social care: 2 points",
        "Visit and see Sam: 1 point",
    ):
        assert words in html, words


def _nbgrader(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_feedback_reaches_exchange_trainees_by_fetch_feedback_and_zip_collected_ones_by_zip(
    released, fictional_case, tmp_path
):
    """One trainee works through nbgrader's exchange (fetch, submit, collect: submission_secret.txt); another's
    work arrives by zip_collect (no secret). `course feedback --release --zip` releases to the exchange without
    stopping at the second, the first gets their page with fetch_feedback, and each gets a zip."""
    course = _course(released, "handback")
    exchange = course / "exchange"
    exchange.mkdir()
    cfg = load_config(course)
    env = dict(
        os.environ,
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        JUPYTER_DATA_DIR=str(tmp_path / "trainee-data"),  # the trainee's submission cache lives here
        JUPYTER_CONFIG_DIR=str(tmp_path / "trainee-config"),
    )
    trainee_args = [f"--course={cfg.CourseDirectory.course_id}", f"--Exchange.root={exchange}"]
    _nbgrader(["release_assignment", M], course, env)
    home = tmp_path / "trainee"
    home.mkdir()
    _nbgrader(["fetch_assignment", M, *trainee_args], home, env)
    (home / M / "answers.json").write_text(json.dumps(gs.answers_doc(fictional_case, {"practice": "a"})))
    _nbgrader(["submit", M, *trainee_args], home, env)
    _nbgrader(["collect", M], course, env)
    me = next(p.name for p in (course / "submitted").iterdir())
    assert (course / "submitted" / me / M / "submission_secret.txt").is_file()
    shutil.rmtree(exchange)  # as on a laptop where nothing went through the exchange yet: release makes it
    _submit(course, fictional_case, "zed-o'neil")  # zip_collect: no secret
    grade(course, workers=1, progress=False, log=lambda *_: None)
    for t in (me, "zed-o'neil"):
        _formgrader_mark(course, t, 2, f"Comment for {t}.")

    made, problems = feedback(course, log=lambda *_: None, release=True, zips=True)
    assert problems == [] and len(made) == 2
    _nbgrader(["fetch_feedback", M, *trainee_args], home, env)
    fetched = list((home / M / "feedback").glob(f"*/{M}.html"))
    assert len(fetched) == 1 and f"Comment for {me}." in fetched[0].read_text()
    outbound = exchange / cfg.CourseDirectory.course_id / "feedback"
    assert len(list(outbound.glob("*.html"))) == 2
    with _gradebook(course) as gb:  # as autograde leaves a marked reflection after a resubmission
        gb.find_grade(GID, M, M, me).needs_manual_grade = True
        gb.db.commit()
    held: list[str] = []
    feedback(course, log=lambda *_: None, release=True, held=held)
    assert len(held) == 1 and held[0].startswith(f"{me}/{M}:")
    assert len(list(outbound.glob("*.html"))) == 1, "the page released before must be taken out of the exchange"
    zips = sorted(p.name for p in (course / "feedback-zips").iterdir())
    assert zips == sorted([f"{file_stem(me)}.zip", f"{file_stem('zed-o' + chr(39) + 'neil')}.zip"])
    with zipfile.ZipFile(course / "feedback-zips" / f"{file_stem('zed-o' + chr(39) + 'neil')}.zip") as z:
        assert z.namelist() == [f"{M}.html"]
        assert "Comment for zed-o" in z.read(f"{M}.html").decode()


def test_marks_csv_has_each_criterion_marker_time_and_comment_spreadsheet_safe(released, fictional_case):
    course = _course(released, "marks-csv")
    for t in ("ana", "bo", "=cmd"):
        _submit(course, fictional_case, t)
    grade(course, workers=1, progress=False, log=lambda *_: None)
    first = _recorded_mark(course, "ana", 2, "=HYPERLINK(1) is not a comment")
    with MarkBook(course) as book:
        book.record(
            Mark(
                "ana",
                M,
                "Sam",
                {"overall": 1},
                "Second look.",
                fingerprint(reflection_text(course, "ana", M)),
                role="moderation",
            )
        )
    _formgrader_mark(course, "bo", 1, "From formgrader.")
    path = write_marks_csv(course, log=lambda *_: None)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    ana = [r for r in rows if r["trainee"] == "ana"]
    assert [(r["role"], r["criterion"], r["score"], r["max_score"], r["marker"]) for r in ana] == [
        ("first", "overall", "2", "3", "Jo"),
        ("moderation", "overall", "1", "3", "Sam"),
    ]
    assert ana[0]["marked_at"] == first.marked_at and ana[0]["status"] == "sent with feedback"
    assert ana[0]["comment"] == "'=HYPERLINK(1) is not a comment"
    bo = [r for r in rows if r["trainee"] == "bo"]
    assert [(r["criterion"], r["score"], r["comment"]) for r in bo] == [(FORMGRADER, "1.0", "From formgrader.")]
    assert not [r for r in rows if r["trainee"] in ("=cmd", "'=cmd")]  # not marked: no row
    assert len(marks_rows(course)) == 3
    assert course_main(["export", "--course-dir", str(course)]) == 0
    grades = (course / "grades.csv").read_text()
    assert grades.splitlines()[0].endswith(",submitted_at,comment")
    assert "From formgrader." in grades and "'=cmd" in grades


def test_regrading_everything_keeps_a_formgrader_mark_whose_reflection_did_not_change(released, fictional_case, capsys):
    course = _course(released, "force")
    _submit(course, fictional_case, "ana")
    _grade_cli(course, capsys)  # `course grade` keeps the fingerprint of each reflection it graded
    _formgrader_mark(course, "ana", 2, "Marked in formgrader.")
    capsys.readouterr()
    course_main(["grade", "--course-dir", str(course), "--workers", "1", "--no-progress", "--force"])
    out = capsys.readouterr().out
    assert "Mark kept: ana/f01-early: graded again with the same reflection: the mark given in formgrader stands" in out
    assert _reflection_grade(course, "ana") == {"manual": 2.0, "needs": False, "comment": "Marked in formgrader."}
    made, problems = feedback(course, log=lambda *_: None)
    assert problems == [] and len(made) == 1
