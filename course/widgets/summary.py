"""The module summary: the trainee's first answers against the review's positions, and the key points."""

from __future__ import annotations

import io
from dataclasses import dataclass

import ipywidgets as widgets

from .. import cache
from ..answers import Answers
from ..case import Case
from .a11y import FONT_SIZE, OKABE_ITO, STYLE, esc, problem_html
from .decision import choice_texts, review_position
from .shared import make, shared_layout, style_carrier
from .timeline import figure_html


@dataclass(frozen=True)
class SummaryRow:
    decision_id: str
    question: str
    role_title: str
    date_text: str
    your_choice: tuple[str, ...]  # option texts; empty when not answered
    confidence: int | None
    points: float
    max_points: int
    review_position: tuple[str, ...]
    changes: int  # later revisions (not graded)
    practice: bool

    @property
    def answered(self) -> bool:
        return bool(self.your_choice)


def summary_rows(case: Case, module_id: str, answers: Answers | None) -> list[SummaryRow]:
    rows = []
    for d in case.decisions_in(module_id):
        first = answers.first(d.id) if answers is not None else None
        choice = first.get("choice") if first else None
        rows.append(SummaryRow(
            decision_id=d.id, question=d.question, role_title=d.role_title, date_text=d.date_text,
            your_choice=tuple(choice_texts(d, choice)) if first else (),
            confidence=first.get("confidence") if first else None,
            points=d.score(choice) if first else 0.0, max_points=d.max_points,
            review_position=tuple(review_position(d)),
            changes=len(answers.revisions(d.id)) if answers is not None else 0, practice=d.practice,
        ))
    return rows


def key_points_html(case: Case, module_id: str, styled: bool = True) -> str:
    """The module's key points; `styled=False` inside a view, which carries the stylesheet once."""
    m = case.module(module_id)
    items = "".join(f"<li>{esc(k)}</li>" for k in m.key_points)
    return (f'{STYLE if styled else ""}<section class="course-view" aria-label="Key points"><h3>Key points</h3>'
            f"<ul>{items}</ul></section>")


def summary_table_html(rows: list[SummaryRow]) -> str:
    if not rows:
        return '<p class="course-view">This module has no decisions.</p>'
    parts = ['<div class="course-view"><table>',
             "<caption>Your first answers against the review's positions</caption>",
             '<thead><tr><th scope="col">Decision</th><th scope="col">Your first answer</th>'
             '<th scope="col">Confidence</th><th scope="col">The review\'s position</th>'
             '<th scope="col">Points</th></tr></thead><tbody>']
    for number, r in enumerate(rows, 1):
        yours = "<br>".join(esc(t) for t in r.your_choice) if r.answered else "<em>Not answered yet</em>"
        if r.changes:
            yours += f"<br><small>({r.changes} later change{'s' if r.changes != 1 else ''}, not graded)</small>"
        parts.append(
            f'<tr><th scope="row">Decision {number}: {esc(r.question)}<br><small>As {esc(r.role_title)}, {esc(r.date_text)}'
            f"{' (practice)' if r.practice else ''}</small></th>"
            f"<td>{yours}</td><td>{esc(r.confidence) + ' of 5' if r.confidence else '—'}</td>"
            f"<td>{'<br>'.join(esc(t) for t in r.review_position)}</td>"
            f"<td>{r.points:g} of {r.max_points}</td></tr>"
        )
    total = sum(r.points for r in rows)
    most = sum(r.max_points for r in rows)
    parts.append(f'</tbody><tfoot><tr><th scope="row" colspan="4">Total</th><td>{total:g} of {most}</td></tr>'
                 "</tfoot></table></div>")
    return "".join(parts)


def summary_alt_text(rows: list[SummaryRow]) -> str:
    if not rows:
        return "No decisions in this module."
    parts = [f"Bar chart of your points against the most available for each of {len(rows)} decisions."]
    for i, r in enumerate(rows, 1):
        state = f"{r.points:g} of {r.max_points}" if r.answered else f"not answered (0 of {r.max_points})"
        parts.append(f"Decision {i}: {state}.")
    return " ".join(parts)


def summary_chart_png(rows: list[SummaryRow]) -> bytes:
    """The bar chart as PNG: a pure function of the points, so kept in the per-user cache (course.cache)."""
    from .timeline import _code_version

    name = "summary-" + cache.digest("summary", _code_version(), cache.code_version(__file__),
                                     repr([(r.points, r.max_points) for r in rows])) + ".png"
    png = cache.get(name)
    if png is not None and png.startswith(b"\x89PNG\r\n\x1a\n"):
        return png
    png = _draw_summary_chart(rows)
    cache.put(name, png)
    return png


def _draw_summary_chart(rows: list[SummaryRow]) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = max(1, len(rows))
    top, bottom, height = 0.7, 0.8, 0.7 * n + 1.5  # inches: legend above, axis label below
    fig = Figure(figsize=(11, height), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.16, bottom / height, 0.8, 1 - (top + bottom) / height))
    ys = list(range(len(rows)))
    ax.barh(ys, [r.max_points for r in rows], color="white", edgecolor="black", hatch="..", lw=1.5,
            label="most available")
    ax.barh(ys, [r.points for r in rows], color=OKABE_ITO["blue"], edgecolor="black", lw=1.5, height=0.5,
            label="your first answer")
    ax.set_yticks(ys, [f"Decision {i}" for i in range(1, len(rows) + 1)], fontsize=FONT_SIZE)
    ax.invert_yaxis()
    ax.set_xlabel("points", fontsize=FONT_SIZE)
    ax.tick_params(axis="x", labelsize=FONT_SIZE - 1)
    ax.legend(fontsize=FONT_SIZE - 2, loc="lower left", bbox_to_anchor=(0.0, 1.02), ncol=2, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


class Summary(widgets.VBox):
    """Table and chart of first answers against the review, then the module's key points."""

    def __init__(self, case: Case, module_id: str, load_answers):
        """`load_answers()` returns (Answers or None, problem message or None)."""
        self.case = case
        self.module_id = module_id
        self._load = load_answers
        self.refresh_button = make(widgets.Button, description="Refresh",
                                   tooltip="Show your latest recorded answers", layout=dict(width="auto"))
        self.message = make(widgets.HTML)  # in the page only when there is a problem to report
        self.table = make(widgets.HTML)
        self.chart = make(widgets.HTML)
        self.key_points = make(widgets.HTML, key_points_html(case, module_id, styled=False))
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__(self._parts(), layout=shared_layout())
        self.refresh()

    def _parts(self) -> list[widgets.Widget]:
        return [style_carrier(), self.refresh_button, *([self.message] if self.message.value else []), self.table,
                self.chart, self.key_points]

    def __repr__(self) -> str:
        return f"Module summary for {self.module_id}"

    def rows(self) -> list[SummaryRow]:
        answers, _ = self._load()
        return summary_rows(self.case, self.module_id, answers)

    def refresh(self) -> None:
        answers, problem = self._load()
        rows = summary_rows(self.case, self.module_id, answers)
        self.message.value = problem_html(problem) if problem else ""
        if list(self.children) != self._parts():
            self.children = self._parts()
        self.table.value = summary_table_html(rows)
        self.chart.value = figure_html(summary_chart_png(rows), summary_alt_text(rows),
                                       "Your points for each decision (filled) against the most available (dotted).")
