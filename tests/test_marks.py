"""The marking record (course/grading/marks.py): marks per criterion with marker and time, never rewritten;
the moderation sample and the agreement between two markers; a first mark written into nbgrader's gradebook."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from course.grading.config import GradingError, load_config
from course.grading.marks import (
    FIRST,
    MODERATION,
    Mark,
    MarkBook,
    fingerprint,
    reflection_text,
    weighted_kappa,
    write_to_gradebook,
)
from tests import grading_support as gs

M01 = "m01-early-years"  # the Pelka pack's m01: criteria in-time (1 point) and others


@pytest.fixture
def book(tmp_path):
    with MarkBook(tmp_path) as b:
        yield b


def _scores(**over):
    from course.grading.marks import criteria_points

    base = dict.fromkeys(criteria_points(M01), 0)
    base.update(over)
    return base


def test_a_mark_is_kept_with_its_marker_time_and_fingerprint_and_never_rewritten(book, tmp_path):
    first = book.record(Mark("ana", M01, "Jo", _scores(**{"in-time": 1}), "Good.", fingerprint("text")))
    assert first.marked_at and first.n == 1 and first.total == 1
    again = book.record(Mark("ana", M01, "Sam", _scores(), "Needs events.", fingerprint("text")))
    assert book.latest("ana", M01) == again
    assert [m.marker for m in book.history("ana", M01)] == ["Jo", "Sam"]
    db = sqlite3.connect(tmp_path / "marks.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="never changed"):
        db.execute("UPDATE marks SET comment = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        db.execute("DELETE FROM marks")


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (lambda: {"in-time": 1}, "missing"),
        (lambda: {**_scores(), "made-up": 1}, "no criterion made-up"),
        (lambda: _scores(**{"in-time": 5}), "from 0 to 1"),
        (lambda: _scores(**{"in-time": True}), "whole number"),
    ],
)
def test_a_mark_outside_the_mark_scheme_is_refused_naming_the_criterion(book, scores, message):
    with pytest.raises(GradingError, match=message):
        book.record(Mark("ana", M01, "Jo", scores(), "", fingerprint("")))
    assert book.marks() == []


def test_a_mark_needs_a_marker_and_a_known_role(book):
    with pytest.raises(GradingError, match="marker"):
        book.record(Mark("ana", M01, "  ", _scores(), "", ""))
    with pytest.raises(GradingError, match="role"):
        book.record(Mark("ana", M01, "Jo", _scores(), "", "", role="third"))


def test_fingerprint_ignores_line_ends_and_outer_space_but_not_words():
    assert fingerprint("A bruise.\r\nSeen.  \n") == fingerprint("A bruise.\nSeen.")
    assert fingerprint("A bruise.") != fingerprint("A bruise was seen.")
    assert fingerprint(None) == fingerprint("")


def test_the_moderation_sample_is_a_tenth_at_least_five_and_chosen_once(book):
    pool = [(f"t{i:02d}", M01) for i in range(80)]
    sample = book.moderation_sample(pool, seed=1)
    assert len(sample) == 8 and set(sample) <= set(pool)
    assert book.moderation_sample([*pool, ("late", M01)], seed=99) == sample  # kept, not redrawn


def test_a_small_cohort_is_sampled_at_least_five_or_whole(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with MarkBook(tmp_path / "a") as b:
        assert len(b.moderation_sample([(f"t{i}", M01) for i in range(20)], seed=2)) == 5
    with MarkBook(tmp_path / "b") as b:
        assert len(b.moderation_sample([("t1", M01), ("t2", M01)], seed=2)) == 2


def test_weighted_kappa_matches_worked_values():
    assert weighted_kappa([0, 1, 2], [0, 1, 2], 2) == pytest.approx(1.0)
    # Two markers who never agree on a 0/1 scale, each using both levels equally: kappa -1.
    assert weighted_kappa([0, 1, 0, 1], [1, 0, 1, 0], 1) == pytest.approx(-1.0)
    # Worked by hand: a = [0,1,1,2], b = [0,1,2,2], top 2 -> observed 0.875, expected 0.5625, kappa 5/7.
    assert weighted_kappa([0, 1, 1, 2], [0, 1, 2, 2], 2) == pytest.approx(5 / 7)
    assert weighted_kappa([1, 1], [1, 1], 1) is None  # no variation: undefined, not "perfect"


def test_agreement_pairs_first_and_blind_second_marks_by_different_markers(book):
    from course.grading.marks import criteria_points

    crit = sorted(criteria_points(M01))
    c0 = crit[0]
    for t, (a, b) in {"t1": (1, 1), "t2": (0, 1), "t3": (1, 1)}.items():
        book.record(Mark(t, M01, "Jo", _scores(**{c0: a}), "", fingerprint(t)))
        book.record(Mark(t, M01, "Sam", _scores(**{c0: b}), "", fingerprint(t), role=MODERATION))
    # Same marker twice is not moderation: left out.
    book.record(Mark("t4", M01, "Jo", _scores(), "", fingerprint("t4")))
    book.record(Mark("t4", M01, "Jo", _scores(**{c0: 1}), "", fingerprint("t4"), role=MODERATION))
    rows = {r.criterion: r for r in book.agreement()}
    assert set(rows) == set(crit)
    line = rows[c0]
    assert (line.pairs, line.agreed) == (3, 2)
    assert [(d.trainee, d.first, d.first_marker, d.second, d.second_marker) for d in line.differences] == [
        ("t2", 0, "Jo", 1, "Sam")
    ]
    assert book.latest_marks(FIRST)[("t2", M01)].marker == "Jo"


@pytest.mark.slow
def test_a_first_mark_lands_in_the_gradebook_as_one_score_and_comment(tmp_path, fictional_case, monkeypatch):
    from nbgrader.api import Gradebook

    from course.grading.autograde import grade
    from course.grading.release import release

    gs.use_fixture_case(monkeypatch)
    notebooks = tmp_path / "notebooks"
    gs.write_source_course(fictional_case, notebooks, ["f01-early"])
    course = tmp_path / "grading"
    release(course, notebooks, log=lambda *_: None)
    gs.submit(course, "ana", "f01-early", gs.answers_doc(fictional_case, {"practice": "a"}))
    grade(course, workers=1, progress=False, log=lambda *_: None)
    text = reflection_text(course, "ana", "f01-early")
    assert text and "My reflection as ana" in text
    with MarkBook(course) as book:
        mark = book.record(Mark("ana", "f01-early", "Jo", {"overall": 2}, "Links the bruise.", fingerprint(text)))
        write_to_gradebook(course, mark)
        with pytest.raises(GradingError, match="only a first mark"):
            write_to_gradebook(course, Mark("ana", "f01-early", "Sam", {"overall": 1}, "", "", role=MODERATION))
        with pytest.raises(GradingError, match="no autograded submission"):
            write_to_gradebook(course, Mark("nobody", "f01-early", "Jo", {"overall": 1}, "", ""))
    cfg = load_config(course)
    with Gradebook(cfg.CourseDirectory.db_url, cfg.CourseDirectory.course_id) as gb:
        g = gb.find_grade("reflection-f01-early", "f01-early", "f01-early", "ana")
        c = gb.find_comment("reflection-f01-early", "f01-early", "f01-early", "ana")
        assert (g.manual_score, g.needs_manual_grade, c.manual_comment) == (2.0, False, "Links the bruise.")
    shutil.rmtree(tmp_path / "notebooks")
