"""The agency lens: what one agency held on a chosen date, newest first, with the source's own wording.

`lens_items` and `hindsight_items` are pure functions over the Case (tested exactly); the `Lens` widget
is a thin shell around them. Hindsight facts appear only in their own, visibly labelled panel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ipywidgets as widgets

from .. import dates, knowledge
from ..case import Case, Event, Module
from .a11y import esc
from .shared import make, shared_layout, style_carrier


@dataclass(frozen=True)
class Stop:
    """A date-slider stop: a day on which some agency's picture changed, labelled at the source's precision."""

    day: dt.date
    date: str  # the partial date whose end is `day` (the finest one the data gives for that day)

    @property
    def label(self) -> str:
        return dates.label(self.date)

    @property
    def phrase(self) -> str:
        """'on 3 June 2019' or 'by the end of June 2019': never a day the source did not give."""
        if dates.precision(self.date) == "day":
            return f"on {self.label}"
        return f"by the end of {self.label}"


@dataclass(frozen=True)
class LensItem:
    event_id: str
    date_text: str
    title: str
    summary: str
    section: str
    holders: tuple[str, ...]  # agency ids holding it on the chosen day
    held_by_agency: bool  # whether the chosen agency held it

    @property
    def source_text(self) -> str:
        return f"Source: {self.section}"


@dataclass(frozen=True)
class HindsightItem:
    event_id: str
    date_text: str
    title: str
    summary: str
    emerged_text: str
    section: str


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
    return LensItem(e.id, e.date_text, e.title, e.summary, e.source.section, holders, agency in holders)


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
        out.append(HindsightItem(e.id, e.date_text, e.title, e.summary, e.emerged_text, e.source.section))
    return out


# --------------------------------------------------------------------------- HTML


def _short(case: Case, agency_id: str) -> str:
    return case.agency(agency_id).short


def lens_html(case: Case, agency: str, stop: Stop, whole: bool = False) -> str:
    """The lens list as semantic HTML: a heading, then <ul>/<li> newest first."""
    items = lens_items(case, agency, stop.day, whole)
    who = f"the {case.agency(agency).short}"
    if whole:
        heading = f"The whole picture {stop.phrase}: what every agency held"
        note = ("No single agency held all of this at the time. Items marked “not held by "
                f"{esc(who)}” were elsewhere.")
    else:
        heading = f"What {who} held {stop.phrase}"
        note = "Newest first. Only what this agency held at the time is shown."
    parts = [f'<section class="course-view" aria-label="{esc(heading)}">', f"<h3>{esc(heading)}</h3>",
             f'<p class="course-note" role="status">{note} {len(items)} item{"s" if len(items) != 1 else ""}.</p>']
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
                    extra += f' <strong>(not held by {esc(who)})</strong>'
            parts.append(
                f'<li><span class="course-when">{esc(it.date_text)}</span>: <strong>{esc(it.title)}</strong>'
                f"<br>{esc(it.summary)}{extra}"
                f'<br><span class="course-source">{esc(it.source_text)}</span></li>'
            )
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


HINDSIGHT_HEADING = "What emerged only afterwards: NOT known to any professional at the time"


def hindsight_html(case: Case, stop: Stop | None) -> str:
    items = hindsight_items(case, stop.day if stop else None)
    parts = [f'<section class="course-view course-hindsight" aria-label="{esc(HINDSIGHT_HEADING)}">',
             f"<h3>{esc(HINDSIGHT_HEADING)}</h3>",
             '<p class="course-note">These facts came to light later. No agency could have acted on them then; '
             "they are shown here only to help understand the child's experience.</p>"]
    if not items:
        parts.append("<p>Nothing about this period emerged only afterwards.</p>")
    else:
        parts.append('<ul class="course-items">')
        for it in items:
            parts.append(
                f'<li><span class="course-when">{esc(it.date_text)}</span>: <strong>{esc(it.title)}</strong>'
                f"<br>{esc(it.summary)}<br>"
                f'<span class="course-source">How it emerged: {esc(it.emerged_text)}. Source: {esc(it.section)}</span></li>'
            )
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


# --------------------------------------------------------------------------- widget


def lens_agencies(case: Case, module: Module | None) -> tuple[str, ...]:
    if module is not None and module.agencies:
        return module.agencies
    return tuple(a.id for a in case.agencies)


class Lens(widgets.VBox):
    """Agency dropdown + date slider over an HTML list; separate toggles for the whole picture and hindsight."""

    def __init__(self, case: Case, module: Module | None = None, agency: str | None = None,
                 stops: tuple[Stop, ...] | None = None):
        self.case = case
        self.module = module
        self.stops = stops if stops is not None else slider_stops(case, module)
        self._stop_by_day = {s.day: s for s in self.stops}
        agencies = lens_agencies(case, module)
        self.agency = make(
            widgets.Dropdown,
            options=[(case.agency(a).name, a) for a in agencies],
            value=agency if agency in agencies else agencies[0],
            description="View as",
            tooltip="Choose the agency whose records you see",
            # wide enough for the longest agency name (the default 300px cut them off), never wider than the cell
            layout=dict(width="34em", max_width="100%"),
        )
        self.slider = make(
            widgets.SelectionSlider,
            options=[(s.label, s.day) for s in self.stops],
            value=self.stops[0].day,
            description="Date",
            continuous_update=False,
            readout=True,
            tooltip="Move to change the date; the list shows what was held by then",
            layout=dict(width="auto", flex="1 1 auto"),
            style={"description_width": "initial"},
        )
        self.earlier = make(widgets.Button, description="◀ Earlier", tooltip="Go to the previous date",
                            layout=dict(width="auto", flex="0 0 auto"))
        self.later = make(widgets.Button, description="Later ▶", tooltip="Go to the next date",
                          layout=dict(width="auto", flex="0 0 auto"))
        self.whole = make(widgets.Checkbox, value=False, description="Whole picture (every agency)", indent=False,
                          tooltip="Show what every agency held on this date, in one place")
        self.hindsight = make(
            widgets.Checkbox, value=False, indent=False,
            description="What emerged only afterwards (hindsight: not known at the time)",
            tooltip="Show, in a separate panel, facts no professional knew at the time",
            layout=dict(width="auto"),
        )
        self.view = make(widgets.HTML)
        self._panel: widgets.HTML | None = None  # built when the hindsight box is first ticked
        self.earlier.on_click(lambda _: self.step(-1))
        self.later.on_click(lambda _: self.step(+1))
        for w in (self.agency, self.slider, self.whole):
            w.observe(self._refresh, names="value")
        self.hindsight.observe(self._refresh_hindsight, names="value")
        self._always = [
            style_carrier(),
            make(widgets.HBox, [self.agency]),
            make(widgets.HBox, [self.earlier, self.slider, self.later], layout=dict(width="100%")),
            make(widgets.HBox, [self.whole, self.hindsight]),
            self.view,
        ]
        super().__init__(self._always, layout=shared_layout())
        self._refresh()

    @property
    def stop(self) -> Stop:
        return self._stop_by_day[self.slider.value]

    def step(self, by: int) -> None:
        days = [s.day for s in self.stops]
        i = days.index(self.slider.value)
        self.slider.value = days[max(0, min(len(days) - 1, i + by))]

    def items(self) -> list[LensItem]:
        return lens_items(self.case, self.agency.value, self.stop.day, self.whole.value)

    def _refresh(self, _change=None) -> None:
        self.view.value = lens_html(self.case, self.agency.value, self.stop, self.whole.value)
        days = [s.day for s in self.stops]
        i = days.index(self.slider.value)
        self.earlier.disabled = i == 0
        self.later.disabled = i == len(days) - 1
        if self.hindsight.value:
            self.hindsight_panel.value = hindsight_html(self.case, self.stop)

    @property
    def hindsight_panel(self) -> widgets.HTML:
        """In the page only while the hindsight box is ticked: hindsight text is never in the page unless asked
        for, and on Run All there is one model and view fewer for the browser to build."""
        if self._panel is None:
            self._panel = make(widgets.HTML)
        return self._panel

    @property
    def hindsight_shown(self) -> bool:
        return self._panel is not None and self._panel in self.children

    def _refresh_hindsight(self, _change=None) -> None:
        if self.hindsight.value:
            self.hindsight_panel.value = hindsight_html(self.case, self.stop)
            self.children = [*self._always, self.hindsight_panel]  # appended: the views above are kept
        else:
            # Taken out and emptied: hindsight text is never in the page unless asked for.
            self.children = self._always
            self.hindsight_panel.value = ""
