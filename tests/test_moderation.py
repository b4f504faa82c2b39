"""The moderation report (course/grading/moderation.py, `course moderation`): the blind double-marking sample, how
much of it is double-marked, and the agreement per module and criterion with the pairs that differ."""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from course.apps.cli import main as course_main
from course.grading.marks import MODERATION, Mark, MarkBook, criteria_points, fingerprint
from course.grading.moderation import kappa_in_words, moderation_report

M01 = "m01-early-years"  # the Pelka pack's m01: an analytic mark scheme, one line per criterion


@pytest.fixture(scope="module")
def blank_gradebook(tmp_path_factory):
    """An nbgrader gradebook with nothing graded, made once (nbgrader runs `alembic` to create one: seconds)."""
    from nbgrader.api import Gradebook

    from course.grading.config import _tools_on_path

    _tools_on_path()
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}"):
        pass
    return path


@pytest.fixture
def course(tmp_path, blank_gradebook):
    """A course folder with an (empty) nbgrader gradebook and a marking record: six reflections of m01, a sample of
    five chosen, first marks by Jo for all six, blind second marks by Sam for four of the sample."""
    shutil.copy(blank_gradebook, tmp_path / "gradebook.db")
    crit = sorted(criteria_points(M01))
    c0, c1 = crit[0], crit[1]
    trainees = ["t1", "t2", "t3", "t4", "t5", "=t6"]
    with MarkBook(tmp_path) as book:
        sample = book.moderation_sample([(t, M01) for t in trainees], seed=3)
        assert len(sample) == 5
        for t in trainees:
            book.record(Mark(t, M01, "Jo", dict.fromkeys(crit, 1) | {c1: 0}, "", fingerprint(t)))
        second = [t for t, _ in sample][:4]
        for i, t in enumerate(second):
            scores = dict.fromkeys(crit, 1) | {c1: 0}
            if i == 0:
                scores[c0] = 0  # Sam differs from Jo on the first criterion, once
            book.record(Mark(t, M01, "Sam", scores, "", fingerprint(t), role=MODERATION))
    return tmp_path, sample, second, c0, c1


def test_moderation_report_counts_the_sample_and_its_double_marked_part(course):
    folder, sample, second, _, _ = course
    report = moderation_report(folder)
    assert report.sample == sample
    assert sorted(report.double_marked) == sorted((t, M01) for t in second)
    assert len(report.waiting) == 1


def test_moderation_report_gives_agreement_per_criterion_with_the_differing_pairs_in_plain_words(course, capsys):
    folder, _, second, c0, _ = course
    assert course_main(["moderation", "--course-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "4 of 5 are double-marked" in out
    md = (folder / "moderation.md").read_text()
    assert out.startswith(md)  # what the trainer reads on screen is what is kept in moderation.md
    from course.core.cached import load_case_cached

    words = {c.id: c.text for c in load_case_cached().module(M01).reflection.criteria}
    assert f"### {M01}: {words[c0]}" in md
    assert "the same points in 3 of 4 (75%)" in md
    first_t = second[0]
    assert f"| {first_t} | Jo | 1 | Sam | 0 |" in md
    assert "the same points in 4 of 4 (100%)" in md  # c1: everybody 0
    assert "cannot be worked out yet" in md  # no variation on c1: kappa undefined, said so

    rows = list(csv.DictReader(io.StringIO((folder / "moderation.csv").read_text())))
    line = next(r for r in rows if r["criterion"] == c0 and not r["trainee"])
    assert (line["pairs"], line["agreed"], line["agreement"]) == ("4", "3", "0.75")
    diff = next(r for r in rows if r["criterion"] == c0 and r["trainee"])
    assert (
        diff["trainee"],
        diff["first_marker"],
        diff["first_score"],
        diff["second_marker"],
        diff["second_score"],
    ) == (
        first_t,
        "Jo",
        "1",
        "Sam",
        "0",
    )


def test_moderation_csv_writes_a_formula_like_trainee_id_as_text(tmp_path, blank_gradebook):
    shutil.copy(blank_gradebook, tmp_path / "gradebook.db")
    crit = sorted(criteria_points(M01))
    with MarkBook(tmp_path) as book:
        book.moderation_sample([("=cmd", M01)], seed=1)
        book.record(Mark("=cmd", M01, "Jo", dict.fromkeys(crit, 1), "", ""))
        book.record(Mark("=cmd", M01, "Sam", dict.fromkeys(crit, 0), "", "", role=MODERATION))
    course_main(["moderation", "--course-dir", str(tmp_path)])
    text = (tmp_path / "moderation.csv").read_text()
    assert "'=cmd" in text and "\n=cmd" not in text and ",=cmd" not in text


@pytest.mark.parametrize(
    ("kappa", "words"),
    [(None, "cannot be worked out"), (-0.2, "worse than chance"), (0.5, "moderate"), (0.9, "almost perfect")],
)
def test_kappa_is_put_in_words_a_marking_team_knows(kappa, words):
    assert words in kappa_in_words(kappa)


def test_no_graded_reflection_means_no_sample_said_plainly(tmp_path, blank_gradebook, capsys):
    shutil.copy(blank_gradebook, tmp_path / "gradebook.db")
    assert course_main(["moderation", "--course-dir", str(tmp_path)]) == 0
    assert "No reflections have been graded yet" in capsys.readouterr().out
