"""Answering a decision widget as a trainee would, for the tests."""

from __future__ import annotations


def submit(view):
    """Press Submit as a trainee who has said how sure they are and written reasons (when the test has not)."""
    from course.widgets.decision import NOT_CHOSEN

    if view.confidence.value == NOT_CHOSEN:
        view.confidence.value = 3
    if not view.rationale.value.strip():
        view.rationale.value = "My reasons."
    view.submit.click()


def tick(view, *option_ids):
    """Tick the boxes of these options (the boxes are in the trainee's own order)."""
    for option, box in zip(view.options, view.checkboxes, strict=True):
        box.value = option.id in option_ids
