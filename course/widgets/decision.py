"""The decision-point widget: the situation as the role held it, a question, how confident the trainee is, and
reasons.

Submitting records the answer in the answer store and only then builds the review's analysis beside it:
before that, nothing the review found is anywhere in the widget tree. The first answer is the graded
one; later changes are kept as revisions.
"""

from __future__ import annotations

import ipywidgets as widgets

from ..core.records import Case
from ..render.decision import learning_together_html, option_order, review_html, scenario_html, yours_html
from ..render.style import esc, problem_html, status_html
from ..store import AnswerStore, Recorded
from .settle import SettledClick
from .shared import make, shared_layout, style_carrier

SUBMIT_FIRST = "Submit my answer"
SUBMIT_CHANGE = "Record a change (kept, not graded)"
# No default: a trainee who never touches it must not be recorded as "3" (the room report counts confidence).
NOT_CHOSEN = 0
CONFIDENCE = (
    ("Choose 1 to 5", NOT_CHOSEN),
    ("1 (not at all sure)", 1),
    ("2", 2),
    ("3", 3),
    ("4", 4),
    ("5 (very sure)", 5),
)
NO_REASONS = (
    "You have not written your reasons. They are what you will compare with the review, and what your trainer "
    "reads. Write them now, or press Submit again to submit without them."
)


def _same_answer(recorded: dict, choice, rationale: str, confidence: int) -> bool:
    def chosen(c):
        return sorted(c) if isinstance(c, list) else c

    return (
        chosen(recorded.get("choice")) == chosen(choice)
        and (recorded.get("rationale") or "") == rationale
        and recorded.get("confidence") == confidence
    )


class DecisionView(widgets.VBox):
    """The decision-point widget: form first, the review's analysis only after Submit."""

    def __init__(self, case: Case, decision_id: str, store: AnswerStore, on_recorded=None):
        self.case = case
        self.on_recorded = on_recorded  # called after an answer is recorded (the module moves its time fence)
        self.decision = case.decision(decision_id)
        self.store = store
        d = self.decision
        history = self._history()  # reading the answers file first: reading it may raise a notice
        notices = self._notices_html()
        # Only what has something to show is built: each widget is a model and a view for the browser to build
        # on Run All. The notice area exists when there is a notice as the decision is first shown.
        self.notices = make(widgets.HTML, notices) if notices else None
        self.scenario = make(widgets.HTML, scenario_html(case, d))
        # In an order of this trainee's own (stable across restarts), so that position gives nothing away.
        self.options = option_order(d, store.path.parent)
        if d.multiple:
            self.checkboxes = [
                make(widgets.Checkbox, value=False, description=o.text, indent=False, layout=dict(width="auto"))
                for o in self.options
            ]
            self.choice = make(widgets.VBox, self.checkboxes)
        else:
            self.checkboxes = []
            self.choice = make(
                widgets.RadioButtons,
                options=[(o.text, o.id) for o in self.options],
                value=None,
                description="Your choice",
                layout=dict(width="auto"),
                style={"description_width": "initial"},
            )
        # A labelled drop-down, not a slider: a slider's handle has no accessible name in ipywidgets (see
        # docs/accessibility.md), and each slider makes the browser lay the page out again when it is drawn.
        self.confidence = make(
            widgets.Dropdown,
            options=CONFIDENCE,
            value=NOT_CHOSEN,
            description="How confident are you that this is the right thing to do?",
            style={"description_width": "initial"},
            layout=dict(width="auto"),
        )
        self.prompt = make(widgets.HTML, f'<p class="course-view"><label>{esc(d.rationale_prompt)}</label></p>')
        self.rationale = make(
            widgets.Textarea,
            description="Your reasons",
            placeholder=d.rationale_prompt,
            style={"description_width": "initial"},
            layout=dict(width="95%", height="7em"),
        )
        self.submit = make(
            widgets.Button,
            description=SUBMIT_FIRST,
            button_style="primary",
            layout=dict(width="auto"),
            tooltip="Records your answer, then shows what the review found",
        )
        self.status = make(widgets.HTML)  # a live region: present from the start, so its changes are announced
        self._reveal: widgets.VBox | None = None  # built with the review's analysis
        self._asked_for_reasons = False  # a submit without reasons asks once whether to go on
        # Submit acts once the page has sent its last changes (course/widgets/settle.py says why).
        self._settled_submit = SettledClick(self._submit_now)
        self.submit.on_click(self._on_submit)
        self._form = [
            self.scenario,
            self.choice,
            self.confidence,
            self.prompt,
            self.rationale,
            self.submit,
            self.status,
        ]
        super().__init__(self._children(), layout=shared_layout())
        self.add_class("course-decision")  # lets the shared style wrap long option texts
        self._restore(history)
        self._settled_submit.watch(
            *self.checkboxes, *([] if d.multiple else [self.choice]), self.confidence, self.rationale
        )

    def _children(self) -> list[widgets.Widget]:
        """The analysis is appended at the end when it is built, so the views before it (and the keyboard
        focus on Submit) are left as they are."""
        return [
            style_carrier(),
            *([self.notices] if self.notices is not None else []),
            *self._form,
            *([self._reveal] if self._reveal is not None else []),
        ]

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
            ticked = {o.id for o, cb in zip(self.options, self.checkboxes, strict=True) if cb.value}
            return [o.id for o in self.decision.options if o.id in ticked]  # stored in the pack's order
        return self.choice.value

    def set_selected(self, choice) -> None:
        if self.decision.multiple:
            chosen = {choice} if isinstance(choice, str) else set(choice or [])
            for o, cb in zip(self.options, self.checkboxes, strict=True):
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
        """Submit, once the page has sent its last changes: ipywidgets can deliver the click before the last keys
        typed, and a first answer cannot be taken back. Outside a kernel it is recorded at once."""
        return self._settled_submit.click()

    def _submit_now(self) -> Recorded | None:
        choice = self.selected()
        if not choice:
            self._set_status(
                status_html(
                    "Choose "
                    + ("at least one option" if self.decision.multiple else "an option")
                    + " before submitting."
                )
            )
            return None
        if self.confidence.value == NOT_CHOSEN:
            self._set_status(status_html("Say how sure you are (1 to 5) before submitting."))
            return None
        if not self.rationale.value.strip() and not self._asked_for_reasons:
            self._asked_for_reasons = True
            self._set_status(status_html(NO_REASONS))
            return None
        first, revisions, _ = self._history()
        latest = revisions[-1] if revisions else first
        if latest is not None and _same_answer(latest, choice, self.rationale.value, self.confidence.value):
            # A double click or Enter pressed twice: nothing new to record.
            self._set_status(status_html("Your answer is already recorded; change it first to record a change."))
            return None
        self.submit.disabled = True
        try:
            result = self.store.record(self.decision.id, choice, self.rationale.value, int(self.confidence.value))
        finally:
            self.submit.disabled = False
        self._asked_for_reasons = False
        if not result.saved:
            self._set_status(problem_html(result.message))
        elif result.kind == "first" and self.decision.practice:
            self._set_status(
                status_html(
                    "Your answer has been recorded. This practice one carries no marks; "
                    "the review's analysis is now shown below."
                )
            )
        elif result.kind == "first":
            self._set_status(
                status_html(
                    "Your answer has been recorded. It is the one that is graded. "
                    "The review's analysis is now shown below."
                )
            )
        else:
            self._set_status(
                status_html(
                    "Your change has been kept as a revision. Your first answer is still the one that is graded."
                )
            )
        self._show_reveal()
        if self.on_recorded is not None:
            self.on_recorded()
        return result

    def _show_reveal(self) -> None:
        first, revisions, saved = self._history()
        if first is None:
            return
        d = self.decision
        box = dict(flex="1 1 22rem", min_width="18rem", margin="0 0.5rem 0.5rem 0")
        yours = make(widgets.HTML, yours_html(d, first, revisions, saved), layout=box)
        review = make(widgets.HTML, review_html(self.case, d, first), layout=box)
        side_by_side = make(widgets.HBox, [yours, review], layout=dict(flex_flow="row wrap", width="100%"))
        lt = learning_together_html(d)
        new = self._reveal is None
        self.reveal.children = [side_by_side] + ([make(widgets.HTML, lt)] if lt else [])
        if new:
            self.children = self._children()
        self.submit.description = SUBMIT_CHANGE
        self.submit.tooltip = "Keeps a new version of your answer; your first answer stays the graded one"
