"""The module summary as data and HTML: the trainee's first answers against the review's positions, and the
module's key points."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.answers import Answers
from ..core.records import Case
from .decision import choice_texts, review_position
from .style import STYLE, esc


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
    label: str = ""  # as the page names it: "Decision point 2", "Practice decision"

    @property
    def answered(self) -> bool:
        return bool(self.your_choice)


def summary_rows(
    case: Case, module_id: str, answers: Answers | None, order: list[str] | None = None
) -> list[SummaryRow]:
    """One row per decision of the module, in the page's order (`order`: decision ids as the page shows them;
    else the pack's), each named as the page names it."""
    decisions = list(case.decisions_in(module_id))
    if order:
        place = {d: i for i, d in enumerate(order)}
        decisions.sort(key=lambda d: place.get(d.id, len(place)))
    number = 0
    rows = []
    for d in decisions:
        if not d.practice:
            number += 1
        first = answers.first(d.id) if answers is not None else None
        choice = first.get("choice") if first else None
        rows.append(
            SummaryRow(
                decision_id=d.id,
                question=d.question,
                role_title=d.role_title,
                date_text=d.date_text,
                your_choice=tuple(choice_texts(d, choice)) if first else (),
                confidence=first.get("confidence") if first else None,
                points=d.score(choice) if first else 0.0,
                max_points=d.max_points,
                # the review's position only once answered: the summary is on the page before the decisions are
                review_position=tuple(review_position(d)) if first else (),
                changes=len(answers.revisions(d.id)) if answers is not None else 0,
                practice=d.practice,
                label="Practice decision" if d.practice else f"Decision point {number}",
            )
        )
    return rows


KEY_POINTS_LATER = "The key points appear here once you have answered this module's decisions."


def key_points_html(case: Case, module_id: str, styled: bool = True, ready: bool = True) -> str:
    """The module's key points; `styled=False` inside a view, which carries the stylesheet once. Not `ready`
    (a decision of the module is still unanswered): only a note, since the key points tell how it ended."""
    m = case.module(module_id)
    if not ready:
        return (
            f'{STYLE if styled else ""}<section class="course-view" aria-label="Key points"><h3>Key points</h3>'
            f'<p class="course-note">{esc(KEY_POINTS_LATER)}</p></section>'
        )
    items = "".join(f"<li>{esc(k)}</li>" for k in m.key_points)
    return (
        f'{STYLE if styled else ""}<section class="course-view" aria-label="Key points"><h3>Key points</h3>'
        f"<ul>{items}</ul></section>"
    )


def summary_table_html(rows: list[SummaryRow]) -> str:
    if not rows:
        return '<p class="course-view">This module has no decisions.</p>'
    parts = [
        '<div class="course-view"><table>',
        "<caption>Your first answers against the review's positions</caption>",
        '<thead><tr><th scope="col">Decision</th><th scope="col">Your first answer</th>'
        '<th scope="col">Confidence</th><th scope="col">The review\'s position</th>'
        '<th scope="col">Points</th></tr></thead><tbody>',
    ]
    for r in rows:
        yours = "<br>".join(esc(t) for t in r.your_choice) if r.answered else "<em>Not answered yet</em>"
        if r.changes:
            yours += f"<br><small>({r.changes} later change{'s' if r.changes != 1 else ''}, not graded)</small>"
        parts.append(
            f'<tr><th scope="row">{esc(r.label)}: {esc(r.question)}<br><small>As {esc(r.role_title)}, {esc(r.date_text)}'
            f"{' (practice)' if r.practice else ''}</small></th>"
            f"<td>{yours}</td><td>{esc(r.confidence) + ' of 5' if r.confidence else '—'}</td>"
            f"<td>{'<br>'.join(esc(t) for t in r.review_position) or '<em>Shown once you have answered</em>'}</td>"
            f"<td>{r.points:g} of {r.max_points}</td></tr>"
        )
    total = sum(r.points for r in rows)
    most = sum(r.max_points for r in rows)
    parts.append(
        f'</tbody><tfoot><tr><th scope="row" colspan="4">Total</th><td>{total:g} of {most}</td></tr>'
        "</tfoot></table></div>"
    )
    return "".join(parts)


def summary_alt_text(rows: list[SummaryRow]) -> str:
    if not rows:
        return "No decisions in this module."
    parts = [f"Bar chart of your points against the most available for each of {len(rows)} decisions."]
    for r in rows:
        state = f"{r.points:g} of {r.max_points}" if r.answered else f"not answered (0 of {r.max_points})"
        parts.append(f"{r.label}: {state}.")
    return " ".join(parts)
