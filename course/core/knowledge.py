"""What each agency held, and when: pure functions over a loaded Case.

The invariant every view relies on: an agency's view on day D contains an event only if one of the
event's `known_to` entries names that agency with a `from` period that has wholly ended by D, and
never a hindsight fact. Partial dates are compared by the last day of their period, so nothing is
shown before it could have been known.
"""

from __future__ import annotations

import datetime as dt

from . import dates
from .records import Case, Event, Flow


def known_from(event: Event, agency: str) -> dt.date | None:
    """The first day on which `agency` certainly held `event`, or None if it never did at the time."""
    if event.hindsight:
        return None
    days = [k.from_day for k in event.known_to if k.agency == agency]
    return min(days) if days else None


def first_known(event: Event) -> dt.date | None:
    """The first day on which any agency certainly held `event`."""
    if event.hindsight or not event.known_to:
        return None
    return min(k.from_day for k in event.known_to)


def held_by(case: Case, agency: str, on: str | dt.date) -> tuple[Event, ...]:
    """Events `agency` held on day `on` (a partial date means the end of its period), oldest first."""
    day = dates.as_date(on)
    out = []
    for e in case.events:
        since = known_from(e, agency)
        if since is not None and since <= day:
            out.append(e)
    return tuple(out)


def whole_picture(case: Case, on: str | dt.date) -> tuple[Event, ...]:
    """Everything some agency held on `on`: the picture nobody had in one place at the time."""
    day = dates.as_date(on)
    return tuple(e for e in case.events if (f := first_known(e)) is not None and f <= day)


def holders(case: Case, event: Event, on: str | dt.date) -> tuple[str, ...]:
    """The agencies that held `event` on `on`."""
    day = dates.as_date(on)
    return tuple(a.id for a in case.agencies if (f := known_from(event, a.id)) is not None and f <= day)


def hindsight(case: Case) -> tuple[Event, ...]:
    """Facts no professional knew at the time; they emerged only afterwards (e.g. criminal evidence)."""
    return tuple(e for e in case.events if e.hindsight)


def flows_into(case: Case, agency: str, on: str | dt.date | None = None) -> tuple[Flow, ...]:
    day = dates.as_date(on) if on is not None else None
    return tuple(f for f in case.flows if f.to_agency == agency and (day is None or dates.end(f.date) <= day))


def flows_out_of(case: Case, agency: str, on: str | dt.date | None = None) -> tuple[Flow, ...]:
    day = dates.as_date(on) if on is not None else None
    return tuple(f for f in case.flows if f.from_agency == agency and (day is None or dates.end(f.date) <= day))


def stopped_flows(case: Case) -> tuple[Flow, ...]:
    """Where information stopped: not passed on, or passed but not recorded or acted on."""
    return tuple(f for f in case.flows if f.status == "stopped")


def timeline_days(case: Case) -> tuple[dt.date, ...]:
    """Every day on which some agency's picture changed, in order: the stops of a date slider."""
    days = {k.from_day for e in case.events if not e.hindsight for k in e.known_to}
    return tuple(sorted(days))


def in_period(event: Event, start: str | None, end: str | None) -> bool:
    """True when the event's own date overlaps the period [start, end] (partial dates allowed)."""
    first = dates.start(event.date)
    last = dates.end(event.date_end or event.date)
    if start is not None and last < dates.start(start):
        return False
    return not (end is not None and first > dates.end(end))
