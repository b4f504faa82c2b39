"""The module summary widget: table and chart of first answers against the review, then the key points."""

from __future__ import annotations

import ipywidgets as widgets

from ..charts.summary import summary_chart_png
from ..core.records import Case
from ..render.style import problem_html
from ..render.summary import SummaryRow, key_points_html, summary_alt_text, summary_rows, summary_table_html
from ..render.timeline import figure_html
from .shared import make, shared_layout, style_carrier


class Summary(widgets.VBox):
    """Table and chart of first answers against the review, then the module's key points."""

    def __init__(self, case: Case, module_id: str, load_answers, order: list[str] | None = None):
        """`load_answers()` returns (Answers or None, problem message or None)."""
        self.case = case
        self.module_id = module_id
        self._load = load_answers
        self.order = order  # decision ids in the page's order (the page numbers them so)
        self.refresh_button = make(
            widgets.Button,
            description="Refresh",
            tooltip="Show your latest recorded answers",
            layout=dict(width="auto"),
        )
        self.message = make(widgets.HTML)  # in the page only when there is a problem to report
        self.table = make(widgets.HTML)
        self.chart = make(widgets.HTML)
        self.key_points = make(widgets.HTML)
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__(self._parts(), layout=shared_layout())
        self.refresh()

    def _parts(self) -> list[widgets.Widget]:
        return [
            style_carrier(),
            self.refresh_button,
            *([self.message] if self.message.value else []),
            self.table,
            self.chart,
            self.key_points,
        ]

    def __repr__(self) -> str:
        return f"Module summary for {self.module_id}"

    def rows(self) -> list[SummaryRow]:
        answers, _ = self._load()
        return summary_rows(self.case, self.module_id, answers, self.order)

    def refresh(self) -> None:
        answers, problem = self._load()
        rows = summary_rows(self.case, self.module_id, answers, self.order)
        self.message.value = problem_html(problem) if problem else ""
        if list(self.children) != self._parts():  # type: ignore[has-type]
            self.children = self._parts()
        self.table.value = summary_table_html(rows)
        self.key_points.value = key_points_html(
            self.case, self.module_id, styled=False, ready=all(r.answered for r in rows)
        )
        self.chart.value = figure_html(
            summary_chart_png(rows),
            summary_alt_text(rows),
            "Your points for each decision (filled) against the most available (dotted).",
        )
