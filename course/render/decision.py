"""A decision point as text: the situation as the role held it, the trainee's answer, and the review's analysis
(HTML for the widget, Markdown for feedback), with the plain phrases used wherever an answer is shown.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib

from ..core import dates, knowledge
from ..core.records import Case, DecisionPoint, Option, Quote
from .style import esc


def when_text(iso: str, with_time: bool = True) -> str:
    """'2026-11-25T19:51:10Z' -> '25 November 2026 at 19:51 GMT' in local time, or '25 November 2026' without the
    time (the text as stored if it is not a time)."""
    try:
        t = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if not with_time:
        return f"{t.day} {t:%B %Y}"
    t = t.astimezone()  # the trainee's own clock (their computer's, or the server's time zone)
    return f"{t.day} {t:%B %Y} at {t:%H:%M} {t.tzname() or ''}".rstrip()


def option_order(decision: DecisionPoint, where: object) -> list[Option]:
    """The decision's options in an order fixed for one trainee: shuffled by a seed made from who they are (the
    system user) and where their answers live, so a restart or a rebuilt page shows the same order, another
    trainee sees another, and nothing about an option's place says how it scores. Grading is by option id."""
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no user name to be had (a container's anonymous uid): the folder still differs
        who = ""
    seed = hashlib.sha256(f"{who}|{where}|{decision.id}".encode()).digest()
    return sorted(decision.options, key=lambda o: hashlib.sha256(seed + o.id.encode()).digest())


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
    # The notebook's own heading names the decision point; here, one line says who and when (no second heading).
    when = decision.date_text if decision.practice else dates.with_year(decision.date_text, decision.date)
    parts.append(f'<p class="course-role"><strong>You are {esc(decision.role_title)}</strong>, {esc(when)}.</p>')
    parts.append(f"<p>{esc(decision.scenario)}</p>")
    events = context_events(case, decision)
    if events:
        parts.append(f'<h4>What {esc(decision.role_title)} knew at this point</h4><ul class="course-items">')
        for e in events:
            parts.append(
                f'<li><span class="course-when">{esc(dates.with_year(e.date_text, e.date))}</span>: <strong>{esc(e.title)}</strong>'
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


def _points(n: int) -> str:
    return f"{n:+d} point{'s' if abs(n) != 1 else ''}" if n < 0 else f"{n} point{'s' if n != 1 else ''}"


def confidence_note(decision: DecisionPoint, first: dict) -> str:
    """What the trainee's own confidence says beside how close their answer is to the review's position."""
    confidence = first.get("confidence")
    if not isinstance(confidence, int) or isinstance(confidence, bool):
        return ""
    fraction = decision.score(first.get("choice")) / decision.max_points if decision.max_points else 0.0
    if confidence >= 4 and fraction >= 0.75:
        return (
            "You were confident, and your answer is close to the review's position. Check that your reasons "
            "match the review's, not only your choice."
        )
    if confidence >= 4 and fraction < 0.5:
        return (
            "You were confident, and your answer is some way from the review's position. That is worth "
            "pausing on rather than a failure: the professionals at the time were often confident too. What "
            "made your choice feel right, and what would have shown you otherwise?"
        )
    if confidence <= 2 and fraction >= 0.75:
        return (
            "You were unsure, and your answer is close to the review's position. Notice what you knew that "
            "you did not trust: in practice, that doubt is a reason to act and to ask, not to wait."
        )
    if confidence <= 2:
        return (
            "You were unsure. In practice, being unsure is itself a reason to talk to your safeguarding lead "
            "and to check what other agencies hold."
        )
    return "You were in two minds. Compare your reasons with the review's below: which of them would you keep?"


def review_html(case: Case, decision: DecisionPoint, first: dict) -> str:
    """Everything revealed after Submit, beside the trainee's answer: what happened, the option the review
    supports and what each option scored, why (with the systems factors), what the trainee's confidence
    says, and good practice now in the course's own voice, kept apart from the case."""
    choice = first.get("choice")
    chosen = {choice} if isinstance(choice, str) else set(choice or [])
    supported = [o for o in decision.options if o.id in decision.aligned_options()]
    parts = ['<section class="course-view course-review" aria-label="What the review found">']
    if decision.outcome:
        parts.append(f"<h3>What happened</h3><p>{esc(decision.outcome)}</p>")
    parts.append("<h3>What the review found</h3>")
    label = "The options the review supports" if len(supported) > 1 else "The option the review supports"
    parts.append(
        f"<p><strong>{label}:</strong></p><ul>" + "".join(f"<li>{esc(o.text)}</li>" for o in supported) + "</ul>"
    )
    parts.append(f"<p>{esc(decision.review.summary)}</p>")
    parts += [_quote_html(q) for q in decision.review.quotes]
    if decision.review.themes:
        titles = [case.theme(t).title for t in decision.review.themes]
        parts.append("<p><strong>Systems factors (themes):</strong> " + esc("; ".join(titles)) + "</p>")
    how = " (each ticked option adds or takes away its points)" if decision.multiple else ""
    parts.append(f'<h4>Every option, and what it scored{esc(how)}</h4><ul class="course-items">')
    for o in decision.options:
        mark = " <strong>(your choice)</strong>" if o.id in chosen else ""
        parts.append(f"<li><strong>{esc(o.text)}</strong>{mark} — {esc(_points(o.points))}<br>{esc(o.feedback)}</li>")
    parts.append("</ul>")
    note = confidence_note(decision, first)
    if note:
        parts.append(f"<h4>Your confidence</h4><p>{esc(note)}</p>")
    if decision.went_well:
        parts.append('<h4>What went well</h4><ul class="course-items">')
        for w in decision.went_well:
            parts.append(f"<li>{esc(w.text)}{_quote_html(w.quote) if w.quote else ''}</li>")
        parts.append("</ul>")
    parts.append("</section>")
    if decision.practice_now:
        parts.append(
            '<section class="course-view course-practice" aria-label="Good practice now">'
            "<h3>Good practice now</h3>"
            '<p class="course-note">The course\'s own guidance, not a finding of the review or a fact about the '
            f"case.</p><p>{esc(decision.practice_now)}</p></section>"
        )
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


def review_markdown(decision: DecisionPoint, recorded: dict | None, note: str) -> str:
    """The review's analysis under a decision in a trainee's feedback: their choice, the option the review
    supports, what every option scored, and the review's words."""
    lines = [f"#### What the review found: {decision.question}", ""]
    first = (recorded or {}).get("first") if isinstance(recorded, dict) else None
    chosen: list[str] = []
    if isinstance(first, dict):
        choice = first.get("choice")
        chosen = [choice] if isinstance(choice, str) else [c for c in (choice or []) if isinstance(c, str)]
        for cid in chosen:
            opt = decision.option(cid)
            if opt is not None:
                lines.append(f"- You chose **{opt.text}** ({_points(opt.points)}). {opt.feedback}")
    else:
        lines.append(f"- {note or 'You did not record an answer to this decision.'}")
    supported = [o.text for o in decision.options if o.id in decision.aligned_options()]
    lines += ["", "**The review supports:** " + "; ".join(supported), ""]
    if decision.outcome:
        lines += [f"**What happened:** {decision.outcome}", ""]
    lines += [decision.review.summary, ""]
    for q in decision.review.quotes:
        lines += [f"> \u201c{q.quote}\u201d", ">", f"> \u2014 {q.attribution}", ""]
    lines += ["**Every option and its points:**", ""]
    lines += [
        f"- {o.text}: {_points(o.points)}" + (" (your choice)" if o.id in chosen else "") for o in decision.options
    ]
    if decision.practice_now:
        lines += [
            "",
            f"**Good practice now** (the course's own guidance, not a finding of the review): {decision.practice_now}",
        ]
    return "\n".join(lines).rstrip() + "\n"
