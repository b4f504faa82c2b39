"""Nothing a trainee sends changes another's grade, runs in a trainer's browser or stops a run (issue 17): the real
nbgrader pipeline on the fictional course, with planted packages, hostile markdown, damaged answers files,
deleted cells and awkward trainee ids."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from course.grading.autograde import grade
from course.grading.export import export
from course.grading.feedback import feedback
from tests import grading_support as gs
from tests import hostile_support as hs
from tests.test_grading import ALIGNED, _fresh_course, _scores

pytestmark = pytest.mark.slow
QUIET = {"progress": False, "log": lambda *_: None}


@pytest.fixture(scope="module")
def released(tmp_path_factory, fictional_case):
    """The fictional course released once into an nbgrader course folder (as in test_grading)."""
    yield from hs.released_fixture_course(tmp_path_factory, fictional_case)


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _autograded(course: Path, trainee: str, module: str = "f01-early"):
    return nbformat.read(course / "autograded" / trainee / module / f"{module}.ipynb", as_version=4)


def _shown(nb, grade_id) -> str:
    return "".join(o.get("text", "") for o in _cell(nb, grade_id).outputs if o.get("output_type") == "stream")


# --------------------------------------------------------------------------- 2. trainee text is inert


def _hostile_notebook(nb):
    _cell(nb, "reflection-f01-early").source = hs.HOSTILE_TEXT
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("An added note.\n\n" + hs.HOSTILE_TEXT))
    raw = nbformat.v4.new_raw_cell(hs.PAYLOADS[0] + hs.PAYLOADS[1])
    raw.metadata = {"raw_mimetype": "text/html", "format": "text/html"}
    nb.cells.append(raw)
    nb.cells[0].source += "\n\n" + hs.PAYLOADS[1]  # a course markdown cell, edited
    svg = nbformat.v4.new_markdown_cell("A picture: ![x](attachment:a.svg)")
    svg["attachments"] = {
        "a.svg": {"image/svg+xml": f"<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('{hs.MARK}')\"/>"}
    }
    nb.cells.append(svg)
    breakout = f"</script><script>alert('{hs.MARK}')</script>"
    nb.cells[1].metadata["tags"] = [f"x\" onmouseover=\"alert('{hs.MARK}')"]
    nb.metadata["title"] = f"</title><script>alert('{hs.MARK}')</script>"
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {"m": {"model_name": breakout}}, "version_major": 2}
    }


def _formgrader_html(course: Path, trainee: str) -> str:
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    cfg = Config()
    cfg.HTMLExporter.template_name = "formgrade"
    cfg.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {
        "assignment_id": "f01-early",
        "notebook_id": "f01-early",
        "submission_id": "x",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": trainee,
        "last_name": None,
        "first_name": None,
        "notebook_path": f"autograded/{trainee}/f01-early/f01-early.ipynb",
    }
    path = course / "autograded" / trainee / "f01-early" / "f01-early.ipynb"
    html, _ = HTMLExporter(config=cfg).from_filename(str(path), resources=resources)
    return html


def test_trainee_markdown_is_inert_in_formgrader_and_feedback(released, fictional_case):
    course = _fresh_course(released, "inert")
    gs.submit(course, "mallory", "f01-early", gs.answers_doc(fictional_case, ALIGNED), notebook_edit=_hostile_notebook)
    run = grade(course, workers=1, **QUIET)
    assert run.failed == {}
    formgrader = _formgrader_html(course, "mallory")
    assert hs.executable_markup(formgrader) == []
    assert "My honest reflection" in formgrader and "An added note." in formgrader
    assert "Links the bruise to the wider picture." in formgrader  # the mark scheme is still there for graders
    assert hs.executable_markup_in_file(course / "autograded" / "mallory" / "f01-early" / "f01-early.ipynb") == []
    gs.mark_reflections(course)  # feedback is made only for marked reflections
    made, problems = feedback(course, log=lambda *_: None)
    assert problems == []
    [page] = made
    html = page.read_text(encoding="utf-8")
    assert hs.executable_markup(html) == []
    assert "My honest reflection" in html
    assert _scores(course)[("mallory", "f01-early", "score-hv-bruise")] == 2.0


# --------------------------------------------------------------------------- 3. one bad submission never stops a run


def test_damaged_answers_score_zero_with_a_message_and_stop_nobody(released, fictional_case):
    course = _fresh_course(released, "damaged")
    good = gs.answers_doc(fictional_case, ALIGNED)
    damaged = hs.damaged_answers(good)
    for name, content in damaged.items():
        folder = gs.submit(course, f"t-{name}", "f01-early", None)
        hs.write_damaged(folder, content)
    gs.submit(course, "t-bom", "f01-early", "\ufeff" + json.dumps(good))
    gs.submit(course, "t-good", "f01-early", good)
    run = grade(course, workers=2, **QUIET)
    assert run.failed == {}
    scores = _scores(course)
    assert scores[("t-bom", "f01-early", "score-hv-bruise")] == 2.0
    assert scores[("t-good", "f01-early", "score-hv-bruise")] == 2.0
    assert "t-bom/f01-early" not in run.flags and "t-good/f01-early" not in run.flags
    for name in damaged:
        key = f"t-{name}/f01-early"
        assert scores[(f"t-{name}", "f01-early", "score-hv-bruise")] == 0.0, name
        assert any("answers.json" in f for f in run.flags.get(key, [])), (name, run.flags.get(key))
        shown = _shown(_autograded(course, f"t-{name}"), "score-hv-bruise")
        assert shown.strip() and "Traceback" not in shown and str(course) not in shown, name
    for name in ("choice-3", "choice-list-for-single", "rationale-list"):
        assert scores[(f"t-{name}", "f01-early", "score-practice")] == 1.0  # the rest of the file still counts
        assert "cannot be used" in _shown(_autograded(course, f"t-{name}"), "score-hv-bruise")
    gs.mark_reflections(course)  # feedback is made only for marked reflections
    made, problems = feedback(course, log=lambda *_: None)
    assert problems == [] and len(made) == len(damaged) + 2
    for page in made:
        html = page.read_text(encoding="utf-8")
        assert str(course) not in html, page  # no server path on a trainee's page
        assert hs.tracebacks(html) == [], page


def _drop(grade_id):
    def edit(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]

    return edit


def _move_opening_last(nb):
    intro = _cell(nb, "intro")
    nb.cells.remove(intro)
    nb.cells.append(intro)


def test_deleted_or_moved_course_cells_are_put_back_flagged_and_scored(released, fictional_case):
    course = _fresh_course(released, "deleted")
    cases = {"no-graded": _drop("score-hv-bruise"), "no-opening": _drop("intro"), "moved": _move_opening_last}
    for trainee, edit in cases.items():
        gs.submit(course, trainee, "f01-early", gs.answers_doc(fictional_case, ALIGNED), notebook_edit=edit)
    run = grade(course, workers=2, **QUIET)
    assert run.failed == {}
    scores = _scores(course)
    for trainee in cases:
        assert scores[(trainee, "f01-early", "score-practice")] == 1.0, trainee
        assert scores[(trainee, "f01-early", "score-hv-bruise")] == 2.0, trainee
        assert run.flags.get(f"{trainee}/f01-early"), trainee
        nb = _autograded(course, trainee)
        assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    assert any("'intro'" in f and "missing" in f for f in run.flags["no-opening/f01-early"])
    assert any("order" in f for f in run.flags["moved/f01-early"])


def test_a_junk_notebook_is_named_with_a_plain_reason(released, fictional_case):
    course = _fresh_course(released, "junk")
    for trainee, content in (("bytes", bytes(range(256)) * 4), ("json", b'{"not": "a notebook"}')):
        folder = gs.submit(course, trainee, "f01-early", gs.answers_doc(fictional_case, ALIGNED))
        (folder / "f01-early.ipynb").write_bytes(content)
    gs.submit(course, "fine", "f01-early", gs.answers_doc(fictional_case, ALIGNED))
    run = grade(course, workers=1, **QUIET)
    assert sorted(run.failed) == ["bytes/f01-early", "json/f01-early"]
    for reason in run.failed.values():
        assert "f01-early.ipynb" in reason and "notebook" in reason
        assert "Error" not in reason and "Traceback" not in reason, reason
    assert _scores(course)[("fine", "f01-early", "score-hv-bruise")] == 2.0


# --------------------------------------------------------------------------- 4. ids


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own add_submission, used as a stand-in
def test_ids_nbgrader_would_glob_or_strip_are_refused_and_others_made_safe(released, fictional_case):
    course = _fresh_course(released, "ids")
    long_id = "l" * 250
    for trainee in ("lee[2]", "lee2", "pat ", "pat", "index", "=cmd", long_id):
        gs.submit(course, trainee, "f01-early", gs.answers_doc(fictional_case, ALIGNED))
    run = grade(course, workers=2, **QUIET)
    assert sorted(run.refused) == ["lee[2]", "pat "]
    assert "pattern" in run.refused["lee[2]"] and "space" in run.refused["pat "]
    assert sorted(run.graded) == sorted(f"{t}/f01-early" for t in ("lee2", "pat", "index", "=cmd", long_id))
    again = grade(course, workers=2, **QUIET)
    assert again.graded == [] and sorted(again.refused) == ["lee[2]", "pat "]  # lee2 and pat are not regraded
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # as if graded by hand with plain nbgrader
        gb.add_student("lee[2]")
        gb.add_submission("f01-early", "lee[2]")
    problems: list[str] = []
    csv_path, summaries = export(course, log=lambda *_: None, problems=problems)
    assert len(problems) == 1 and "lee[2]" in problems[0] and "pattern" in problems[0]
    text = csv_path.read_text(encoding="utf-8")
    assert "\n'=cmd," in text and "\n=cmd" not in text and "lee[2]" not in text
    index = (summaries / "index.md").read_text(encoding="utf-8")
    assert index.startswith("# Cohort summary") and all(t in index for t in ("lee2", "pat", "cmd"))
    assert len(list(summaries.glob("*.md"))) == 6  # five trainees and the cohort index, none overwritten
    # feedback refuses a pattern id (it would make lee2's page), and carries on with the rest
    shutil.copytree(course / "autograded" / "lee2", course / "autograded" / "lee[2]")
    gs.mark_reflections(course)  # feedback is made only for marked reflections
    made, problems = feedback(course, log=lambda *_: None)
    assert len(made) == 5 and any("lee[2]" in p and "pattern" in p for p in problems)
