"""The facade module notebooks call (course.notebook.open_module), against the fictional fixture case."""

from __future__ import annotations

import datetime as dt
import json
import os

import matplotlib.pyplot as plt
import pytest

from course.core import knowledge
from course.notebook import ModuleSession, open_module
from course.render.lens import lens_html
from tests.answering import submit
from tests.paths import FIXTURE_PACK, ROOT

pytestmark = pytest.mark.usefixtures("writable_run")  # conftest.py; `case` is the fictional pack, from there too


def test_open_module_finds_answers_in_the_notebooks_folder(fictional_case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = open_module("f01-early", case=FIXTURE_PACK)
    assert isinstance(m, ModuleSession) and m.store.path == tmp_path / "answers.json"
    assert m.module.id == "f01-early" and m.case.id == fictional_case.id


def test_intro_and_key_points_render_as_html_and_plain_text(fictional_case, tmp_path):
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    intro = m.intro()
    # the notebook's own heading carries the title; the intro does not repeat it
    assert "<h2>About this module</h2>" in intro._repr_html_() and "The early months" not in intro._repr_html_()
    assert "Explain who knew what in 2019." in repr(intro)
    assert "about 20 minutes" in repr(intro) and "Decisions:</strong> 2" in intro._repr_html_()
    points = m.key_points()
    assert "A bruise was seen and passed on." not in points.value and "once you have answered" in points.value
    for d in ("practice", "hv-bruise"):  # the key points tell how it ended: they wait for the last answer
        view = m.decision(d)
        view.set_selected(view.decision.options[0].id)
        submit(view)
    assert "A bruise was seen and passed on." in points.value


def test_unknown_module_or_decision_is_a_plain_error(fictional_case, tmp_path):
    with pytest.raises(ValueError, match="no module 'm99'"):
        open_module("m99", case=fictional_case, answers_dir=tmp_path)
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    with pytest.raises(ValueError, match="no decision 'social-assessment' in module f01-early"):
        m.decision("social-assessment")


def test_recorded_and_score_before_any_answer(fictional_case, tmp_path, capsys):
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    m.recorded("hv-bruise")
    assert "No answer recorded for this decision yet" in capsys.readouterr().out
    assert m.score("hv-bruise") == 0.0
    assert "scores 0" in capsys.readouterr().out


def test_grading_reads_the_locked_first_answer_not_later_changes(fictional_case, tmp_path, capsys):
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    view = m.decision("hv-bruise")
    view.choice.value = "visit"
    view.confidence.value = 2
    view.rationale.value = "See Sam first."
    submit(view)
    view.choice.value = "refer"
    submit(view)
    assert m.score("hv-bruise") == 1.0
    capsys.readouterr()
    m.recorded("hv-bruise")
    out = capsys.readouterr().out
    assert "Your graded answer (your first)" in out and "Visit and see Sam" in out
    assert "Confidence: 2 out of 5" in out and "See Sam first." in out
    assert "changed your answer 1 time afterwards" in out and "Talk to social care" not in out
    # A fresh session (the notebook reopened, or autograde's fresh kernel) reads the same.
    again = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    assert again.score("hv-bruise") == 1.0 and again.decision("hv-bruise").revealed


def test_score_of_a_damaged_answers_file_is_zero_with_a_plain_message_and_the_file_untouched(
    fictional_case, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    (tmp_path / "answers.json").write_text("{broken", encoding="utf-8")
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    assert m.score("hv-bruise") == 0.0
    out = capsys.readouterr().out
    assert "damaged" in out and "Traceback" not in out
    m.recorded("hv-bruise")
    assert "damaged" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.json"]


def test_nothing_is_written_while_nbgrader_executes_the_notebook(fictional_case, tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    m.lens(), m.timeline(), m.summary()
    view = m.decision("hv-bruise")
    view.choice.value = "refer"
    submit(view)
    assert m.score("hv-bruise") == 0.0
    assert list(tmp_path.iterdir()) == []


def test_lens_and_timeline_share_one_date_and_the_lens_agency_is_highlighted(fictional_case, tmp_path):
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    lens = m.lens(agency="hv")
    tl = m.timeline()
    for d in ("practice", "hv-bruise"):  # the whole period is open once the module's decisions are answered
        view = m.decision(d)
        view.set_selected(view.decision.options[0].id)
        submit(view)
    assert tl.chart.highlight == "hv"
    lens.slider.value = dt.date(2019, 7, 31)
    assert tl.slider.value == dt.date(2019, 7, 31) and tl.chart._label.get_text() == "July 2019"
    tl.slider.value = dt.date(2019, 6, 30)
    assert lens.slider.value == dt.date(2019, 6, 30) and "by the end of June 2019" in lens.view.value
    lens.agency.value = "police"
    assert tl.chart.highlight == "police"


def test_summary_reflects_answers_given_in_the_same_session(fictional_case, tmp_path):
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    summary = m.summary()
    assert "0 of 3" in summary.table.value
    view = m.decision("practice")
    view.choice.value = "a"
    submit(view)
    summary.refresh()
    assert "1 of 3" in summary.table.value and "The right one" in summary.table.value


def test_opening_a_module_records_activity_once_answers_exist(fictional_case, tmp_path):
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    assert not (tmp_path / "answers.json").exists()
    view = m.decision("hv-bruise")
    view.choice.value = "refer"
    submit(view)
    open_module("f02-later", case=fictional_case, answers_dir=tmp_path)
    activity = json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))["activity"]
    assert set(activity) == {"f01-early", "f02-later"}


# ------------------------------------------------------------------ a real kernel, as nbgrader runs it


@pytest.mark.slow
def test_a_module_notebook_executes_under_nbgrader_without_writing_and_shows_the_score(fictional_case, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    store = tmp_path / "answers.json"
    from course.store import AnswerStore

    AnswerStore(tmp_path, fictional_case).record("hv-bruise", "refer", "Share it.", 4)
    before = store.read_bytes()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(s)
        for s in (
            f"from course.notebook import open_module\nm = open_module('f01-early', case={str(FIXTURE_PACK)!r})\nm.intro()",
            "m.lens()",
            "m.timeline()",
            "m.decision('hv-bruise')",
            "m.recorded('hv-bruise')\nm.score('hv-bruise')",
            "m.summary()",
            "m.key_points()",
        )
    ]
    env = dict(os.environ, NBGRADER_EXECUTION="autograde", PYTHONPATH=str(ROOT))
    old = dict(os.environ)
    os.environ.update(env)
    try:
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    graded = nb.cells[4].outputs
    assert any(o.get("output_type") == "execute_result" and o["data"]["text/plain"] == "2.0" for o in graded)
    assert "Talk to social care" in "".join(o.get("text", "") for o in graded)
    decision_out = nb.cells[3].outputs[0]["data"]["text/plain"]
    assert decision_out.startswith("Decision point hv-bruise")
    assert store.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".answers.json.lock", "answers.json"]


# ------------------------------------------------------------------ the real case pack (smoke)


def _text(widget) -> str:
    """Every string in a widget tree (values, descriptions, tooltips, option labels)."""
    out = []
    for name in ("value", "description", "placeholder", "tooltip", "_options_labels"):
        v = getattr(widget, name, None)
        out += (
            [v]
            if isinstance(v, str)
            else [x for x in (v or ()) if isinstance(x, str)]
            if isinstance(v, (tuple, list))
            else []
        )
    for child in getattr(widget, "children", ()):
        out.append(_text(child))
    return "\n".join(out)


def test_views_work_on_the_real_case_pack(tmp_path, pelka_case):
    real = pelka_case
    before = plt.get_fignums()
    hidden = [t for e in knowledge.hindsight(real) for t in (e.title, e.summary)]
    for module in real.modules:
        m = open_module(module.id, case=real, answers_dir=tmp_path)
        lens = m.lens()
        tl = m.timeline()
        for stop in lens.stops:
            lens.slider.value = stop.day
            assert tl.slider.value == stop.day
            for agency in lens.agency.options:
                html = lens_html(real, agency[1], stop)
                assert not [t for t in hidden if t in html], (module.id, agency, stop.label)
        for d in real.decisions_in(module.id):
            view = m.decision(d.id)
            assert not view.revealed
            assert not [t for t in hidden if t in view.scenario.value], d.id
            before_submit = _text(view)
            review = [q.quote for q in d.review.quotes] + [o.feedback for o in d.options] + [d.review.summary]
            assert not [t for t in review if t in before_submit], d.id
            best = (
                [o.id for o in d.options if o.points > 0] if d.multiple else max(d.options, key=lambda o: o.points).id
            )
            view.set_selected(best)
            submit(view)
            assert view.revealed and m.score(d.id) == float(d.max_points), d.id
        summary = m.summary()
        assert "Not answered yet" not in summary.table.value
    assert plt.get_fignums() == before


def test_no_view_goes_past_the_first_unanswered_decision_and_hindsight_waits_for_the_last(fictional_case, tmp_path):
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    lens, tl = m.lens(agency="hv"), m.timeline()
    fence = dt.date(2019, 5, 31)  # before hv-bruise's period, June 2019 (the practice decision is not fenced)
    assert [s.day for s in lens.stops][-1] == fence and max(s.day for s in lens.stops) == fence
    assert lens.stops[-1].label == "before June 2019" and "held before June 2019" in lens.view.value
    assert tl.slider.options[-1][1] == fence and tl.chart.data.end == fence
    assert all(m.start <= fence for m in tl.chart.data.marks) and tl.chart.data.hindsight_marks == ()
    assert lens.hindsight.disabled and tl.hindsight.disabled
    view = m.decision("hv-bruise")
    view.set_selected("visit")
    submit(view)
    assert max(s.day for s in lens.stops) == m.stops[-1].day  # the whole period once no decision is waiting
    assert tl.chart.data.end > fence and lens.hindsight.disabled  # the practice decision is still waiting
    practice = m.decision("practice")
    practice.set_selected("a")
    submit(practice)
    assert not lens.hindsight.disabled and not tl.hindsight.disabled
    lens.hindsight.value = True
    assert lens.hindsight_shown


def test_the_note_under_a_decision_changes_the_moment_the_answer_is_submitted(
    fictional_case, tmp_path, writable_run, monkeypatch
):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    view = m.decision("hv-bruise")
    m.recorded("hv-bruise")
    note = shown[-1]
    assert "No answer recorded" in note.value
    view.set_selected("visit")
    submit(view)
    assert "Your graded answer" in note.value and "Visit and see Sam" in note.value


def test_the_summary_numbers_decisions_as_the_page_does(fictional_case, tmp_path):
    m = open_module("f01-early", case=fictional_case, answers_dir=tmp_path)
    m.decision("hv-bruise")  # the page shows the graded decision first, then the practice one
    m.decision("practice")
    labels = [r.label for r in m.summary().rows()]
    assert labels == ["Decision point 1", "Practice decision"]


def test_the_course_home_shows_each_modules_progress_and_where_to_carry_on(fictional_case, tmp_path, writable_run):
    from course.notebook import open_home
    from course.store import AnswerStore

    for m in fictional_case.modules:  # each module's page, as a laptop's workspace has them
        (tmp_path / m.id).mkdir()
        (tmp_path / m.id / f"{m.id}.ipynb").write_text("{}", encoding="utf-8")
    home = open_home(fictional_case, workspace=tmp_path)
    assert "Start: The early months" in home.html and "Not started" in home.html
    assert "116 123" in home.html and "0808 800 5000" in home.html
    store = AnswerStore(tmp_path / "f01-early", fictional_case)
    store.record("hv-bruise", "refer", "Share it.", 4)
    store.save_reflection("f01-early", "Written.")
    home = open_home(fictional_case, workspace=tmp_path)
    assert "1 of 2 decisions answered; reflection written" in home.html
    assert "Continue: The early months" in home.html
    assert 'href="f01-early/f01-early.ipynb"' in home.html
    assert 'target="_self"' in home.html  # the module opens in the same tab, not a new one with its own kernel


def test_the_course_home_names_a_module_not_yet_in_the_folder_without_a_link_to_it(fictional_case, tmp_path):
    """On the shared server a module reaches the trainee's folder when the trainer releases it and it is fetched:
    until then the home lists it with a plain note, not a link to a page that is not there."""
    from course.notebook import open_home

    first, *later = fictional_case.modules
    (tmp_path / first.id).mkdir()
    (tmp_path / first.id / f"{first.id}.ipynb").write_text("{}", encoding="utf-8")
    home = open_home(fictional_case, workspace=tmp_path).html
    assert f'href="{first.id}/{first.id}.ipynb"' in home and f"Start: {first.title}" in home
    for m in later:
        assert f'href="{m.id}/' not in home
        assert "Not available to you yet" in home
    empty = tmp_path / "nothing-yet"
    empty.mkdir()
    home = open_home(fictional_case, workspace=empty).html
    assert "href=" not in home and "The next module is not available to you yet" in home
    assert "You have finished every module" not in home


def test_the_course_home_page_is_a_whole_page_without_scripts_linking_each_module_under_the_servers_address(
    fictional_case, tmp_path
):
    """What the server sends at <server>/course/home (course/apps/home_page.py): no kernel, no script."""
    from course.apps.home_page import CSP, home_page

    first = fictional_case.modules[0]
    (tmp_path / first.id).mkdir()
    (tmp_path / first.id / f"{first.id}.ipynb").write_text("{}", encoding="utf-8")
    page = home_page(tmp_path, "/user/a.khan/voila/render/", fictional_case)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert f"<title>Course home: {fictional_case.title}</title>" in page
    assert f'href="/user/a.khan/voila/render/{first.id}/{first.id}.ipynb"' in page
    assert "<script" not in page.lower() and "116 123" in page
    assert "default-src 'none'" in CSP and "script-src" not in CSP  # and the browser runs none
    assert "frame-ancestors 'none'" in CSP  # nor shows it inside another page
