"""The case loader: valid packs load into immutable records; every kind of bad input is reported
with the file, the entry and the field, so a content author can act on it."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from course.core import dates
from course.core.entries import CaseError
from course.core.pack import load_case
from course.core.source import normalise


def _edit(pack, name, fn):
    path = pack / f"{name}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(pack):
    with pytest.raises(CaseError) as info:
        load_case(pack)
    return info.value.problems


def test_fixture_pack_loads_into_frozen_records(fictional_case):
    assert {a.id for a in fictional_case.agencies} == {"nursery", "hv", "police", "social", "gp"}
    event = fictional_case.event("bruise")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.title = "changed"  # type: ignore[misc]
    assert event.date == "2019-06-03" and event.known_to[1].agency == "hv"


def test_events_are_sorted_by_date(fictional_case):
    keys = [dates.start(e.date) for e in fictional_case.events]
    assert keys == sorted(keys)


def test_bad_date_names_file_entry_and_field(pack_copy):
    _edit(pack_copy, "events", lambda d: d["events"][1]["known_to"][0].update({"from": "2019-13"}))
    assert (
        "case/events.yaml: event 'bruise': known_to[0].from: '2019-13' is not a date (month 13 does not exist)"
        in _problems(pack_copy)
    )


def test_day_not_given_by_source_is_rejected(pack_copy):
    _edit(pack_copy, "events", lambda d: d["events"][2].update({"date": "2019-07-15", "date_text": "15 July 2019"}))
    assert any(
        p.startswith("case/events.yaml: event 'argument': date: '2019-07-15' gives a day")
        and "does not appear in the source" in p
        for p in _problems(pack_copy)
    )


def test_date_outside_the_case_years_is_rejected(pack_copy):
    _edit(pack_copy, "events", lambda d: d["events"][0].update({"date": "2015"}))
    assert any("event 'arrival': date: '2015' is outside the case (2019-2021)" in p for p in _problems(pack_copy))


def test_unknown_agency_is_named(pack_copy):
    _edit(pack_copy, "events", lambda d: d["events"][1]["known_to"].append({"agency": "dentist"}))
    assert "case/events.yaml: event 'bruise': known_to[2].agency: unknown agency 'dentist'" in _problems(pack_copy)


def test_unknown_event_id_in_decision_context_is_named(pack_copy):
    _edit(pack_copy, "decisions", lambda d: d["decisions"][1]["context"].append("no-such-event"))
    assert "case/decisions.yaml: decision 'hv-bruise': context[1]: unknown event 'no-such-event'" in _problems(
        pack_copy
    )


def test_duplicate_id_is_named(pack_copy):
    _edit(pack_copy, "events", lambda d: d["events"].append(dict(d["events"][0])))
    assert "case/events.yaml: event 'arrival': id: duplicate id" in _problems(pack_copy)


def test_quote_not_in_source_is_named(pack_copy):
    _edit(
        pack_copy,
        "themes",
        lambda d: d["themes"][0]["quotes"][0].update({"quote": "Each agency held the whole picture."}),
    )
    problems = _problems(pack_copy)
    assert any(
        p.startswith(
            "case/themes.yaml: theme 'pieces': quotes[0].quote: quote not found verbatim in section 'Analysis'"
        )
        for p in problems
    ), problems


def test_quote_in_the_wrong_section_says_where_it_is(pack_copy):
    _edit(pack_copy, "themes", lambda d: d["themes"][0]["quotes"][0].update({"section": "Lessons"}))
    assert any("(it is in section 'Analysis')" in p for p in _problems(pack_copy))


def test_paraphrase_is_not_accepted_as_a_quotation(pack_copy):
    _edit(
        pack_copy,
        "events",
        lambda d: d["events"][4]["source"].update({"quote": "On 12 March 2020 the GP saw Sam about a cough."}),
    )
    assert any("event 'cough': source.quote: quote not found verbatim" in p for p in _problems(pack_copy))


def test_context_event_not_yet_held_by_role_is_rejected(pack_copy):
    # the health visitor cannot be shown the July argument in a June decision
    _edit(pack_copy, "decisions", lambda d: d["decisions"][1]["context"].append("argument"))
    assert any(
        p.startswith(
            "case/decisions.yaml: decision 'hv-bruise': context[1]: event 'argument' cannot be shown to this role"
        )
        for p in _problems(pack_copy)
    )


def test_hindsight_event_in_context_is_rejected(pack_copy):
    _edit(pack_copy, "decisions", lambda d: d["decisions"][2]["context"].append("diary"))
    assert any(
        "decision 'social-assessment': context[1]: event 'diary' cannot be shown to this role: it is hindsight" in p
        for p in _problems(pack_copy)
    )


def test_missing_field_is_named(pack_copy):
    _edit(pack_copy, "events", lambda d: d["events"][0].pop("date_text"))
    assert "case/events.yaml: event 'arrival': date_text: missing" in _problems(pack_copy)


def test_knowledge_before_the_event_is_rejected(pack_copy):
    _edit(pack_copy, "events", lambda d: d["events"][2]["known_to"][0].update({"from": "2019-06"}))
    assert any(
        "event 'argument': known_to[0].from: '2019-06' ends before the event's date" in p for p in _problems(pack_copy)
    )


def test_hindsight_fact_cannot_be_known_to_an_agency(pack_copy):
    _edit(pack_copy, "events", lambda d: d["events"][5].update({"known_to": [{"agency": "gp"}]}))
    assert any(
        "event 'diary': known_to: a hindsight fact was, by definition, held by no agency" in p
        for p in _problems(pack_copy)
    )


def test_unreadable_yaml_is_reported_with_its_file(pack_copy):
    (pack_copy / "flows.yaml").write_text("flows: [unclosed\n", encoding="utf-8")
    assert any(p.startswith("case/flows.yaml: not valid YAML") for p in _problems(pack_copy))


def test_missing_pack_says_so(tmp_path):
    with pytest.raises(CaseError, match=r"pack\.yaml: file missing"):
        load_case(tmp_path)


def test_every_problem_is_reported_at_once(pack_copy):
    _edit(
        pack_copy,
        "events",
        lambda d: (d["events"][0].update({"date": "20x9"}), d["events"][1].update({"module": "nope"})),
    )
    problems = _problems(pack_copy)
    assert any("event 'arrival': date:" in p for p in problems)
    assert any("event 'bruise': module: unknown module 'nope'" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2011", ("year", "2011-01-01", "2011-12-31", "2011")),
        ("2011-12", ("month", "2011-12-01", "2011-12-31", "December 2011")),
        ("2012-02", ("month", "2012-02-01", "2012-02-29", "February 2012")),
        ("2011-10-12", ("day", "2011-10-12", "2011-10-12", "12 October 2011")),
    ],
)
def test_partial_dates_name_whole_periods(text, expected):
    got = (dates.precision(text), dates.start(text).isoformat(), dates.end(text).isoformat(), dates.label(text))
    assert got == expected


@pytest.mark.parametrize("bad", ["2011-1", "11-10-2011", "2011-02-30", "2011-00", 2011, "mid-December"])
def test_malformed_dates_are_rejected(bad):
    with pytest.raises(dates.DateError):
        dates.parse(bad)


def test_normalise_forgives_only_whitespace_line_hyphens_and_quote_marks():
    assert normalise("a  ‘b’\n c “d” non-\n  accidentally") == "a 'b' c \"d\" non-accidentally"
    assert normalise("a-b") == "a-b"


def test_ellipsis_joins_verbatim_parts_in_order(fictional_case):
    src = fictional_case.source
    assert src.find("Each agency held one piece … nobody put the pieces together.", "Analysis")
    assert not src.find("nobody put the pieces together … Each agency held one piece", "Analysis")
