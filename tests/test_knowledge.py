"""The knowledge invariant: an agency's view on day D holds an event only if that agency held it by D,
and never a hindsight fact. Checked exhaustively on the fixture case and by property-based tests over
generated cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from course.core import dates, knowledge
from course.core.records import Agency, Case, Event, KnownTo, Quote
from course.core.source import Source

ONE_DAY = dt.timedelta(days=1)


def _check_invariant(case: Case, agency: str, day: dt.date) -> None:
    view = knowledge.held_by(case, agency, day)
    for e in view:
        assert not e.hindsight, f"hindsight {e.id} in {agency}'s view on {day}"
        assert any(k.agency == agency and dates.end(k.from_) <= day for k in e.known_to), (
            f"{e.id} in {agency}'s view on {day} before it was held"
        )
    expected = {
        e.id
        for e in case.events
        if not e.hindsight and any(k.agency == agency and dates.end(k.from_) <= day for k in e.known_to)
    }
    assert {e.id for e in view} == expected


def _days_to_check(case: Case):
    days = set()
    for d in knowledge.timeline_days(case):
        days |= {d - ONE_DAY, d, d + ONE_DAY}
    for e in case.events:
        days |= {dates.start(e.date), dates.end(e.date)}
    return sorted(days)


def test_invariant_holds_for_every_agency_on_every_day_of_the_fixture(fictional_case):
    for agency in fictional_case.agencies:
        for day in _days_to_check(fictional_case):
            _check_invariant(fictional_case, agency.id, day)


def test_hv_view_on_2019_06_29_hides_bruise_known_only_by_end_of_june(fictional_case):
    # the health visitor's knowledge is dated 'June 2019': it counts only once June is over
    assert knowledge.held_by(fictional_case, "hv", "2019-06-29") == ()
    assert [e.id for e in knowledge.held_by(fictional_case, "hv", "2019-06-30")] == ["bruise"]


def test_nursery_view_on_the_day_of_the_bruise_shows_it(fictional_case):
    assert [e.id for e in knowledge.held_by(fictional_case, "nursery", "2019-06-03")] == ["bruise"]
    assert knowledge.held_by(fictional_case, "nursery", "2019-06-02") == ()


def test_hindsight_fact_never_appears_in_an_at_the_time_view(fictional_case):
    for day in [*_days_to_check(fictional_case), dt.date(2030, 1, 1)]:
        assert "diary" not in {e.id for e in knowledge.whole_picture(fictional_case, day)}
        for a in fictional_case.agencies:
            assert "diary" not in {e.id for e in knowledge.held_by(fictional_case, a.id, day)}
    assert [e.id for e in knowledge.hindsight(fictional_case)] == ["diary"]


def test_whole_picture_is_the_union_of_agency_views(fictional_case):
    for day in _days_to_check(fictional_case):
        union = set()
        for a in fictional_case.agencies:
            union |= {e.id for e in knowledge.held_by(fictional_case, a.id, day)}
        assert {e.id for e in knowledge.whole_picture(fictional_case, day)} == union


def test_flows_into_and_out_of_an_agency(fictional_case):
    assert [f.id for f in knowledge.flows_into(fictional_case, "hv")] == ["bruise-to-hv"]
    assert [f.id for f in knowledge.flows_out_of(fictional_case, "police")] == ["argument-not-notified"]
    assert [f.id for f in knowledge.stopped_flows(fictional_case)] == ["argument-not-notified"]
    assert knowledge.flows_into(fictional_case, "social", "2019-07-30") == ()


def test_holders_lists_who_held_an_event_on_a_day(fictional_case):
    bruise = fictional_case.event("bruise")
    assert knowledge.holders(fictional_case, bruise, "2019-06-03") == ("nursery",)
    assert set(knowledge.holders(fictional_case, bruise, "2019-07")) == {"nursery", "hv"}


# ----------------------------------------------------------------- generated cases

AGENCIES = ("a", "b", "c")


@st.composite
def partial_dates(draw, min_year=2005, max_year=2008):
    year = draw(st.integers(min_year, max_year))
    precision = draw(st.sampled_from(["year", "month", "day"]))
    if precision == "year":
        return str(year)
    month = draw(st.integers(1, 12))
    if precision == "month":
        return f"{year}-{month:02d}"
    day = draw(st.integers(1, 28))
    return f"{year}-{month:02d}-{day:02d}"


@st.composite
def events(draw, n):
    date = draw(partial_dates())
    hindsight = draw(st.booleans())
    known = []
    if not hindsight:
        for agency in draw(st.lists(st.sampled_from(AGENCIES), max_size=3)):
            later = draw(partial_dates(min_year=dates.start(date).year))
            frm = later if dates.end(later) >= dates.end(date) else date
            known.append(KnownTo(agency, frm))
    return Event(
        id=f"e{n}",
        date=date,
        date_text=date,
        title="t",
        summary="s",
        agencies=(),
        known_to=tuple(known),
        hindsight=hindsight,
        themes=(),
        module="m",
        source=Quote("S", "q"),
    )


@st.composite
def cases(draw):
    n = draw(st.integers(0, 12))
    evs = [draw(events(i)) for i in range(n)]
    return Case(
        id="gen",
        title="generated",
        version="1",
        first_year=2005,
        last_year=2010,
        source=Source(Path("none"), "", ()),
        agencies=tuple(Agency(a, a, a) for a in AGENCIES),
        people=(),
        events=tuple(evs),
        flows=(),
        themes=(),
        decisions=(),
        modules=(),
    )


@settings(max_examples=200, deadline=None)
@given(generated=cases(), day=st.dates(dt.date(2004, 1, 1), dt.date(2011, 12, 31)))
def test_generated_cases_satisfy_the_invariant(generated, day):
    for a in AGENCIES:
        _check_invariant(generated, a, day)
    assert not any(e.hindsight for e in knowledge.whole_picture(generated, day))


@settings(max_examples=100, deadline=None)
@given(generated=cases(), d1=st.dates(dt.date(2004, 1, 1), dt.date(2011, 12, 31)), gap=st.integers(0, 2000))
def test_knowledge_only_grows_with_time(generated, d1, gap):
    d2 = d1 + dt.timedelta(days=gap)
    for a in AGENCIES:
        assert set(knowledge.held_by(generated, a, d1)) <= set(knowledge.held_by(generated, a, d2))


@settings(max_examples=100, deadline=None)
@given(generated=cases())
def test_nothing_is_held_before_its_period_has_ended(generated):
    for e in generated.events:
        before = dates.end(e.date) - ONE_DAY
        for a in AGENCIES:
            assert e not in knowledge.held_by(generated, a, before)
