"""A decision point: the situation as the role held it, a question, how confident the trainee is, and reasons.

Submitting records the answer in the answer store and only then builds the review's analysis beside it:
before that, nothing the review found is anywhere in the widget tree. The first answer is the graded
one; later changes are kept as revisions.
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as widgets

from .. import knowledge
from ..answers import AnswerStore, Recorded
from ..case import Case, DecisionPoint, Quote
from .a11y import esc, problem_html, status_html
from .shared import make, shared_layout, style_carrier

SUBMIT_FIRST = "Submit my answer"
SUBMIT_CHANGE = "Record a change (kept, not graded)"
CONFIDENCE = (("1 (not at all)", 1), ("2", 2), ("3", 3), ("4", 4), ("5 (very)", 5))


def when_text(iso: str) -> str:
    """'2026-11-25T19:51:10Z' -> '25 November 2026 at 19:51 UTC' (the text as stored if it is not a time)."""
    try:
        t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(dt.UTC)
    except (ValueError, AttributeError):
        return str(iso)
    return f"{t.day} {t:%B %Y} at {t:%H:%M} UTC"


def choice_texts(decision: DecisionPoint, choice) -> list[str]:
    chosen = [choice] if isinstance(choice, str) else list(choice or [])
    out = []
    for c in chosen:
        opt = decision.option(c)
        out.append(opt.text if opt else f"(an option no longer in the course: {c})")
    return out


def review_position(decision: DecisionPoint) -> list[str]:
    """The options closest to the review's position: the best one, or for multiple choice every positive one."""
    if decision.multiple:
        return [o.text for o in decision.options if o.points > 0]
    best = max(o.points for o in decision.options)
    return [o.text for o in decision.options if o.points == best]


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
        parts.append(f"<h4>What {esc(decision.role_title)} knew at this point</h4><ul class=\"course-items\">")
        for e in events:
            parts.append(f'<li><span class="course-when">{esc(e.date_text)}</span>: <strong>{esc(e.title)}</strong>'
                         f'<br>{esc(e.summary)}<br><span class="course-source">Source: {esc(e.source.section)}</span>'
                         "</li>")
        parts.append("</ul>")
    parts.append(f"<h4>{esc(decision.question)}</h4></section>")
    return "".join(parts)


def _quote_html(q: Quote) -> str:
    return (f"<blockquote><p>“{esc(q.quote)}”</p>"
            f'<span class="course-attrib">{esc(q.attribution)}</span></blockquote>')


def yours_html(decision: DecisionPoint, first: dict, revisions: list[dict], saved: bool) -> str:
    parts = ['<section class="course-view course-yours" aria-label="Your answer">', "<h3>Your answer</h3>"]
    texts = choice_texts(decision, first.get("choice"))
    parts.append("<p><strong>You chose:</strong></p><ul>" + "".join(f"<li>{esc(t)}</li>" for t in texts) + "</ul>")
    parts.append(f"<p><strong>Confidence:</strong> {esc(first.get('confidence'))} out of 5</p>")
    rationale = (first.get("rationale") or "").strip()
    parts.append(f"<p><strong>Your reasons:</strong> {esc(rationale) if rationale else '(none given)'}</p>")
    score = decision.score(first.get("choice"))
    parts.append(f"<p><strong>Points:</strong> {score:g} of {decision.max_points}"
                 f"{' (practice)' if decision.practice else ''}</p>")
    when = when_text(first.get("submitted_at", ""))
    if saved:
        graded = ("In a graded decision this first answer is the one that counts; this practice one carries no marks."
                  if decision.practice else "This first answer is the one that is graded.")
        parts.append(f'<p class="course-note">Recorded {esc(when)}. {graded}</p>')
    else:
        parts.append(f'<p class="course-note">Given {esc(when)}, but not saved (see the message above).</p>')
    if revisions:
        last = revisions[-1]
        parts.append(f"<h4>Your later change{'s' if len(revisions) > 1 else ''} (kept, not graded)</h4>")
        parts.append(f"<p>Latest, {esc(when_text(last.get('submitted_at', '')))}: "
                     f"{esc('; '.join(choice_texts(decision, last.get('choice'))))} "
                     f"(confidence {esc(last.get('confidence'))} out of 5). "
                     f"{len(revisions)} change{'s' if len(revisions) != 1 else ''} in all.</p>")
    parts.append("</section>")
    return "".join(parts)


def review_html(case: Case, decision: DecisionPoint, choice) -> str:
    chosen = {choice} if isinstance(choice, str) else set(choice or [])
    parts = ['<section class="course-view course-review" aria-label="What the review found">',
             "<h3>What the review found</h3>", f"<p>{esc(decision.review.summary)}</p>"]
    parts += [_quote_html(q) for q in decision.review.quotes]
    if decision.review.themes:
        titles = [case.theme(t).title for t in decision.review.themes]
        parts.append("<p><strong>Themes:</strong> " + esc("; ".join(titles)) + "</p>")
    parts.append("<h4>The options, against the review's position</h4><ul class=\"course-items\">")
    for o in decision.options:
        mark = " <strong>(your choice)</strong>" if o.id in chosen else ""
        parts.append(f"<li><strong>{esc(o.text)}</strong>{mark}<br>{esc(o.feedback)}</li>")
    parts.append("</ul>")
    if decision.went_well:
        parts.append("<h4>What went well</h4><ul class=\"course-items\">")
        for w in decision.went_well:
            parts.append(f"<li>{esc(w.text)}{_quote_html(w.quote) if w.quote else ''}</li>")
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


def learning_together_html(decision: DecisionPoint) -> str:
    lt = decision.learning_together
    if lt is None:
        return ""
    return ('<section class="course-view" aria-label="Questions to think about">'
            "<h4>Questions to think about (Learning Together)</h4><ul>"
            f"<li>{esc(lt.front_of_mind)}</li><li>{esc(lt.would_have_helped)}</li></ul></section>")


class DecisionView(widgets.VBox):
    """The decision-point widget: form first, the review's analysis only after Submit."""

    def __init__(self, case: Case, decision_id: str, store: AnswerStore):
        self.case = case
        self.decision = case.decision(decision_id)
        self.store = store
        d = self.decision
        history = self._history()  # reading the answers file first: reading it may raise a notice
        notices = self._notices_html()
        # Only what has something to show is built: each widget is a model and a view for the browser to build
        # on Run All. The notice area exists when there is a notice as the decision is first shown.
        self.notices = make(widgets.HTML, notices) if notices else None
        self.scenario = make(widgets.HTML, scenario_html(case, d))
        if d.multiple:
            self.checkboxes = [make(widgets.Checkbox, value=False, description=o.text, indent=False,
                                                  layout=dict(width="auto")) for o in d.options]
            self.choice = make(widgets.VBox, self.checkboxes)
        else:
            self.checkboxes = []
            self.choice = make(widgets.RadioButtons, options=[(o.text, o.id) for o in d.options], value=None,
                               description="Your choice", layout=dict(width="auto"),
                               style={"description_width": "initial"})
        # A labelled drop-down, not a slider: a slider's handle has no accessible name in ipywidgets (see
        # docs/accessibility.md), and each slider makes the browser lay the page out again when it is drawn.
        self.confidence = make(
            widgets.Dropdown, options=CONFIDENCE, value=3, description="How confident are you?",
            style={"description_width": "initial"}, layout=dict(width="auto"),
        )
        self.prompt = make(widgets.HTML, f'<p class="course-view"><label>{esc(d.rationale_prompt)}</label></p>')
        self.rationale = make(
            widgets.Textarea, description="Your reasons", placeholder=d.rationale_prompt, style={"description_width": "initial"},
            layout=dict(width="95%", height="7em"),
        )
        self.submit = make(
            widgets.Button, description=SUBMIT_FIRST, button_style="primary", layout=dict(width="auto"),
            tooltip="Records your answer, then shows what the review found",
        )
        self.status = make(widgets.HTML)  # a live region: present from the start, so its changes are announced
        self._reveal: widgets.VBox | None = None  # built with the review's analysis
        self.submit.on_click(self._on_submit)
        self._form = [self.scenario, self.choice, self.confidence, self.prompt, self.rationale, self.submit, self.status]
        super().__init__(self._children(), layout=shared_layout())
        self.add_class("course-decision")  # lets the shared style wrap long option texts
        self._restore(history)

    def _children(self) -> list[widgets.Widget]:
        """The analysis is appended at the end when it is built, so the views before it (and the keyboard
        focus on Submit) are left as they are."""
        return [style_carrier(), *([self.notices] if self.notices is not None else []), *self._form,
                *([self._reveal] if self._reveal is not None else [])]

    @property
    def reveal(self) -> widgets.VBox:
        """The review's analysis beside the trainee's answer (empty until the first answer is recorded)."""
        if self._reveal is None:
            self._reveal = make(widgets.VBox)
        return self._reveal

    def __repr__(self) -> str:
        return f"Decision point {self.decision.id} (interactive: open this notebook in JupyterLab to answer it)"

    # ------------------------------------------------------------ form values

    def selected(self):
        if self.decision.multiple:
            return [o.id for o, cb in zip(self.decision.options, self.checkboxes, strict=True) if cb.value]
        return self.choice.value

    def set_selected(self, choice) -> None:
        if self.decision.multiple:
            chosen = {choice} if isinstance(choice, str) else set(choice or [])
            for o, cb in zip(self.decision.options, self.checkboxes, strict=True):
                cb.value = o.id in chosen
        elif isinstance(choice, str) and self.decision.option(choice) is not None:
            self.choice.value = choice

    @property
    def revealed(self) -> bool:
        return self._reveal is not None and bool(self._reveal.children)

    # ------------------------------------------------------------ behaviour

    def _notices_html(self) -> str:
        notes = list(self.store.notices)
        reason = self.store.read_only_reason
        if reason:
            notes.insert(0, f"Answers are not saved in this run: {reason}.")
        return "".join(problem_html(n) for n in notes)

    def _set_status(self, html: str) -> None:
        """The status line. A notice that arose after the decision was first shown goes with it, not into a
        new area at the top (inserting one there would rebuild every view below it and lose the focus)."""
        notices = self._notices_html()
        if self.notices is not None:
            self.notices.value = notices
            notices = ""
        self.status.value = notices + html

    def _history(self) -> tuple[dict | None, list[dict], bool]:
        """(first answer, later changes, whether the first is saved): the file, then this session's unsaved."""
        answers = self.store.load()
        first = answers.first(self.decision.id)
        revisions = answers.revisions(self.decision.id)
        unsaved = self.store.unsaved.get(self.decision.id, [])
        saved = first is not None
        if first is None and unsaved:
            first, unsaved = unsaved[0], unsaved[1:]
        return first, revisions + list(unsaved), saved

    def _restore(self, history) -> None:
        first, revisions, _ = history
        if first is not None:
            latest = revisions[-1] if revisions else first
            self.set_selected(latest.get("choice"))
            conf = latest.get("confidence")
            if isinstance(conf, int) and 1 <= conf <= 5:
                self.confidence.value = conf
            self.rationale.value = latest.get("rationale") or ""
            self._show_reveal()

    def _on_submit(self, _button=None) -> Recorded | None:
        choice = self.selected()
        if not choice:
            self._set_status(status_html(
                "Choose " + ("at least one option" if self.decision.multiple else "an option") + " before submitting."))
            return None
        self.submit.disabled = True
        try:
            result = self.store.record(self.decision.id, choice, self.rationale.value, int(self.confidence.value))
        finally:
            self.submit.disabled = False
        if not result.saved:
            self._set_status(problem_html(result.message))
        elif result.kind == "first" and self.decision.practice:
            self._set_status(status_html("Your answer has been recorded. This practice one carries no marks; "
                                         "the review's analysis is now shown below."))
        elif result.kind == "first":
            self._set_status(status_html("Your answer has been recorded. It is the one that is graded. "
                                         "The review's analysis is now shown below."))
        else:
            self._set_status(status_html("Your change has been kept as a revision. Your first answer is still "
                                         "the one that is graded."))
        self._show_reveal()
        return result

    def click_submit(self) -> Recorded | None:
        """Submit as if the button were pressed (for tests and scripted runs)."""
        return self._on_submit()

    def _show_reveal(self) -> None:
        first, revisions, saved = self._history()
        if first is None:
            return
        d = self.decision
        box = dict(flex="1 1 22rem", min_width="18rem", margin="0 0.5rem 0.5rem 0")
        yours = make(widgets.HTML, yours_html(d, first, revisions, saved), layout=box)
        review = make(widgets.HTML, review_html(self.case, d, first.get("choice")), layout=box)
        side_by_side = make(widgets.HBox, [yours, review], layout=dict(flex_flow="row wrap", width="100%"))
        lt = learning_together_html(d)
        new = self._reveal is None
        self.reveal.children = [side_by_side] + ([make(widgets.HTML, lt)] if lt else [])
        if new:
            self.children = self._children()
        self.submit.description = SUBMIT_CHANGE
        self.submit.tooltip = "Keeps a new version of your answer; your first answer stays the graded one"
