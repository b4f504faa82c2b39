"""The swimlane timeline as data: one lane per agency, events as marks at the period from which each agency
held them, information passed or stopped, hindsight in its own lane; and its text description (alt text).
The drawing is course.charts.timeline; the widget course.widgets.timeline.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..core import dates, knowledge
from ..core.records import Case, Module
from .lens import Stop, module_period
from .style import esc, plural

HINDSIGHT_LANE = "Emerged only afterwards (not known at the time)"


@dataclass(frozen=True)
class Mark:
    """An event as one agency held it: placed at the period from which that agency held it."""

    event_id: str
    agency: str | None  # None for a hindsight fact
    lane: int
    start: dt.date
    end: dt.date
    precision: str  # "day", "month" or "year"
    offset: float  # vertical offset within the lane, so marks in the same period do not hide each other


@dataclass(frozen=True)
class FlowMark:
    flow_id: str
    status: str  # "passed" or "stopped"
    from_lane: int | None
    to_lane: int | None
    at: dt.date
    date_text: str
    from_agency: str | None
    to_agency: str | None
    how: str


@dataclass(frozen=True)
class TimelineData:
    lanes: tuple[str, ...]  # agency ids, top to bottom
    marks: tuple[Mark, ...]
    hindsight_marks: tuple[Mark, ...]
    flows: tuple[FlowMark, ...]
    start: dt.date
    end: dt.date
    period_text: str


def _mid(partial: str) -> dt.date:
    a, b = dates.start(partial), dates.end(partial)
    return a + (b - a) / 2


def _stack(marks: list[dict], span_days: int) -> None:
    """Give overlapping marks in one lane different vertical offsets."""
    offsets = (0.0, -0.2, 0.2, -0.1, 0.1, -0.3, 0.3)
    gap = dt.timedelta(days=max(1, span_days // 80))
    levels: list[dt.date] = []
    for m in sorted(marks, key=lambda m: (m["start"], m["end"])):
        for i, last_end in enumerate(levels):
            if last_end + gap < m["start"]:
                levels[i] = m["end"]
                m["offset"] = offsets[i % len(offsets)]
                break
        else:
            levels.append(m["end"])
            m["offset"] = offsets[(len(levels) - 1) % len(offsets)]


def timeline_data(case: Case, module: Module | None = None, until: dt.date | None = None) -> TimelineData:
    """Lanes, marks and flows for a module's period (pure; the drawing is a separate step). With `until` (the
    time fence: the date of the first decision not yet answered), the chart ends there: nothing held later,
    no flow later and no hindsight is in it."""
    start, end = module_period(case, module)
    if until is not None:
        end = max(start, min(end, until))
    p_from = module.period_from if module else None
    p_to = module.period_to if module else None
    events = [e for e in case.events if knowledge.in_period(e, p_from, p_to)]
    flows = [f for f in case.flows if dates.start(f.date) <= end and dates.end(f.date) >= start]
    if until is not None:
        events = [e for e in events if not e.hindsight]
        flows = [f for f in flows if dates.end(f.date) <= until]
    wanted = set(module.agencies if module else ())
    for e in events:
        if not e.hindsight:
            wanted.update(k.agency for k in e.known_to if until is None or k.from_day <= until)
    for f in flows:
        wanted.update(a for a in (f.from_agency, f.to_agency) if a)
    lanes = tuple(a.id for a in case.agencies if a.id in wanted)
    lane_of = {a: i for i, a in enumerate(lanes)}
    span_days = (end - start).days or 1

    per_lane: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        if e.hindsight:
            continue
        for k in e.known_to:
            if until is not None and k.from_day > until:
                continue
            lane = lane_of[k.agency]
            per_lane.setdefault(lane, []).append(
                dict(
                    event_id=e.id,
                    agency=k.agency,
                    lane=lane,
                    start=dates.start(k.from_),
                    end=dates.end(k.from_),
                    precision=dates.precision(k.from_),
                    offset=0.0,
                )
            )
    marks = []
    for lane_marks in per_lane.values():
        _stack(lane_marks, span_days)
        marks += [Mark(**m) for m in lane_marks]
    hind: list[dict[str, Any]] = [
        dict(
            event_id=e.id,
            agency=None,
            lane=len(lanes),
            start=dates.start(e.date),
            end=dates.end(e.date_end or e.date),
            precision=dates.precision(e.date),
            offset=0.0,
        )
        for e in events
        if e.hindsight
    ]
    _stack(hind, span_days)
    flow_marks = tuple(
        FlowMark(
            f.id,
            f.status,
            lane_of.get(f.from_agency or ""),
            lane_of.get(f.to_agency or ""),
            _mid(f.date),
            f.date_text,
            f.from_agency,
            f.to_agency,
            f.how,
        )
        for f in flows
    )
    marks.sort(key=lambda m: (m.lane, m.start, m.event_id))
    return TimelineData(
        lanes,
        tuple(marks),
        tuple(Mark(**m) for m in hind),
        flow_marks,
        start,
        end,
        module.period_text if module else f"{case.first_year} to {case.last_year}",
    )


def timeline_alt_text(
    case: Case,
    module: Module | None = None,
    stop: Stop | None = None,
    show_hindsight: bool = False,
    highlight: str | None = None,
    data: TimelineData | None = None,
    full: bool = False,
) -> str:
    """A plain-text description of the chart, generated from the same data it draws: short enough for an
    image's alt text, or (`full`) with every lane and every flow for the text description beside it."""
    data = data or timeline_data(case, module)
    names = [case.agency(a).name for a in data.lanes]
    events = {m.event_id for m in data.marks}
    out = [f"Swimlane timeline for {data.period_text}, one lane per agency ({len(names)}): {', '.join(names)}."]
    out.append(
        f"{plural(len(events), 'event')} known to agencies at the time, shown in the lanes of the agencies "
        "that held them (a dot where the source gives the day, a bar across the month or year otherwise)."
    )
    if full:
        for lane, agency in enumerate(data.lanes):
            n = len({m.event_id for m in data.marks if m.lane == lane})
            out.append(f"{case.agency(agency).name}: {plural(n, 'event')}.")

    def who(a):
        return case.agency(a).short if a else "no one named"

    passed = [f for f in data.flows if f.status == "passed"]
    stopped = [f for f in data.flows if f.status == "stopped"]
    if passed:
        text = f"Information passed between agencies {plural(len(passed), 'time')} (arrows)"
        if full:
            text += ": " + "; ".join(f"{who(f.from_agency)} to {who(f.to_agency)}, {f.date_text}" for f in passed)
        out.append(text + ".")
    if stopped:
        text = f"Information stopped {plural(len(stopped), 'time')} (dashed lines ending in a cross): "
        if full:
            text += "; ".join(
                f"{who(f.from_agency)} to {who(f.to_agency)}, {f.date_text}: {f.how.rstrip('.')}" for f in stopped
            )
        else:
            text += "; ".join(f"{who(f.from_agency)} to {who(f.to_agency)}, {f.date_text}" for f in stopped)
        out.append(text + ".")
    if not data.flows:
        out.append("No information passing between agencies is recorded for this period.")
    if highlight:
        out.append(f"The lane of {case.agency(highlight).name} is highlighted.")
    if stop is not None:
        later = len({m.event_id for m in data.marks if m.start > stop.day})
        out.append(
            f"A vertical line marks {stop.label}; {plural(later, 'event')} after it "
            f"{'is' if later == 1 else 'are'} faded."
        )
    if show_hindsight:
        out.append(
            f"A separate bottom lane shows {plural(len(data.hindsight_marks), 'fact')} that emerged only "
            "afterwards and were not known to any professional at the time."
        )
    if not full:
        out.append("A full text description follows the chart.")
    return " ".join(out)


def figure_html(png: bytes | str, alt: str, caption: str, overlay: str = "") -> str:
    """An <img> with alt text (and optionally an SVG layer over it), in a <figure> with a caption."""
    data = png if isinstance(png, str) else base64.b64encode(png).decode("ascii")
    img = f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}" style="display:block;max-width:100%;height:auto">'
    if overlay:
        img = f'<div style="position:relative;display:inline-block;max-width:100%">{img}{overlay}</div>'
    return f'<figure class="course-view" style="margin:0">{img}<figcaption>{esc(caption)}</figcaption></figure>'
