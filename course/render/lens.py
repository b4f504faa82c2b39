"""The agency lens as data and HTML: what one agency held on a chosen date, newest first, with the source's own
wording; hindsight only in its own, visibly labelled panel. Pure functions over the Case (tested exactly);
the widget (course.widgets.lens) is a thin shell around them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..core import dates, knowledge
from ..core.records import Case, Event, Module
from .style import esc


@dataclass(frozen=True)
class Stop:
    """A date-slider stop: a day on which some agency's picture changed, labelled at the source's precision."""

    day: dt.date
    date: str  # the partial date whose end is `day` (the finest one the data gives for that day)
    before: bool = False  # the time fence: the last day before `date` begins ("before June 2019")

    @property
    def label(self) -> str:
        """The slider's reading: '3 June 2019', 'June 2019', 'end of 2019' (a year after 'March 2019' would read as
        a step back), or 'before June 2019' at the time fence."""
        if self.before:
            return f"before {dates.label(self.date)}"
        if dates.precision(self.date) == "year":
            return f"end of {self.date}"
        return dates.label(self.date)

    @property
    def phrase(self) -> str:
        """'on 3 June 2019', 'by the end of June 2019' or 'before June 2019': never a day the source did not give."""
        if self.before:
            return self.label
        if dates.precision(self.date) == "day":
            return f"on {dates.label(self.date)}"
        return f"by the end of {dates.label(self.date)}"


@dataclass(frozen=True)
class LensItem:
    event_id: str
    date_text: str
    date: str
    title: str
    summary: str
    section: str
    holders: tuple[str, ...]  # agency ids holding it on the chosen day
    held_by_agency: bool  # whether the chosen agency held it

    @property
    def source_text(self) -> str:
        return f"Source: {self.section}"

    @property
    def when(self) -> str:
        """The source's wording of the date, with its year when the wording has none."""
        return dates.with_year(self.date_text, self.date)


@dataclass(frozen=True)
class HindsightItem:
    event_id: str
    date_text: str
    date: str
    title: str
    summary: str
    emerged_text: str
    section: str

    @property
    def when(self) -> str:
        return dates.with_year(self.date_text, self.date)


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


def module_period(case: Case, module: Module | None) -> tuple[dt.date, dt.date]:
    """The first and last day of a module's period (the whole case when the module has none)."""
    start = dates.start(str(case.first_year))
    end = dates.end(str(case.last_year))
    if module is not None:
        if module.period_from:
            start = dates.start(module.period_from)
        if module.period_to:
            end = dates.end(module.period_to)
    return start, end


def slider_stops(case: Case, module: Module | None = None) -> tuple[Stop, ...]:
    """The days within the module's period on which some agency's picture changed (knowledge.timeline_days),
    each labelled by the finest partial date the data gives for it."""
    start, end = module_period(case, module)
    finest: dict[dt.date, str] = {}
    for e in case.events:
        if e.hindsight:
            continue
        for k in e.known_to:
            day = k.from_day
            current = finest.get(day)
            if current is None or _PRECISION_RANK[dates.precision(k.from_)] < _PRECISION_RANK[dates.precision(current)]:
                finest[day] = k.from_
    days = [d for d in knowledge.timeline_days(case) if start <= d <= end]
    if not days and module is not None:
        # A module whose period holds no change (e.g. a welcome module) still gets a usable slider.
        days = list(knowledge.timeline_days(case))
    if not days:
        last = (module.period_to if module is not None and module.period_to else None) or str(case.last_year)
        return (Stop(dates.end(last), last),)
    return tuple(Stop(d, finest[d]) for d in days)


def _item(case: Case, e: Event, day: dt.date, agency: str) -> LensItem:
    holders = knowledge.holders(case, e, day)
    return LensItem(e.id, e.date_text, e.date, e.title, e.summary, e.source.section, holders, agency in holders)


def _newest_first(events) -> list[Event]:
    return sorted(events, key=lambda e: e.sort_key, reverse=True)


def lens_items(case: Case, agency: str, day: dt.date | str, whole: bool = False) -> list[LensItem]:
    """What `agency` held on `day`, newest first; with `whole`, what every agency held (the picture nobody
    had in one place). Never a hindsight fact."""
    day = dates.as_date(day)
    events = knowledge.whole_picture(case, day) if whole else knowledge.held_by(case, agency, day)
    return [_item(case, e, day, agency) for e in _newest_first(events)]


def hindsight_items(case: Case, day: dt.date | str | None = None) -> list[HindsightItem]:
    """Facts that emerged only afterwards, about the time up to `day` (all of them when None), newest first."""
    limit = dates.as_date(day) if day is not None else None
    out = []
    for e in _newest_first(knowledge.hindsight(case)):
        if limit is not None and dates.start(e.date) > limit:
            continue
        out.append(HindsightItem(e.id, e.date_text, e.date, e.title, e.summary, e.emerged_text, e.source.section))
    return out


def _short(case: Case, agency_id: str) -> str:
    return case.agency(agency_id).short


def lens_html(case: Case, agency: str, stop: Stop, whole: bool = False) -> str:
    """The lens list as semantic HTML: a heading, then <ul>/<li> newest first."""
    items = lens_items(case, agency, stop.day, whole)
    who = f"the {case.agency(agency).short}"
    if whole:
        heading = f"The whole picture {stop.phrase}: what every agency held"
        note = f"No single agency held all of this at the time. Items marked “not held by {esc(who)}” were elsewhere."
    else:
        heading = f"What {who} held {stop.phrase}"
        note = "Newest first. Only what this agency held at the time is shown."
    parts = [
        f'<section class="course-view" aria-label="{esc(heading)}">',
        f"<h3>{esc(heading)}</h3>",
        f'<p class="course-note" role="status">{note} {len(items)} item{"s" if len(items) != 1 else ""}.</p>',
    ]
    if not items:
        parts.append("<p>Nothing yet.</p>")
    else:
        parts.append('<ul class="course-items">')
        for it in items:
            extra = ""
            if whole:
                held = ", ".join(_short(case, a) for a in it.holders)
                extra = f'<br><span class="course-source">Held by: {esc(held)}</span>'
                if not it.held_by_agency:
                    extra += f" <strong>(not held by {esc(who)})</strong>"
            parts.append(
                f'<li><span class="course-when">{esc(it.when)}</span>: <strong>{esc(it.title)}</strong>'
                f"<br>{esc(it.summary)}{extra}"
                f'<br><span class="course-source">{esc(it.source_text)}</span></li>'
            )
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


HINDSIGHT_HEADING = "What emerged only afterwards: NOT known to any professional at the time"


def hindsight_html(case: Case, stop: Stop | None) -> str:
    items = hindsight_items(case, stop.day if stop else None)
    parts = [
        f'<section class="course-view course-hindsight" aria-label="{esc(HINDSIGHT_HEADING)}">',
        f"<h3>{esc(HINDSIGHT_HEADING)}</h3>",
        '<p class="course-note">These facts came to light later. No agency could have acted on them then; '
        "they are shown here only to help understand the child's experience.</p>",
    ]
    if not items:
        parts.append("<p>Nothing about this period emerged only afterwards.</p>")
    else:
        parts.append('<ul class="course-items">')
        for it in items:
            parts.append(
                f'<li><span class="course-when">{esc(it.when)}</span>: <strong>{esc(it.title)}</strong>'
                f"<br>{esc(it.summary)}<br>"
                f'<span class="course-source">How it emerged: {esc(it.emerged_text.rstrip("."))}. Source: {esc(it.section)}</span></li>'
            )
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


def lens_agencies(case: Case, module: Module | None) -> tuple[str, ...]:
    if module is not None and module.agencies:
        return module.agencies
    return tuple(a.id for a in case.agencies)


def fence_day(case: Case, module: Module, answered: set[str]) -> tuple[dt.date, str] | None:
    """The time fence: the last day before the period of the module's earliest decision not yet answered (with
    that decision's partial date), or None when every decision is answered. Until a decision is answered, no view
    shows anything from its period on: a decision dated '2009' could otherwise be followed, in the same year, by
    the very outcome it asks about."""
    waiting = [d for d in case.decisions_in(module.id) if d.date and not d.practice and d.id not in answered]
    if not waiting:
        return None
    first = min(waiting, key=lambda d: (dates.start(d.date), d.id))
    return dates.start(first.date) - dt.timedelta(days=1), first.date


def fenced_stops(stops: tuple[Stop, ...], fence: tuple[dt.date, str] | None) -> tuple[Stop, ...]:
    """The slider's stops up to the fence, ending on the fence itself ('before June 2019')."""
    if fence is None:
        return stops
    day, partial = fence
    kept = [s for s in stops if s.day < day]
    kept.append(Stop(day, partial, before=True))
    return tuple(kept)
