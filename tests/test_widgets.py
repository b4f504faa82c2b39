"""The interactive views, driven headless from Python against the fictional fixture case."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from html import escape as html_escape
from pathlib import Path

import ipywidgets as widgets
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from course.core import dates, knowledge
from course.core.answers import read_answers
from course.core.pack import load_case
from course.render.decision import scenario_html
from course.render.lens import HINDSIGHT_HEADING, hindsight_items, lens_html, lens_items, slider_stops
from course.render.style import OKABE_ITO
from course.render.summary import summary_rows
from course.render.timeline import HINDSIGHT_LANE, timeline_alt_text, timeline_data
from course.store import AnswerStore
from course.widgets.decision import SUBMIT_CHANGE, SUBMIT_FIRST, DecisionView
from course.widgets.lens import Lens
from course.widgets.summary import Summary
from course.widgets.timeline import Timeline
from tests.answering import submit, tick
from tests.paths import FIXTURE_PACK, ROOT

_FIXTURE_CASE = load_case(FIXTURE_PACK)  # for property-based tests (hypothesis does not mix with function fixtures)


pytestmark = pytest.mark.usefixtures("writable_run")  # conftest.py; `case` is the fictional pack, from there too


def _strings(widget) -> list[str]:
    """Every piece of text in a widget tree (values, labels, descriptions, tooltips, options)."""
    out = []
    for name in ("value", "description", "placeholder", "tooltip", "_options_labels", "label"):
        v = getattr(widget, name, None)
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, (tuple, list)):
            out += [x for x in v if isinstance(x, str)]
    for child in getattr(widget, "children", ()):
        out += _strings(child)
    return out


def _text(widget) -> str:
    return "\n".join(_strings(widget))


def _hindsight_texts(case) -> list[str]:
    return [t for e in knowledge.hindsight(case) for t in (e.title, e.summary)]


def _order(html: str, *titles: str) -> list[int]:
    return [html.index(t) for t in titles]


# ------------------------------------------------------------------ lens: pure functions


def test_slider_stops_are_labelled_at_the_precision_the_source_gives(fictional_case):
    stops = slider_stops(fictional_case, fictional_case.module("f01-early"))
    assert [s.label for s in stops] == ["3 June 2019", "June 2019", "July 2019", "end of 2019"]
    assert [s.day for s in stops] == [
        dt.date(2019, 6, 3),
        dt.date(2019, 6, 30),
        dt.date(2019, 7, 31),
        dt.date(2019, 12, 31),
    ]
    assert [s.phrase for s in stops] == [
        "on 3 June 2019",
        "by the end of June 2019",
        "by the end of July 2019",
        "by the end of 2019",
    ]


def test_no_slider_label_names_a_day_the_source_does_not_give(fictional_case):
    for m in fictional_case.modules:
        for s in slider_stops(fictional_case, m):
            if re.match(r"^\d", s.label):
                assert fictional_case.source.find(s.label.rsplit(" ", 1)[0]), s.label


def test_nursery_view_on_3_june_2019_holds_the_bruise(fictional_case):
    items = lens_items(fictional_case, "nursery", dt.date(2019, 6, 3))
    assert [i.event_id for i in items] == ["bruise"]
    assert (items[0].date_text, items[0].section, items[0].source_text) == (
        "3 June 2019",
        "Chronology",
        "Source: Chronology",
    )


def test_health_visitor_view_on_3_june_2019_hides_the_bruise_known_only_to_the_month(fictional_case):
    assert lens_items(fictional_case, "hv", dt.date(2019, 6, 3)) == []
    assert [i.event_id for i in lens_items(fictional_case, "hv", dt.date(2019, 6, 30))] == ["bruise"]


def test_gp_view_in_2020_lists_newest_first(fictional_case):
    assert [i.event_id for i in lens_items(fictional_case, "gp", "2019-12-31")] == ["arrival"]
    assert [i.event_id for i in lens_items(fictional_case, "gp", dt.date(2020, 3, 12))] == ["cough", "arrival"]


def test_social_care_view_in_2019_is_empty_because_the_police_notification_stopped(fictional_case):
    assert lens_items(fictional_case, "social", "2019-12-31") == []


def test_whole_picture_at_end_of_2019_lists_every_agency_with_holders(fictional_case):
    items = lens_items(fictional_case, "police", "2019-12-31", whole=True)
    assert [i.event_id for i in items] == ["argument", "bruise", "arrival"]
    bruise = items[1]
    assert bruise.holders == ("nursery", "hv") and bruise.held_by_agency is False
    assert items[0].held_by_agency is True


def test_hindsight_items_are_limited_to_the_chosen_date(fictional_case):
    assert hindsight_items(fictional_case, "2019-12-31") == []
    assert [h.event_id for h in hindsight_items(fictional_case, "2020-12-31")] == ["diary"]
    assert hindsight_items(fictional_case)[0].emerged_text == "evidence given at a later trial"


def test_no_hindsight_item_appears_in_any_at_the_time_lens_view(fictional_case):
    hidden = _hindsight_texts(fictional_case)
    hindsight_ids = {e.id for e in knowledge.hindsight(fictional_case)}
    for m in fictional_case.modules:
        for stop in slider_stops(fictional_case, m):
            for agency in fictional_case.agencies:
                for whole in (False, True):
                    items = lens_items(fictional_case, agency.id, stop.day, whole)
                    assert not {i.event_id for i in items} & hindsight_ids
                    expected = (
                        knowledge.whole_picture(fictional_case, stop.day)
                        if whole
                        else knowledge.held_by(fictional_case, agency.id, stop.day)
                    )
                    assert {i.event_id for i in items} == {e.id for e in expected}
                    html = lens_html(fictional_case, agency.id, stop, whole)
                    assert not [t for t in hidden if t in html]


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2022, 12, 31)),
    whole=st.booleans(),
    agency=st.sampled_from(["nursery", "hv", "police", "social", "gp"]),
)
def test_lens_on_any_day_is_exactly_what_was_held_newest_first_and_never_hindsight(day, whole, agency):
    case = _FIXTURE_CASE
    items = lens_items(case, agency, day, whole)
    expected = knowledge.whole_picture(case, day) if whole else knowledge.held_by(case, agency, day)
    assert [i.event_id for i in items] == [e.id for e in sorted(expected, key=lambda e: e.sort_key, reverse=True)]
    assert not any(case.event(i.event_id).hindsight for i in items)
    for i in items:
        assert all(knowledge.known_from(case.event(i.event_id), a) <= day for a in i.holders)


# ------------------------------------------------------------------ lens: widget


def test_lens_widget_shows_the_police_view_at_july_2019_as_a_semantic_list(fictional_case):
    lens = Lens(fictional_case, fictional_case.module("f01-early"), agency="police")
    assert lens.agency.description == "View as"
    lens.slider.value = dt.date(2019, 7, 31)
    html = lens.view.value
    assert "<h3>What the police held by the end of July 2019</h3>" in html
    assert "<ul" in html and html.count("<li>") == 1
    assert "mid-July 2019" in html and "Police attend an argument" in html and "Source: Chronology" in html
    lens.agency.value = "nursery"
    assert "Nursery notes a bruise" in lens.view.value and "Police attend" not in lens.view.value


def test_lens_whole_picture_toggle_is_labelled_and_marks_what_the_agency_did_not_hold(fictional_case):
    lens = Lens(fictional_case, fictional_case.module("f01-early"), agency="police")
    lens.slider.value = dt.date(2019, 12, 31)
    lens.whole.value = True
    html = lens.view.value
    assert lens.whole.description == "Whole picture (every agency)"
    assert "The whole picture by the end of 2019" in html
    assert _order(html, "Police attend", "Nursery notes a bruise", "The family moves") == sorted(
        _order(html, "Police attend", "Nursery notes a bruise", "The family moves")
    )
    assert "not held by the police" in html and "Held by: nursery, health visitor" in html


def test_lens_hindsight_appears_only_in_its_own_labelled_panel_when_asked_for(fictional_case):
    lens = Lens(fictional_case, fictional_case.module("f02-later"), agency="gp")
    hidden = _hindsight_texts(fictional_case)
    lens.slider.value = lens.stops[-1].day
    assert "not known at the time" in lens.hindsight.description
    assert not [t for t in hidden if t in _text(lens)]
    assert not lens.hindsight_shown and lens._panel is None  # not even a model until asked for
    n = len(lens.children)
    lens.hindsight.value = True
    assert lens.hindsight_shown and lens.children[-1] is lens.hindsight_panel and len(lens.children) == n + 1
    assert HINDSIGHT_HEADING in lens.hindsight_panel.value
    assert "A diary at home records hunger" in lens.hindsight_panel.value
    assert "evidence given at a later trial" in lens.hindsight_panel.value
    assert not [t for t in hidden if t in lens.view.value]
    lens.whole.value = True
    assert not [t for t in hidden if t in lens.view.value]
    lens.hindsight.value = False
    assert lens.hindsight_panel.value == "" and not lens.hindsight_shown and len(lens.children) == n
    assert not [t for t in hidden if t in _text(lens)]


def test_lens_earlier_and_later_buttons_step_the_date_for_keyboard_users(fictional_case):
    lens = Lens(fictional_case, fictional_case.module("f01-early"), agency="nursery")
    assert lens.earlier.disabled and not lens.later.disabled
    lens.later.click()
    assert lens.slider.value == dt.date(2019, 6, 30) and lens.slider.label == "June 2019"
    lens.earlier.click()
    assert lens.slider.value == dt.date(2019, 6, 3)
    for b in (lens.earlier, lens.later):
        assert b.tooltip
    assert 'aria-label="What the nursery held on 3 June 2019"' in lens.view.value


# ------------------------------------------------------------------ timeline


def test_timeline_data_has_lanes_marks_at_the_sources_precision_and_flows(fictional_case):
    data = timeline_data(fictional_case, fictional_case.module("f01-early"))
    assert data.lanes == ("nursery", "hv", "police", "social", "gp")
    marks = {(m.event_id, m.agency): m.precision for m in data.marks}
    assert marks == {
        ("bruise", "nursery"): "day",
        ("bruise", "hv"): "month",
        ("argument", "police"): "month",
        ("arrival", "gp"): "year",
    }
    flows = {(f.flow_id, f.status, f.from_agency, f.to_agency) for f in data.flows}
    assert flows == {
        ("bruise-to-hv", "passed", "nursery", "hv"),
        ("argument-not-notified", "stopped", "police", "social"),
    }
    assert data.hindsight_marks == ()


def test_timeline_keeps_hindsight_in_a_separate_lane_that_is_hidden_by_default(fictional_case):
    data = timeline_data(fictional_case, fictional_case.module("f02-later"))
    assert "diary" not in {m.event_id for m in data.marks}
    assert [m.event_id for m in data.hindsight_marks] == ["diary"]
    tl = Timeline(fictional_case, fictional_case.module("f02-later"))
    assert all(not a.get_visible() for a in tl.chart._hind_artists)
    assert HINDSIGHT_LANE.split(" (")[0] not in " ".join(t.get_text() for t in tl.chart.ax.get_yticklabels())
    assert "emerged only afterwards" not in tl.alt_text()
    tl.hindsight.value = True
    assert all(a.get_visible() for a in tl.chart._hind_artists)
    assert any(HINDSIGHT_LANE.split(" (")[0] in t.get_text() for t in tl.chart.ax.get_yticklabels())
    assert "emerged only afterwards" in tl.alt_text()


def test_timeline_slider_updates_the_same_figure_and_opens_no_new_ones(fictional_case):
    before = plt.get_fignums()
    tl = Timeline(fictional_case, fictional_case.module("f01-early"))
    fig = tl.figure
    artists = len(tl.chart.ax.get_children())
    images = set()
    for _ in range(3):
        for stop in tl.stops:
            tl.slider.value = stop.day
            assert tl.figure is fig
            assert list(tl.chart._line.get_xdata()) == [mdates.date2num(stop.day)] * 2
            assert tl.chart._label.get_text() == stop.label
            images.add(tl.image.value)
    assert len(images) == len(tl.stops)
    assert len(tl.chart.ax.get_children()) == artists
    assert plt.get_fignums() == before


def test_a_date_step_reencodes_no_image_but_a_static_change_does(fictional_case):
    tl = Timeline(fictional_case, fictional_case.module("f01-early"))
    renders = tl.chart.background_renders
    for stop in tl.stops:
        tl.slider.value = stop.day
    assert tl.chart.background_renders == renders
    tl.set_highlight("police")
    assert tl.chart.background_renders == renders + 1
    tl.slider.value = tl.stops[0].day
    assert tl.chart.background_renders == renders + 1
    police_image = tl.image.value
    tl.set_highlight(None)
    tl.set_highlight("police")  # back to a state already drawn: kept, not redrawn
    assert tl.chart.background_renders == renders + 1 and tl.image.value == police_image
    assert tl.figure is tl.chart.figure


def test_the_date_layer_is_drawn_from_the_date_artists_in_figure_pixels(fictional_case):
    tl = Timeline(fictional_case, fictional_case.module("f01-early"))
    tl.slider.value = dt.date(2019, 7, 31)
    x = tl.chart.ax.transData.transform((mdates.date2num(dt.date(2019, 7, 31)), 0))[0]
    svg = tl.chart.date_layer_svg()
    w, h = tl.chart.canvas.get_width_height()
    assert f'viewBox="0 0 {w} {h}"' in svg and f'<line x1="{x:.1f}"' in svg and f'<rect x="{x:.1f}"' in svg
    assert ">July 2019</text>" in svg and 'aria-hidden="true"' in svg
    assert svg in tl.image.value


def test_timeline_image_is_a_png_with_alt_text_generated_from_the_data(fictional_case):
    tl = Timeline(fictional_case, fictional_case.module("f01-early"), highlight="hv")
    tl.slider.value = dt.date(2019, 6, 30)
    alt = tl.alt_text()
    assert alt == timeline_alt_text(fictional_case, fictional_case.module("f01-early"), tl.stop, False, "hv")
    assert "one lane per agency (5)" in alt and "3 events known to agencies" in alt
    assert "Information passed between agencies 1 time (arrows)." in alt
    assert "Information stopped 1 time" in alt and "police to social care, mid-July 2019" in alt
    assert "A vertical line marks June 2019; 1 event after it is faded." in alt
    full = tl.alt_text(full=True)
    assert "Information passed between agencies 1 time (arrows): nursery to health visitor, June 2019" in full
    assert "police to social care, mid-July 2019: No notification was sent." in full
    assert "The police: 1 event." in full
    html = tl.image.value
    m = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', html)
    assert m and "Information stopped" in m.group(2)
    import base64

    png = base64.b64decode(m.group(1))
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size[0] >= 1000
    assert html_escape(full) in tl.description.value and "<details" in tl.description.value


def test_timeline_draws_stopped_flows_distinctly_with_the_okabe_ito_palette(fictional_case):
    tl = Timeline(fictional_case, fictional_case.module("f01-early"))
    lines = tl.chart.ax.get_lines()
    stopped = [ln for ln in lines if ln.get_color() == OKABE_ITO["vermillion"]]
    assert any(
        ln.get_linestyle() in ("--", (0, (4, 2))) or ln.get_dashes()
        for ln in stopped
        if ln.get_marker() in (None, "None", "")
    )
    assert any(ln.get_marker() == "X" for ln in stopped)
    arrows = [a for a in tl.chart.ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == 1
    legend = [t.get_text() for t in tl.chart._legend.get_texts()]
    assert "information stopped (not passed on, or not recorded)" in legend and "information passed" in legend
    allowed = {c.lower() for c in OKABE_ITO.values()} | {"#6e6e6e", "black", "white"}
    for ln in lines:
        c = ln.get_color()
        assert (c.lower() if isinstance(c, str) else c) in allowed


def test_timeline_highlights_the_lens_agency_lane(fictional_case):
    tl = Timeline(fictional_case, fictional_case.module("f01-early"))
    tl.set_highlight("police")
    labels = tl.chart.ax.get_yticklabels()
    bold = [t.get_text() for t in labels if t.get_fontweight() == "bold"]
    assert bold == ["The police"] and tl.chart._highlight_band.get_visible()
    assert "The lane of The police is highlighted." in tl.alt_text()


# ------------------------------------------------------------------ decision point


def _review_texts(case, decision_id):
    d = case.decision(decision_id)
    texts = [d.review.summary] + [q.quote for q in d.review.quotes] + [o.feedback for o in d.options]
    texts += [w.text for w in d.went_well] + [w.quote.quote for w in d.went_well if w.quote]
    if d.learning_together:
        texts += [d.learning_together.front_of_mind, d.learning_together.would_have_helped]
    return texts


def test_before_submit_no_review_content_is_anywhere_in_the_widget_tree(fictional_case, tmp_path):
    for did in ("hv-bruise", "social-assessment"):
        view = DecisionView(fictional_case, did, AnswerStore(tmp_path, fictional_case))
        text = _text(view)
        assert not [t for t in _review_texts(fictional_case, did) if t in text]
        assert view.reveal.children == () and not view.revealed
        assert view.submit.description == SUBMIT_FIRST and view.submit.tooltip


def test_decision_shows_the_scenario_as_the_role_held_it(fictional_case, tmp_path):
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    html = view.scenario.value
    assert "<strong>You are the health visitor</strong>, June 2019." in html
    assert "Nursery notes a bruise" in html and "3 June 2019" in html and "Source: Chronology" in html
    assert "What do you do?" in html
    assert sorted(view.choice.options) == [
        ("Record it and wait", "record"),
        ("Talk to social care", "refer"),
        ("Visit and see Sam", "visit"),
    ]
    assert view.choice.value is None
    assert [v for _, v in view.confidence.options] == [0, 1, 2, 3, 4, 5]
    assert view.confidence.value == 0, "confidence has no default: an untouched answer is never recorded as 3"
    assert isinstance(view.confidence, widgets.Dropdown) and "confident" in view.confidence.description
    assert view.rationale.description == "Your reasons" and view.rationale.placeholder


def test_no_decision_scenario_contains_hindsight(fictional_case):
    hidden = _hindsight_texts(fictional_case)
    for d in fictional_case.decisions:
        assert not [t for t in hidden if t in scenario_html(fictional_case, d)]


def test_submit_without_a_choice_asks_for_one_and_records_nothing(fictional_case, tmp_path):
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    submit(view)
    assert "Choose an option" in view.status.value
    assert not view.revealed and not (tmp_path / "answers.json").exists()


def test_submit_records_the_answer_then_reveals_the_review_beside_it(fictional_case, tmp_path):
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    view.choice.value = "visit"
    view.confidence.value = 4
    view.rationale.value = "I want to see Sam myself."
    submit(view)
    first = read_answers(tmp_path, fictional_case).first("hv-bruise")
    assert (first["choice"], first["confidence"], first["rationale"]) == ("visit", 4, "I want to see Sam myself.")
    assert view.revealed
    side_by_side = view.reveal.children[0]
    assert isinstance(side_by_side, widgets.HBox) and len(side_by_side.children) == 2
    yours, review = (c.value for c in side_by_side.children)
    assert "<h3>Your answer</h3>" in yours and "Visit and see Sam" in yours and "4 out of 5" in yours
    assert "I want to see Sam myself." in yours and "1 of 2" in yours
    assert "<h3>What the review found</h3>" in review
    assert "Each agency held one piece of the picture and nobody put the pieces together." in review
    assert "Serious Case Review overview report, quoted in the briefing (Analysis)" in review
    assert "Nobody held the whole picture" in review  # theme title
    assert "What went well" in review and "good practice was seen in the nursery" in review
    assert "Seeing Sam helps but is not enough." in review and "(your choice)" in review
    assert "What mattered most to you that day?" in _text(view.reveal)
    assert "recorded" in view.status.value and view.submit.description == SUBMIT_CHANGE


def test_a_practice_answer_is_recorded_and_revealed_but_never_called_graded(fictional_case, tmp_path):
    view = DecisionView(fictional_case, "practice", AnswerStore(tmp_path, fictional_case))
    assert "You are a nursery worker" in _text(view)
    view.choice.value = "a"
    submit(view)
    assert read_answers(tmp_path, fictional_case).first("practice")["choice"] == "a"
    yours = view.reveal.children[0].children[0].value
    assert "carries no marks" in yours and "(practice)" in yours
    assert "is the one that is graded" not in yours and "It is the one that is graded" not in view.status.value
    assert "carries no marks" in view.status.value


def test_changing_an_answer_after_the_reveal_is_kept_as_a_revision_and_not_graded(fictional_case, tmp_path):
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    view.choice.value = "record"
    submit(view)
    view.choice.value = "refer"
    view.rationale.value = "Changed my mind"
    submit(view)
    answers = read_answers(tmp_path, fictional_case)
    assert answers.first("hv-bruise")["choice"] == "record"
    assert [r["choice"] for r in answers.revisions("hv-bruise")] == ["refer"]
    assert fictional_case.decision("hv-bruise").score(answers.first("hv-bruise")["choice"]) == 0.0
    assert "revision" in view.status.value and "still the one that is graded" in view.status.value
    yours = view.reveal.children[0].children[0].value
    assert "Record it and wait" in yours and "later change" in yours and "Talk to social care" in yours


def test_reopening_shows_the_recorded_decision_with_its_reveal(fictional_case, tmp_path):
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    view.choice.value = "refer"
    view.confidence.value = 5
    view.rationale.value = "Share it."
    submit(view)
    again = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    assert again.revealed
    assert (again.choice.value, again.confidence.value, again.rationale.value) == ("refer", 5, "Share it.")
    assert "What the review found" in _text(again) and again.submit.description == SUBMIT_CHANGE


def test_multiple_choice_decision_uses_labelled_checkboxes_and_stores_a_list(fictional_case, tmp_path):
    view = DecisionView(fictional_case, "social-assessment", AnswerStore(tmp_path, fictional_case))
    assert sorted(cb.description for cb in view.checkboxes) == sorted(
        [
            "What the parent says",
            "Earlier records",
            "Talk with Sam",
            "Close without a visit",
        ]
    )
    submit(view)
    assert "at least one option" in view.status.value
    tick(view, "history", "child")
    submit(view)
    assert read_answers(tmp_path).first("social-assessment")["choice"] == ["history", "child"]
    review = view.reveal.children[0].children[1].value
    assert "relied on what the parent said" in review and "The child&#x27;s voice" in review


def test_in_a_read_only_run_the_answer_is_revealed_but_not_saved(fictional_case, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_READ_ONLY", "1")
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    assert "not saved in this run" in view.notices.value
    view.choice.value = "refer"
    submit(view)
    assert view.revealed and "not saved" in view.status.value
    assert "not saved" in view.reveal.children[0].children[0].value
    assert list(tmp_path.iterdir()) == []


def test_an_unanswered_decision_builds_only_its_form_and_appends_the_analysis_without_rebuilding_it(
    fictional_case, tmp_path
):
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    assert view.notices is None and view._reveal is None  # no empty notice area, no analysis model yet
    form = list(view.children)
    assert form[-2:] == [view.submit, view.status]  # the live region is there from the start
    view.choice.value = "visit"
    submit(view)
    assert list(view.children) == [*form, view.reveal]  # appended: the views above (and the focus) are kept


def test_a_problem_that_arises_after_the_decision_is_shown_is_reported_with_the_status(fictional_case, tmp_path):
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    form = list(view.children)
    (tmp_path / "answers.json").write_text("{{{", encoding="utf-8")
    view.choice.value = "refer"
    submit(view)
    assert view.notices is None and list(view.children) == [*form, view.reveal]
    assert "problem with your answers file" in view.status.value and 'role="alert"' in view.status.value
    assert "Your answer has been recorded" in view.status.value


def test_a_damaged_answers_file_is_reported_in_plain_words_when_the_decision_opens(fictional_case, tmp_path):
    (tmp_path / "answers.json").write_text("{{{", encoding="utf-8")
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    assert "problem with your answers file" in view.notices.value and "answers.json.corrupt-" in view.notices.value
    assert 'role="alert"' in view.notices.value and not view.revealed


_READ_ONLY_WIDGET = textwrap.dedent("""
    import json, sys
    from course.store import AnswerStore
    from course.core.pack import load_case
    from course.widgets.decision import DecisionView
    case = load_case(sys.argv[2])
    view = DecisionView(case, "hv-bruise", AnswerStore(sys.argv[1], case))
    view.choice.value = "refer"
    view.rationale.value = "kept on screen"
    view.confidence.value = 3
    view.submit.click()
    print(json.dumps({"status": view.status.value, "revealed": view.revealed,
                      "yours": view.reveal.children[0].children[0].value, "rationale": view.rationale.value}))
""")


def test_a_read_only_folder_keeps_the_answer_on_screen_with_a_clear_message(fictional_case):
    folder = Path(tempfile.mkdtemp(prefix="widget-ro-"))
    try:
        folder.chmod(0o555)
        kwargs = {"user": "nobody", "group": "nogroup", "cwd": "/"} if os.geteuid() == 0 else {}
        env = {k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", "COURSE_READ_ONLY")}
        env["PYTHONPATH"] = str(ROOT)
        env["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="mpl-")
        os.chmod(env["MPLCONFIGDIR"], 0o777)
        out = subprocess.run(
            [sys.executable, "-c", _READ_ONLY_WIDGET, str(folder), str(FIXTURE_PACK)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **kwargs,
        )
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert "read-only" in result["status"] and "still shown" in result["status"]
        assert result["revealed"] and "Talk to social care" in result["yours"]
        assert result["rationale"] == "kept on screen"
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(env.get("MPLCONFIGDIR", ""), ignore_errors=True)


# ------------------------------------------------------------------ module summary


def test_summary_rows_compare_first_answers_with_the_reviews_position(fictional_case, tmp_path):
    store = AnswerStore(tmp_path, fictional_case)
    store.record("hv-bruise", "visit", "", 2)
    store.record("hv-bruise", "refer", "", 5)
    rows = summary_rows(fictional_case, "f01-early", read_answers(tmp_path, fictional_case))
    assert [r.decision_id for r in rows] == ["practice", "hv-bruise"]
    practice, bruise = rows
    assert not practice.answered and practice.points == 0.0 and practice.practice
    assert bruise.your_choice == ("Visit and see Sam",) and bruise.points == 1.0 and bruise.max_points == 2
    assert bruise.review_position == ("Talk to social care",) and bruise.changes == 1 and bruise.confidence == 2
    assert practice.review_position == (), "the review's position is not on the page before the answer"
    multi = summary_rows(fictional_case, "f02-later", None)[0]
    assert multi.review_position == ()
    store.record("social-assessment", ["parent"], "", 3)
    multi = summary_rows(fictional_case, "f02-later", read_answers(tmp_path, fictional_case))[0]
    assert multi.review_position == ("Earlier records", "Talk with Sam")


def test_summary_widget_shows_table_chart_and_key_points(fictional_case, tmp_path):
    store = AnswerStore(tmp_path, fictional_case)
    summary = Summary(fictional_case, "f01-early", lambda: (store.load(), None))
    assert "Not answered yet" in summary.table.value and "0 of 3" in summary.table.value
    assert summary.message not in summary.children  # no empty problem area in the page
    store.record("hv-bruise", "refer", "", 4)
    summary.refresh_button.click()
    table = summary.table.value
    assert "<caption>" in table and 'scope="col"' in table and "Talk to social care" in table
    assert "2 of 2" in table and "2 of 3" in table
    assert 'alt="Bar chart of your points' in summary.chart.value and "Decision point 1: 2 of 2." in summary.chart.value
    assert "A bruise was seen and passed on." not in summary.key_points.value  # the practice one is unanswered
    store.record("practice", "a", "", 3)
    summary.refresh()
    assert "A bruise was seen and passed on." in summary.key_points.value
    assert plt.get_fignums() == []


def test_summary_explains_a_damaged_answers_file_without_a_traceback(fictional_case):
    summary = Summary(fictional_case, "f01-early", lambda: (None, "The answers file cannot be used: it is damaged."))
    assert "cannot be used" in summary.message.value and "Traceback" not in _text(summary)
    assert summary.children.index(summary.message) == summary.children.index(summary.refresh_button) + 1
    assert "Not answered yet" in summary.table.value


def test_widgets_share_layout_and_style_models(fictional_case, tmp_path):
    a, b = Lens(fictional_case), Lens(fictional_case)
    assert a.whole.layout is b.whole.layout and a.whole.style is b.whole.style
    assert a.earlier.layout is a.later.layout and a.earlier.layout is not a.whole.layout  # same look, same model
    a.hindsight.value = True
    assert a.hindsight_shown and not b.hindsight_shown  # shown by being in the children, not by a shared layout
    a.whole.layout.close()  # a closed shared model is never handed out again
    c = Lens(fictional_case)
    assert c.whole.layout is not a.whole.layout and c.whole.layout.comm is not None
    d1, d2 = (
        DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case)),
        DecisionView(fictional_case, "practice", AnswerStore(tmp_path, fictional_case)),
    )
    assert d1.submit.layout is d2.submit.layout and d1.status.style is d2.status.style


def test_the_stylesheet_travels_once_in_a_hidden_shared_carrier_not_in_every_html_value(fictional_case, tmp_path):
    from course.render.style import STYLE
    from course.widgets.summary import Summary
    from course.widgets.timeline import Timeline

    views = [
        Lens(fictional_case),
        Timeline(fictional_case),
        DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case)),
        Summary(fictional_case, "f01-early", lambda: (AnswerStore(tmp_path, fictional_case).load(), None)),
    ]
    views[2].choice.value = "visit"
    submit(views[2])  # the reveal's HTML too
    views[0].hindsight.value = True
    carriers = {id(v.children[0]) for v in views}
    assert len(carriers) == 1
    carrier = views[0].children[0]
    assert carrier.value == STYLE and carrier.layout.display == "none"

    def html_values(w):
        if isinstance(w, widgets.HTML) and w is not carrier:
            yield w.value
        for c in getattr(w, "children", ()):
            yield from html_values(c)

    values = [v for view in views for v in html_values(view)]
    assert len(values) >= 10 and not any("<style" in v for v in values)


def test_views_hold_no_case_facts_of_their_own():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "course" / "widgets").glob("*.py"))
    for fact in ("Daniel", "Pelka", "Coventry", "Luczak", "Krezolek", "Sam", "nursery", "bruise"):
        assert fact not in source, fact


def test_stop_labels_use_dates_label(fictional_case):
    for s in slider_stops(fictional_case, None):
        expected = f"end of {s.date}" if dates.precision(s.date) == "year" else dates.label(s.date)
        assert s.label == expected and dates.end(s.date) == s.day


def test_on_a_single_computer_the_page_says_where_the_work_is_kept_and_offers_no_submit(tmp_path, monkeypatch):
    from course.widgets.submit import SubmitView

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    view = SubmitView("m01-early-years", tmp_path)
    assert view.button is None and view.submit() is None
    assert str(tmp_path.resolve()) in view.status.value and "answers.json" in view.status.value


def test_on_the_shared_server_a_failed_submit_says_so_in_plain_words(tmp_path, monkeypatch):
    from course.widgets.submit import SUBMIT, SubmitView

    monkeypatch.setenv("JUPYTERHUB_USER", "trainee")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "not-a-token")
    view = SubmitView("m01-early-years", tmp_path / "m01-early-years")  # nothing fetched, no exchange here
    assert view.button is not None and view.button.description == SUBMIT
    result = view.submit()
    assert not result.ok and "not submitted" in result.message and 'role="alert"' in view.status.value
    assert view.button.description == SUBMIT and not view.button.disabled


def test_the_reflection_box_saves_as_the_trainee_types_and_comes_back(tmp_path, fictional_case, writable_run):
    from course.widgets.reflection import ReflectionBox

    box = ReflectionBox("f01-early", AnswerStore(tmp_path, fictional_case))
    assert box.text.value == "" and box.status.value == ""
    box.text.value = "The bruise and the history belong together."
    deadline = time.monotonic() + 10  # saved a moment after the typing stops
    while "Saved" not in box.status.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Saved" in box.status.value
    assert read_answers(tmp_path, fictional_case).reflection("f01-early").startswith("The bruise")
    again = ReflectionBox("f01-early", AnswerStore(tmp_path, fictional_case))
    assert again.text.value == "The bruise and the history belong together."
    assert not (tmp_path / "f01-early.ipynb").exists()  # the notebook is never written


def test_times_are_shown_in_the_trainees_own_time_zone(monkeypatch):
    import time

    from course.render.decision import when_text

    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    try:
        assert when_text("2026-07-01T12:30:00Z") == "1 July 2026 at 13:30 BST"
        assert when_text("2026-12-01T12:30:00Z") == "1 December 2026 at 12:30 GMT"
        assert when_text("not a time") == "not a time"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_options_are_in_an_order_of_the_trainees_own_that_a_restart_keeps(pelka_case, tmp_path):
    from course.render.decision import option_order

    decisions = [d for d in pelka_case.decisions if not d.practice]
    here = {d.id: [o.id for o in option_order(d, tmp_path / "a")] for d in decisions}
    assert here == {d.id: [o.id for o in option_order(d, tmp_path / "a")] for d in decisions}  # stable
    elsewhere = {d.id: [o.id for o in option_order(d, tmp_path / "b")] for d in decisions}
    assert here != elsewhere  # another trainee (another folder) sees other orders
    in_file_order = sum(here[d.id] == [o.id for o in d.options] for d in decisions)
    assert in_file_order < len(decisions) / 2  # not simply the file's order
    for d in decisions:
        assert sorted(here[d.id]) == sorted(o.id for o in d.options)


def test_a_submit_without_reasons_asks_once_then_records(fictional_case, tmp_path, writable_run):
    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))
    view.choice.value = "refer"
    view.submit.click()
    assert "how sure" in view.status.value.lower() and not (tmp_path / "answers.json").exists()
    view.confidence.value = 4
    view.submit.click()
    assert "not written your reasons" in view.status.value and not (tmp_path / "answers.json").exists()
    view.submit.click()  # asked once: the second press goes on
    first = read_answers(tmp_path, fictional_case).first("hv-bruise")
    assert first["choice"] == "refer" and first["rationale"] == "" and first["confidence"] == 4
    view.submit.click()  # the same answer again (a double click): nothing new is recorded
    assert read_answers(tmp_path, fictional_case).revisions("hv-bruise") == []


def test_the_reveal_says_which_option_the_review_supports_what_each_scored_and_what_the_confidence_says(
    pelka_case, tmp_path, writable_run
):
    d = next(d for d in pelka_case.decisions if not d.practice and not d.multiple)
    view = DecisionView(pelka_case, d.id, AnswerStore(tmp_path, pelka_case))
    worst = min(d.options, key=lambda o: o.points)
    view.set_selected(worst.id)
    view.confidence.value = 5
    view.rationale.value = "Sure of it."
    view.submit.click()
    review = view.reveal.children[0].children[1].value
    best = max(d.options, key=lambda o: o.points)
    assert "The option the review supports" in review and html.escape(best.text) in review
    assert all(html.escape(o.feedback) in review for o in d.options)
    assert f"— {best.points} point" in review or f"— {best.points} points" in review
    assert "You were confident, and your answer is some way from the review" in review
    assert html.escape(d.outcome) in review and "What happened" in review
    assert "Good practice now" in review and "not a finding of the review" in review


def test_a_click_that_overtakes_the_last_typed_keys_records_what_the_page_shows(fictional_case, tmp_path, writable_run):
    """In a live kernel ipywidgets sends a click at once but holds newer control values back while the kernel is
    busy: the click arrives first. The answer is recorded once the page has gone quiet, with every late value,
    and a second click meanwhile is the same submission."""
    import asyncio

    from course.widgets import settle

    view = DecisionView(fictional_case, "hv-bruise", AnswerStore(tmp_path, fictional_case))

    async def trainee():
        view.choice.value = "refer"
        view.confidence.value = 1  # the first ArrowDown reached the kernel before the click ...
        view.rationale.value = "K"  # ... and the first key typed
        view.submit.click()
        view.submit.click()  # Enter pressed twice
        await asyncio.sleep(0.05)
        assert not (tmp_path / "answers.json").exists()  # waiting for the page's last changes
        view.confidence.value = 4  # the held-back values arrive after the click
        view.rationale.value = "Keyboard reasons, all of them."
        await asyncio.sleep(settle.QUIET_S + 0.3)

    asyncio.run(trainee())
    answers = read_answers(tmp_path, fictional_case)
    first = answers.first("hv-bruise")
    assert first["rationale"] == "Keyboard reasons, all of them." and first["confidence"] == 4
    assert answers.revisions("hv-bruise") == [] and view.revealed


def test_submitting_with_no_reflection_written_does_not_say_it_was_saved(fictional_case, tmp_path, writable_run):
    from course.widgets.reflection import ReflectionBox

    box = ReflectionBox("f01-early", AnswerStore(tmp_path, fictional_case))
    box.flush()  # what Submit does first
    assert "Saved" not in box.status.value and not (tmp_path / "answers.json").exists()
    box.text.value = "Written."
    box.flush()
    assert "Saved " in box.status.value
    box.text.value = ""  # emptied on purpose: that is kept
    box.flush()
    assert read_answers(tmp_path, fictional_case).reflection("f01-early") == ""
