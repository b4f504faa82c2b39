"""The facade module notebooks call: `m = open_module("m02-fracture")`, then m.lens(), m.decision("d-x"), ...

It loads the case, finds the answer store beside the notebook (the kernel's working folder) and hands out
the views. Graded cells call `recorded` and `score`, which only read the answers file and never raise.
"""

from __future__ import annotations

import os
from pathlib import Path

import ipywidgets as widgets

from .core.answers import AnswersError, read_answers
from .core.cached import load_case_cached
from .core.contract import writes_disabled_reason
from .core.records import Case
from .render.decision import choice_texts, when_text
from .render.home import ModuleProgress, home_html
from .render.lens import fence_day, fenced_stops, slider_stops
from .render.module import intro_html
from .render.style import esc
from .render.summary import key_points_html
from .store import AnswerStore
from .widgets.decision import DecisionView
from .widgets.lens import Lens
from .widgets.linking import link_dates, link_views
from .widgets.reflection import ReflectionBox
from .widgets.submit import SubmitView
from .widgets.summary import Summary
from .widgets.timeline import Timeline


class Html:
    """Static HTML that renders the same in JupyterLab, Voila, nbconvert and nbgrader feedback."""

    def __init__(self, html: str, text: str):
        self.html = html
        self.text = text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def _note_html(text: str) -> str:
    return f'<pre class="course-view course-recorded" role="status">{esc(text)}</pre>'


class ModuleSession:
    """One module's views over one case and one answers file."""

    def __init__(self, case: Case, module_id: str, store: AnswerStore):
        self.case = case
        try:
            self.module = case.module(module_id)
        except KeyError:
            known = ", ".join(m.id for m in case.modules)
            raise ValueError(f"There is no module {module_id!r} in this course (modules: {known}).") from None
        self.store = store
        self.stops = slider_stops(case, self.module)
        self._lens: Lens | None = None
        self._timeline: Timeline | None = None
        self._notes: dict[str, widgets.HTML] = {}
        self._link: widgets.link | None = None  # one date for the lens and the timeline
        self._key_points: widgets.HTML | None = None
        self._summary: Summary | None = None
        self._reflection: ReflectionBox | None = None
        self._shown: list[
            str
        ] = []  # decisions in the order the page shows them  # what was recorded, under each decision
        self.store.touch_activity(module_id)

    def __repr__(self) -> str:
        return f"Module {self.module.id}: {self.module.title}"

    # ------------------------------------------------------------ static parts

    def intro(self) -> Html:
        m = self.module
        text = "\n".join(
            [
                m.title,
                m.summary,
                f"Period: {m.period_text}. Time: about {m.minutes} minutes.",
                "By the end you will be able to:",
                *(f"- {o}" for o in m.objectives),
            ]
        )
        return Html(intro_html(self.case, m), text)

    def key_points(self) -> widgets.HTML:
        """The module's key points, once every decision of the module is answered (they tell how it ended)."""
        if self._key_points is None or getattr(self._key_points, "comm", None) is None:
            self._key_points = widgets.HTML()
        self._key_points.value = key_points_html(self.case, self.module.id, ready=not self._waiting())
        return self._key_points

    # ------------------------------------------------------------ interactive views

    def _answered(self) -> set[str]:
        answers, _ = self._answers_or_problem()
        done = set(answers) if answers is not None else set()
        return done | {d for d, unsaved in self.store.unsaved.items() if unsaved}

    def fence(self):
        """(day, partial date) of the first decision not yet answered, or None: no view goes past it."""
        return fence_day(self.case, self.module, self._answered())

    def lens(self, agency: str | None = None) -> Lens:
        fence = self.fence()
        self._lens = Lens(self.case, self.module, agency=agency, stops=fenced_stops(self.stops, fence))
        self._lens.allow_hindsight(fence is None and not self._waiting())
        self._connect()
        return self._lens

    def timeline(self) -> Timeline:
        highlight = self._lens.agency.value if self._lens is not None else None
        fence = self.fence()
        self._timeline = Timeline(
            self.case,
            self.module,
            stops=fenced_stops(self.stops, fence),
            highlight=highlight,
            until=fence[0] if fence else None,
        )
        self._timeline.allow_hindsight(fence is None and not self._waiting())
        self._connect()
        return self._timeline

    def _waiting(self) -> bool:
        """Whether some decision of the module (practice ones included) is still unanswered."""
        answered = self._answered()
        return any(d.id not in answered for d in self.case.decisions_in(self.module.id))

    def _move_fence(self) -> None:
        """After an answer: the views may now go as far as the next unanswered decision."""
        fence = self.fence()
        stops = fenced_stops(self.stops, fence)
        allowed = fence is None and not self._waiting()
        link, self._link = self._link, None
        if link is not None:  # both sliders change their stops: linked, each would set the other to a stop it lacks
            link.unlink()
        if self._lens is not None:
            self._lens.set_stops(stops)
            self._lens.allow_hindsight(allowed)
        if self._timeline is not None:
            self._timeline.set_fence(stops, fence[0] if fence else None)
            self._timeline.allow_hindsight(allowed)
        if link is not None and self._lens is not None and self._timeline is not None:
            self._link = link_dates(self._lens, self._timeline)

    def _connect(self) -> None:
        """One date for both views, and the lens agency highlighted in the timeline (course.widgets.linking)."""
        if self._lens is None or self._timeline is None:
            return
        self._link = link_views(self._lens, self._timeline)

    def decision(self, decision_id: str) -> DecisionView:
        self._decision_point(decision_id)
        if decision_id not in self._shown:
            self._shown.append(decision_id)
        return DecisionView(self.case, decision_id, self.store, on_recorded=self._after_answer)

    def reflection(self) -> ReflectionBox:
        """The box the trainee writes the module's reflection in (kept in answers.json as they type)."""
        self._reflection = ReflectionBox(self.module.id, self.store)
        return self._reflection

    def submit(self) -> SubmitView:
        """Submit the module to the trainer (the shared server), or say where the work is kept (a computer)."""
        view = SubmitView(self.module.id, self.store.path.parent, before_submit=self._save_reflection)
        if view.button is not None and self._reflection is not None:
            view.settled.watch(self._reflection.text)  # the reflection's last keys reach the kernel first
        return view

    def _save_reflection(self) -> None:
        if self._reflection is not None:
            self._reflection.flush()

    def summary(self) -> Summary:
        self._summary = Summary(self.case, self.module.id, self._answers_or_problem, order=self._shown)
        return self._summary

    # ------------------------------------------------------------ graded cells (read only)

    def _decision_point(self, decision_id: str):
        ids = [d.id for d in self.case.decisions_in(self.module.id)]
        if decision_id not in ids:
            raise ValueError(
                f"There is no decision {decision_id!r} in module {self.module.id} "
                f"(its decisions: {', '.join(ids) or 'none'})."
            )
        return self.case.decision(decision_id)

    def _answers_or_problem(self):
        try:
            return read_answers(self.store.path, self.case), None
        except AnswersError as e:
            if not self.store.path.exists():
                return None, None  # nothing answered yet is not a problem
            return None, str(e)

    def recorded_text(self, decision_id: str) -> str:
        """In plain words, what was recorded for a decision and when."""
        d = self._decision_point(decision_id)
        answers, problem = self._answers_or_problem()
        first = answers.first(decision_id) if answers is not None else None
        lines = [f"Decision: {d.question}"]
        if first is None or answers is None:
            if problem:
                lines.append(problem)
            if self.store.unsaved.get(decision_id):
                lines.append("Your answer is shown above but could not be saved, so it cannot be graded.")
            else:
                lines.append(
                    "No answer recorded for this decision yet. Go to the decision above, choose your "
                    "answer and press Submit."
                )
            return "\n".join(lines)
        lines.append(f"Your graded answer (your first), recorded {when_text(first.get('submitted_at', ''))}:")
        lines += [f"  - {t}" for t in choice_texts(d, first.get("choice"))]
        lines.append(f"Confidence: {first.get('confidence')} out of 5")
        rationale = (first.get("rationale") or "").strip()
        lines.append(f"Your reasons: {rationale or '(none given)'}")
        changes = answers.revisions(decision_id)
        if changes:
            lines.append(
                f"You changed your answer {len(changes)} time{'s' if len(changes) != 1 else ''} afterwards; "
                "changes are kept but not graded."
            )
        return "\n".join(lines)

    def recorded(self, decision_id: str) -> None:
        """Show what was recorded for a decision. Printed when grading or in a read-only run (it is what
        nbgrader keeps and feedback shows); in a trainee's own page, a view that changes the moment they submit."""
        text = self.recorded_text(decision_id)
        if writes_disabled_reason() is not None:
            print(text)
            return
        from IPython.display import display

        note = self._notes.get(decision_id)
        if note is None or getattr(note, "comm", None) is None:
            note = self._notes[decision_id] = widgets.HTML(_note_html(text))
        else:
            note.value = _note_html(text)
        display(note)

    def _after_answer(self) -> None:
        """After an answer: the notes under the decisions say so, and the time fence moves on."""
        for decision_id, note in self._notes.items():
            note.value = _note_html(self.recorded_text(decision_id))
        if self._key_points is not None:
            self.key_points()
        if self._summary is not None:
            self._summary.refresh()
        self._move_fence()

    def score(self, decision_id: str) -> float:
        """The points for the FIRST recorded answer; 0.0 (with a plain message) when there is none."""
        d = self._decision_point(decision_id)
        answers, problem = self._answers_or_problem()
        if answers is None:
            print(problem or "No answers file was found, so this decision scores 0.")
            return 0.0
        first = answers.first(decision_id)
        if first is None:
            print("No answer recorded for this decision, so it scores 0.")
            return 0.0
        return d.score(first.get("choice"))


def open_module(
    module_id: str, case: Case | str | os.PathLike | None = None, answers_dir: str | os.PathLike | None = None
) -> ModuleSession:
    """Open a module's views. `case` is a loaded Case or a case pack folder (default: the course's data);
    answers are kept in `answers_dir` (default: the notebook's folder, i.e. the current directory)."""
    if not isinstance(case, Case):
        case = load_case_cached(Path(case) if case is not None else None)  # reused while the pack is unchanged
    store = AnswerStore(Path(answers_dir) if answers_dir is not None else Path.cwd(), case)
    return ModuleSession(case, module_id, store)


def module_progress(case: Case, workspace: Path) -> list[ModuleProgress]:
    """Each module's progress from the answers file in its folder of the workspace (never written here)."""
    out = []
    for m in case.modules:
        try:
            answers = read_answers(Path(workspace) / m.id, case)
        except AnswersError:
            answers = None
        ids = [d.id for d in case.decisions_in(m.id)]
        answered = sum(1 for d in ids if answers is not None and answers.first(d) is not None)
        seen = (answers.activity.get(m.id) or {}) if answers is not None else {}
        last_seen = seen.get("last_seen_at", "") if isinstance(seen, dict) else ""
        written = answers is not None and bool(answers.reflection(m.id).strip())
        available = (Path(workspace) / m.id / f"{m.id}.ipynb").is_file()
        out.append(ModuleProgress(m, len(ids), answered, str(last_seen or ""), reflection=written, available=available))
    return out


def open_home(case: Case | str | os.PathLike | None = None, workspace: str | os.PathLike | None = None) -> Html:
    """The course home: content warning and support, every module with its progress, where to carry on, for a
    notebook at the workspace's root (`workspace`: the current folder unless given). Trainees' own home is a page
    of their server (course/apps/home_page.py) made from the same markup."""
    if not isinstance(case, Case):
        case = load_case_cached(Path(case) if case is not None else None)
    folder = Path(workspace) if workspace is not None else Path.cwd()
    progress = module_progress(case, folder)
    lines = [case.title, *(f"- {p.module.title}: {p.answered} of {p.decisions} decisions answered" for p in progress)]
    return Html(home_html(case, progress), "\n".join(lines))
