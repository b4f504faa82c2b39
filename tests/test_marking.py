"""The marking page's engine (course/grading/marking.py, comment_bank.py) and the page's own files: the queue in
marking order, blind moderation over the sample only, a stale reflection refused, the comment bank seeded from the
descriptors and validated, trainee text given back as plain text, and a page that never builds markup from data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from course.apps.cli import main
from course.apps.mark import CSP, PAGE_DIR
from course.grading.comment_bank import BANK_FILE, add_comment, load_bank, seed_comments
from course.grading.config import GradingError
from course.grading.marking import MarkingSession, mark_scheme, shown_text
from course.grading.marks import FIRST, MODERATION, Mark, MarkBook, criteria_points, fingerprint
from course.grading.preprocessors.place_reflection import as_markdown
from course.grading.preprocessors.sanitise_text import inert_html
from tests import marking_support as ms

M00, M01 = "m00-welcome", "m01-early-years"


def _autograded(course: Path, trainee: str, module: str, text: str, answers: dict | None = None) -> None:
    """An autograded submission as `course grade` leaves it: the reflection made inert in its graded cell."""
    folder = course / "autograded" / trainee / module
    folder.mkdir(parents=True, exist_ok=True)
    cell = nbformat.v4.new_markdown_cell(inert_html(as_markdown(text)))
    cell.metadata = {"nbgrader": {"grade_id": f"reflection-{module}", "grade": True, "solution": True}}
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), folder / f"{module}.ipynb")
    if answers is not None:
        (folder / "answers.json").write_text(json.dumps(answers))


@pytest.fixture
def course(tmp_path):
    from course.core.cached import load_case_cached

    case = load_case_cached()
    c = tmp_path / "grading"
    for n in range(7):
        _autograded(c, f"t{n}", M01, f"Reflection {n}.", ms.answers(case, M01, f"Reflection {n}.", pick=n))
    _autograded(c, "t0", M00, "Hindsight bias.")
    _autograded(c, "t6", M00, "")  # submitted without a reflection
    return c


def _full(module, value=0):
    return dict.fromkeys(criteria_points(module), value)


def test_the_queue_goes_module_by_module_in_trainee_order_with_each_status(course):
    s = MarkingSession(course, "Jo")
    q = s.queue()
    assert [(x["module"], x["trainee"]) for x in q][:3] == [(M00, "t0"), (M00, "t6"), (M01, "t0")]
    assert {x["status"] for x in q} == {"to mark"}
    with MarkBook(course) as book:
        book.record(Mark("t0", M00, "Jo", _full(M00), "ok", fingerprint(s.source("t0", M00))))
        book.record(Mark("t6", M00, "Jo", _full(M00), "ok", fingerprint("an earlier text")))
    status = {(x["trainee"], x["module"]): x["status"] for x in s.queue()}
    assert status[("t0", M00)] == "marked" and status[("t6", M00)] == "changed since marked"


def test_an_item_carries_the_text_the_decisions_in_words_and_the_mark_scheme_line_by_line(course):
    item = MarkingSession(course, "Jo").item("t1", M01)
    assert item["text"] == "Reflection 1." and item["mark"] is None
    first = item["decisions"][0]
    assert first["answered"] and first["chosen"][0]["text"] and first["rationale"].startswith("As m01")
    scheme = mark_scheme(M01)
    assert [c["id"] for c in scheme["criteria"]] == list(criteria_points(M01))
    assert all(lv["anchor"] and lv["descriptor"] for c in scheme["criteria"] for lv in c["levels"])


def test_hostile_markup_in_a_reflection_comes_back_as_the_characters_typed():
    source = inert_html(as_markdown(ms.HOSTILE))
    assert "<script>" not in source and "<img" not in source  # the stored cell is inert
    assert shown_text(source) == ms.HOSTILE  # and the page gets the words back, to show as text
    assert shown_text(inert_html(as_markdown("One.\n\nTwo.\nThree."))) == "One.\n\nTwo.\nThree."


def test_a_saved_mark_needs_every_criterion_and_the_text_the_marker_saw(course):
    s = MarkingSession(course, "Jo", moderate=True)  # moderation: nothing to write in a gradebook here
    t, m = s.reflections()[0]
    seen = fingerprint(s.source(t, m))
    with pytest.raises(GradingError, match="missing"):
        s.save(t, m, {}, "", seen)
    with pytest.raises(GradingError, match="changed since this page showed it"):
        s.save(t, m, _full(m, 1), "Good.", fingerprint("what it said before a regrade"))
    with pytest.raises(GradingError, match="not a reflection to mark"):
        s.save("nobody", m, _full(m, 1), "", seen)


def test_moderation_is_blind_covers_the_sample_only_and_never_the_first_markers_own(course):
    first = MarkingSession(course, "Jo")
    with MarkBook(course) as book:
        for t, m in first.reflections():
            book.record(Mark(t, m, "Jo", _full(m, 1), "First marker's comment.", fingerprint(first.source(t, m))))
    mod = MarkingSession(course, "Sam", moderate=True)
    sample = mod.reflections()
    with MarkBook(course) as book:
        assert sample == [tm for tm in first.reflections() if tm in set(book.moderation_sample([]))]
    assert len(sample) == 5 and ("t6", M00) not in sample  # at least 5; an empty reflection is not moderated
    assert {x["status"] for x in mod.queue()} == {"to mark"}  # Jo's marks do not count as Sam's
    t, m = sample[0]
    item = mod.item(t, m)
    assert item["mark"] is None and "First marker" not in json.dumps(item)
    mod.save(t, m, _full(m, 0), "Second look.", item["fingerprint"])
    with MarkBook(course) as book:
        assert book.latest(t, m, MODERATION).marker == "Sam"
        assert book.latest(t, m, FIRST).comment == "First marker's comment."
    with pytest.raises(GradingError, match="cannot moderate"):
        MarkingSession(course, "Jo", moderate=True).save(t, m, _full(m, 0), "", item["fingerprint"])


def test_the_comment_bank_is_seeded_from_descriptors_never_from_the_markers_anchors(tmp_path):
    bank = load_bank(tmp_path)
    assert (tmp_path / BANK_FILE).is_file()
    text = json.dumps(bank)
    scheme = mark_scheme(M01)
    assert set(bank["modules"][M01]) == {c["id"] for c in scheme["criteria"]}
    assert all(lv["descriptor"] in text for c in scheme["criteria"] for lv in c["levels"][1:])
    assert not any(lv["anchor"] in text for c in scheme["criteria"] for lv in c["levels"])
    assert seed_comments() == bank


def test_a_comment_saved_to_the_bank_is_kept_once_and_a_trainers_edit_survives(tmp_path):
    load_bank(tmp_path)
    doc = json.loads((tmp_path / BANK_FILE).read_text())
    doc["modules"][M01]["pattern"]["1"] = ["My own words."]
    (tmp_path / BANK_FILE).write_text(json.dumps(doc))
    add_comment(tmp_path, M01, "pattern", 0, "Say what links the events.")
    add_comment(tmp_path, M01, "pattern", 0, "Say what links the events.")
    bank = load_bank(tmp_path)["modules"][M01]["pattern"]
    assert bank["1"] == ["My own words."] and bank["0"].count("Say what links the events.") == 1
    with pytest.raises(GradingError, match="levels 0 to 1"):
        add_comment(tmp_path, M01, "pattern", 3, "x")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(version=2), r"comment-bank.json: version: must be 1"),
        (lambda d: d["modules"][M01].update(made_up={}), r"modules\.m01-early-years\.made_up: no criterion"),
        (lambda d: d["modules"][M01]["pattern"].update({"4": ["x"]}), r"pattern\.4: a level is points from 0 to 1"),
        (lambda d: d["modules"][M01]["pattern"].update({"1": [3]}), r"pattern\.1\[0\]: a comment is text"),
        (lambda d: d["modules"].update(nope={}), r"modules\.nope: no module"),
    ],
)
def test_a_comment_bank_that_cannot_be_used_is_refused_naming_the_file_and_field(tmp_path, edit, message):
    doc = load_bank(tmp_path)
    edit(doc)
    (tmp_path / BANK_FILE).write_text(json.dumps(doc))
    with pytest.raises(GradingError, match=message):
        load_bank(tmp_path)


def test_a_comment_bank_that_is_not_json_is_named(tmp_path):
    (tmp_path / BANK_FILE).write_text("{not json")
    with pytest.raises(GradingError, match=r"comment-bank\.json: not valid JSON"):
        load_bank(tmp_path)


def test_the_page_builds_no_markup_from_data_and_loads_nothing_from_outside():
    js = (PAGE_DIR / "mark.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", js)
    for name in ("mark.html", "mark.js", "mark.css"):
        assert not re.search(r"https?://|//cdn|@import", (PAGE_DIR / name).read_text()), name
    assert "script-src 'self'" in CSP and "unsafe" not in CSP and "default-src 'none'" in CSP


def test_course_mark_without_a_gradebook_says_what_to_run(tmp_path, capsys):
    assert main(["mark", "--course-dir", str(tmp_path), "--no-browser", "--marker", "Jo"]) == 1
    err = capsys.readouterr().err
    assert "no gradebook here" in err and "course grade" in err


def test_course_mark_refuses_a_bad_comment_bank_naming_the_file_and_field(course, capsys):
    (course / "gradebook.db").touch()
    (course / BANK_FILE).write_text(json.dumps({"version": 1, "modules": {M01: {"pattern": {"1": [""]}}}}))
    assert main(["mark", "--course-dir", str(course), "--no-browser", "--marker", "Jo"]) == 1
    assert "comment-bank.json: modules.m01-early-years.pattern.1[0]: a comment is text" in capsys.readouterr().err
