"""A decision point as text: the situation as the role held it, the trainee's answer, and the review's analysis
(HTML for the widget, Markdown for feedback), with the plain phrases used wherever an answer is shown.
"""

from __future__ import annotations

import datetime as dt

from ..core import knowledge
from ..core.records import Case, DecisionPoint, Quote
from .style import esc


def when_text(iso: str, with_time: bool = True) -> str:
    """'2026-11-25T19:51:10Z' -> '25 November 2026 at 19:51 UTC', or '25 November 2026' without the time (the
    text as stored if it is not a time)."""
    try:
        t = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if not with_time:
        return f"{t.day} {t:%B %Y}"
    t = t.astimezone(dt.UTC)
    return f"{t.day} {t:%B %Y} at {t:%H:%M} UTC"


def choice_texts(decision: DecisionPoint, choice) -> list[str]:
    chosen = [choice] if isinstance(choice, str) else list(choice or [])
    out = []
    for c in chosen:
        opt = decision.option(c)
        out.append(opt.text if opt else f"(an option no longer in the course: {c})")
    return out


def review_position(decision: DecisionPoint) -> list[str]:
    """The texts of the options closest to the review's position (DecisionPoint.aligned_options)."""
    return [o.text for o in decision.options if o.id in decision.aligned_options()]


def context_events(case: Case, decision: DecisionPoint):
    """The context events, newest first, keeping only what the role held on the decision's date."""
    if not decision.date:
        return []
    held = {e.id for e in knowledge.held_by(case, decision.role, decision.date)}
    events = [case.event(c) for c in decision.context if c in held]
    return sorted(events, key=lambda e: e.sort_key, reverse=True)


def scenario_html(case: Case, decision: DecisionPoint) -> str:
    parts = ['<section class="course-view" aria-label="The situation">']
    title = "Practice decision" if decision.practice else "Decision"
    parts.append(f"<h3>{title}: you are {esc(decision.role_title)}, {esc(decision.date_text)}</h3>")
    parts.append(f"<p>{esc(decision.scenario)}</p>")
    events = context_events(case, decision)
    if events:
        parts.append(f'<h4>What {esc(decision.role_title)} knew at this point</h4><ul class="course-items">')
        for e in events:
            parts.append(
                f'<li><span class="course-when">{esc(e.date_text)}</span>: <strong>{esc(e.title)}</strong>'
                f'<br>{esc(e.summary)}<br><span class="course-source">Source: {esc(e.source.section)}</span>'
                "</li>"
            )
        parts.append("</ul>")
    parts.append(f"<h4>{esc(decision.question)}</h4></section>")
    return "".join(parts)


def _quote_html(q: Quote) -> str:
    return f'<blockquote><p>“{esc(q.quote)}”</p><span class="course-attrib">{esc(q.attribution)}</span></blockquote>'


def yours_html(decision: DecisionPoint, first: dict, revisions: list[dict], saved: bool) -> str:
    parts = ['<section class="course-view course-yours" aria-label="Your answer">', "<h3>Your answer</h3>"]
    texts = choice_texts(decision, first.get("choice"))
    parts.append("<p><strong>You chose:</strong></p><ul>" + "".join(f"<li>{esc(t)}</li>" for t in texts) + "</ul>")
    parts.append(f"<p><strong>Confidence:</strong> {esc(first.get('confidence'))} out of 5</p>")
    rationale = (first.get("rationale") or "").strip()
    parts.append(f"<p><strong>Your reasons:</strong> {esc(rationale) if rationale else '(none given)'}</p>")
    score = decision.score(first.get("choice"))
    parts.append(
        f"<p><strong>Points:</strong> {score:g} of {decision.max_points}"
        f"{' (practice)' if decision.practice else ''}</p>"
    )
    when = when_text(first.get("submitted_at", ""))
    if saved:
        graded = (
            "In a graded decision this first answer is the one that counts; this practice one carries no marks."
            if decision.practice
            else "This first answer is the one that is graded."
        )
        parts.append(f'<p class="course-note">Recorded {esc(when)}. {graded}</p>')
    else:
        parts.append(f'<p class="course-note">Given {esc(when)}, but not saved (see the message above).</p>')
    if revisions:
        last = revisions[-1]
        parts.append(f"<h4>Your later change{'s' if len(revisions) > 1 else ''} (kept, not graded)</h4>")
        parts.append(
            f"<p>Latest, {esc(when_text(last.get('submitted_at', '')))}: "
            f"{esc('; '.join(choice_texts(decision, last.get('choice'))))} "
            f"(confidence {esc(last.get('confidence'))} out of 5). "
            f"{len(revisions)} change{'s' if len(revisions) != 1 else ''} in all.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def review_html(case: Case, decision: DecisionPoint, choice) -> str:
    chosen = {choice} if isinstance(choice, str) else set(choice or [])
    parts = [
        '<section class="course-view course-review" aria-label="What the review found">',
        "<h3>What the review found</h3>",
        f"<p>{esc(decision.review.summary)}</p>",
    ]
    parts += [_quote_html(q) for q in decision.review.quotes]
    if decision.review.themes:
        titles = [case.theme(t).title for t in decision.review.themes]
        parts.append("<p><strong>Themes:</strong> " + esc("; ".join(titles)) + "</p>")
    parts.append('<h4>The options, against the review\'s position</h4><ul class="course-items">')
    for o in decision.options:
        mark = " <strong>(your choice)</strong>" if o.id in chosen else ""
        parts.append(f"<li><strong>{esc(o.text)}</strong>{mark}<br>{esc(o.feedback)}</li>")
    parts.append("</ul>")
    if decision.went_well:
        parts.append('<h4>What went well</h4><ul class="course-items">')
        for w in decision.went_well:
            parts.append(f"<li>{esc(w.text)}{_quote_html(w.quote) if w.quote else ''}</li>")
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


def learning_together_html(decision: DecisionPoint) -> str:
    lt = decision.learning_together
    if lt is None:
        return ""
    return (
        '<section class="course-view" aria-label="Questions to think about">'
        "<h4>Questions to think about (Learning Together)</h4><ul>"
        f"<li>{esc(lt.front_of_mind)}</li><li>{esc(lt.would_have_helped)}</li></ul></section>"
    )


def review_markdown(decision, recorded: dict | None, note: str) -> str:
    lines = [f"#### What the review found: {decision.question}", ""]
    first = (recorded or {}).get("first") if isinstance(recorded, dict) else None
    if isinstance(first, dict):
        choice = first.get("choice")
        chosen = [choice] if isinstance(choice, str) else list(choice or [])
        for cid in chosen:
            opt = decision.option(str(cid))
            if opt is not None:
                lines.append(f"- You chose **{opt.text}**. {opt.feedback}")
    else:
        lines.append(f"- {note or 'You did not record an answer to this decision.'}")
    lines += ["", decision.review.summary, ""]
    for q in decision.review.quotes:
        lines += [f"> \u201c{q.quote}\u201d", ">", f"> \u2014 {q.attribution}", ""]
    return "\n".join(lines).rstrip() + "\n"
