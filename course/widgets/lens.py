"""The agency lens widget: an agency drop-down and a date slider over the lens list (course.render.lens), with
separate toggles for the whole picture and for hindsight."""

from __future__ import annotations

import ipywidgets as widgets

from ..core.records import Case, Module
from ..render.lens import LensItem, Stop, hindsight_html, lens_agencies, lens_html, lens_items, slider_stops
from .shared import make, set_dates, shared_layout, style_carrier


class Lens(widgets.VBox):
    """Agency dropdown + date slider over an HTML list; separate toggles for the whole picture and hindsight."""

    def __init__(
        self, case: Case, module: Module | None = None, agency: str | None = None, stops: tuple[Stop, ...] | None = None
    ):
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
            # A named drop-down, not a slider: a slider's handle has no accessible name in ipywidgets
            # (docs/accessibility.md), and a slider with one stop (the time fence can leave one) does not work.
            widgets.Dropdown,
            options=[(s.label, s.day) for s in self.stops],
            value=self.stops[0].day,
            description="Date",
            tooltip="Choose a date; the list shows what was held by then",
            layout=dict(width="auto"),
            style={"description_width": "initial"},
        )
        self.earlier = make(
            widgets.Button,
            description="◀ Earlier",
            tooltip="Go to the previous date",
            layout=dict(width="auto", flex="0 0 auto"),
        )
        self.later = make(
            widgets.Button,
            description="Later ▶",
            tooltip="Go to the next date",
            layout=dict(width="auto", flex="0 0 auto"),
        )
        self.whole = make(
            widgets.Checkbox,
            value=False,
            description="Whole picture (every agency)",
            indent=False,
            tooltip="Show what every agency held on this date, in one place",
        )
        self.hindsight = make(
            widgets.Checkbox,
            value=False,
            indent=False,
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
            make(
                widgets.HBox, [self.earlier, self.slider, self.later], layout=dict(width="100%", flex_flow="row wrap")
            ),
            make(widgets.HBox, [self.whole, self.hindsight], layout=dict(flex_flow="row wrap")),
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

    def start_with_something_to_show(self) -> None:
        """Move to the first date on which the chosen agency held something (a room's first screen is never
        'Nothing yet')."""
        for s in self.stops:
            if lens_items(self.case, self.agency.value, s.day):
                self.slider.value = s.day
                return

    def set_stops(self, stops: tuple[Stop, ...]) -> None:
        """New slider stops (the time fence moved): the date stays where it was if it is still a stop."""
        self.stops = stops
        self._stop_by_day = {s.day: s for s in stops}
        set_dates(self.slider, stops)
        self._refresh()

    def allow_hindsight(self, allowed: bool) -> None:
        """Hindsight is offered only once every decision of the module is answered (it would colour them)."""
        if not allowed:
            self.hindsight.value = False
        self.hindsight.disabled = not allowed
        self.hindsight.tooltip = (
            "Show, in a separate panel, facts no professional knew at the time"
            if allowed
            else "Available once you have answered this module's decisions"
        )

    def _refresh_hindsight(self, _change=None) -> None:
        if self.hindsight.value:
            self.hindsight_panel.value = hindsight_html(self.case, self.stop)
            self.children = [*self._always, self.hindsight_panel]  # appended: the views above are kept
        else:
            # Taken out and emptied: hindsight text is never in the page unless asked for.
            self.children = self._always
            self.hindsight_panel.value = ""
