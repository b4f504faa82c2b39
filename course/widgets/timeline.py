"""The timeline widget: a date slider over the swimlane chart (course.charts.timeline), a clearly marked
hindsight toggle and a text description generated from the same data."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ..charts.timeline import TimelineFigure
from ..core.records import Case, Module
from ..render.lens import Stop, slider_stops
from ..render.style import esc
from ..render.timeline import figure_html, timeline_alt_text, timeline_data
from .shared import make, set_dates, shared_layout, style_carrier

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class Timeline(widgets.VBox):
    """A date slider over the swimlane chart, with a clearly marked hindsight toggle and a text description."""

    def __init__(
        self,
        case: Case,
        module: Module | None = None,
        stops: tuple[Stop, ...] | None = None,
        highlight: str | None = None,
        until: dt.date | None = None,
    ):
        self.case = case
        self.module = module
        self.stops = stops if stops is not None else slider_stops(case, module)
        self._stop_by_day = {s.day: s for s in self.stops}
        self.until = until
        self.chart = TimelineFigure(case, module, data=timeline_data(case, module, until))
        self.chart.set_static(highlight=highlight)
        self.slider = make(
            widgets.Dropdown,
            options=[(s.label, s.day) for s in self.stops],
            value=self.stops[0].day,
            description="Date",
            tooltip="Choose the date marked on the timeline",
            layout=dict(width="auto"),
            style={"description_width": "initial"},
        )
        self.hindsight = make(
            widgets.Checkbox,
            value=False,
            indent=False,
            layout=dict(width="auto"),
            description="Show what emerged only afterwards (hindsight: not known at the time)",
            tooltip="Adds a separate bottom lane for facts no professional knew at the time",
        )
        self.image = make(widgets.HTML)
        self.description = make(widgets.HTML)
        self.slider.observe(self._on_day, names="value")
        self.hindsight.observe(self._on_hindsight, names="value")
        super().__init__(
            [style_carrier(), self.slider, self.hindsight, self.image, self.description], layout=shared_layout()
        )
        self._render()

    @property
    def figure(self) -> Figure:
        return self.chart.figure

    @property
    def stop(self) -> Stop:
        return self._stop_by_day[self.slider.value]

    def alt_text(self, full: bool = False) -> str:
        return timeline_alt_text(
            self.case,
            self.module,
            self.stop,
            self.chart.show_hindsight,
            self.chart.highlight,
            data=self.chart.data,
            full=full,
        )

    def set_fence(self, stops: tuple[Stop, ...], until: dt.date | None) -> None:
        """Move the time fence: the chart ends at `until` (None: the whole period) and the slider at its stops."""
        if until != self.until:
            self.until = until
            static = (self.chart.highlight, self.chart.show_hindsight)
            self.chart = TimelineFigure(self.case, self.module, data=timeline_data(self.case, self.module, until))
            self.chart.set_static(highlight=static[0], show_hindsight=static[1])
        self.stops = stops
        self._stop_by_day = {s.day: s for s in stops}
        set_dates(self.slider, stops)
        self._render()

    def allow_hindsight(self, allowed: bool) -> None:
        """The hindsight lane is offered only once every decision of the module is answered."""
        if not allowed:
            self.hindsight.value = False
        self.hindsight.disabled = not allowed

    def set_highlight(self, agency: str | None) -> None:
        self.chart.set_static(highlight=agency)
        self._render()

    def _on_day(self, _change=None) -> None:
        self._render()

    def _on_hindsight(self, change) -> None:
        self.chart.set_static(highlight=self.chart.highlight, show_hindsight=bool(change["new"]))
        self._render()

    def _render(self) -> None:
        self.chart.set_day(self.stop)
        caption = f"Timeline at {self.stop.label}. A text description follows the chart."
        self.image.value = figure_html(
            self.chart.background_b64(), self.alt_text(), caption, overlay=self.chart.date_layer_svg()
        )
        self.description.value = (
            f'<details class="course-view"><summary>Text description of the timeline'
            f"</summary><p>{esc(self.alt_text(full=True))}</p></details>"
        )
