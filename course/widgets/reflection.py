"""The reflection, written in a box on the page: saved into the answer store as the trainee types (never into
the notebook, which a keystroke could otherwise damage); grading places it into nbgrader's answer cell."""

from __future__ import annotations

import threading

import ipywidgets as widgets

from ..render.decision import when_text
from ..render.style import problem_html, status_html
from ..store import AnswerStore
from .shared import make, shared_layout, style_carrier

SAVE_AFTER_S = 0.8  # after the last keystroke


class ReflectionBox(widgets.VBox):
    """A labelled text box for the module's reflection, with a line saying when it was last saved."""

    def __init__(self, module_id: str, store: AnswerStore):
        self.module_id = module_id
        self.store = store
        text = store.load().reflection(module_id)
        self.text = make(
            widgets.Textarea,
            value=text,
            description="Your reflection",
            placeholder="Write your reflection here. It is saved as you type.",
            continuous_update=True,
            style={"description_width": "initial"},
            layout=dict(width="95%", height="14em"),
        )
        self.status = make(widgets.HTML)  # a live region: present from the start
        if text:
            self.status.value = status_html("Your reflection so far is shown above. Changes are saved as you type.")
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.text.observe(self._typed, names="value")
        super().__init__([style_carrier(), self.text, self.status], layout=shared_layout())
        self.add_class("course-reflection")

    def _typed(self, change=None) -> None:
        """Save a moment after the trainee stops typing (each save locks, writes and syncs the answers file: once
        a keystroke would make typing lag)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(SAVE_AFTER_S, self.flush)
            self._timer.daemon = True
            self._timer.start()

    def flush(self) -> None:
        """Save what is in the box now."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._save()

    def _save(self) -> None:
        if not self.text.value and not self.store.load().reflection(self.module_id):
            return  # nothing written and nothing kept (Submit saves first): no "Saved" for nothing
        problem = self.store.save_reflection(self.module_id, self.text.value)
        if problem:
            self.status.value = problem_html(problem)
            return
        saved = self.store.load().reflection_saved_at(self.module_id)
        self.status.value = status_html(f"Saved {when_text(saved)}.")

    def __repr__(self) -> str:
        return f"Reflection for {self.module_id} (a text box: open the module's page to write it)"
