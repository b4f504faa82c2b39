"""The contract between the notebooks, the answer store, grading and the workshop, spelled once.

Graded cells are named by grade id: `score-<decision id>` for a decision (autograded from answers.json) and
`reflection-<module id>` for the written reflection (graded by hand). Some text is for graders only and must
never reach a trainee; a run that only reads (a report, a projector view) sets READ_ONLY_ENV so that nothing in
it writes an answers file (nbgrader sets NBGRADER_EXECUTION itself while it executes a notebook).
"""

from __future__ import annotations

import os

ANSWERS_FILE = "answers.json"
SCORE_PREFIX = "score-"
REFLECTION_PREFIX = "reflection-"
# nbgrader's ClearSolutions.text_stub: what an unanswered reflection cell holds in a release.
ANSWER_PLACEHOLDER = "YOUR ANSWER HERE"

READ_ONLY_ENV = "COURSE_READ_ONLY"
NBGRADER_ENV = "NBGRADER_EXECUTION"

# The grader's mark scheme, put into autograded notebooks for formgrader and removed from feedback.
MARK_SCHEME_TAG = "course-mark-scheme"
MARK_SCHEME_HEADING = "Mark scheme (for graders only, removed from trainee feedback)"
HIDDEN_TESTS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
# Text that belongs to graders only: never in a module notebook (hidden tests are the one allowed region there).
GRADER_ONLY = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN MARK SCHEME",
    "END MARK SCHEME",
    MARK_SCHEME_TAG,
    "Mark scheme (for graders",
)
# Text that must never reach a trainee: the above, nbgrader's hidden test region and the hidden scoring call.
LEAK_MARKERS = (*HIDDEN_TESTS, *GRADER_ONLY, ".score(")
FEEDBACK_LEAK_MARKERS = (*LEAK_MARKERS, "Traceback (most recent call last)", "AssertionError")


def score_id(decision_id: str) -> str:
    return SCORE_PREFIX + decision_id


def reflection_id(module_id: str) -> str:
    return REFLECTION_PREFIX + module_id


def grade_kind(grade_id: str) -> str:
    """'decision', 'reflection' or 'other'."""
    if grade_id.startswith(SCORE_PREFIX):
        return "decision"
    if grade_id.startswith(REFLECTION_PREFIX):
        return "reflection"
    return "other"


def is_answers_file(name: str) -> bool:
    """answers.json, or one of the store's own files beside it (set aside, lock, temp)."""
    return name == ANSWERS_FILE or name.startswith((ANSWERS_FILE + ".", "." + ANSWERS_FILE))


def writes_disabled_reason() -> str | None:
    """Why answers must not be written in this process, or None when writing is allowed."""
    if os.environ.get(NBGRADER_ENV):
        return "this notebook is being run by nbgrader (grading), so answers are not saved in this run"
    if os.environ.get(READ_ONLY_ENV, "").strip().lower() in ("1", "true", "yes"):
        return "this notebook is being run as a report (read-only), so answers are not saved in this run"
    return None


def read_only_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for a kernel or server that must never write answers (reports, projector views)."""
    return {**(os.environ if env is None else env), READ_ONLY_ENV: "1"}


def writable_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for a trainee's own server: answers are written, whatever the shell had set."""
    out = dict(os.environ if env is None else env)
    out.pop(READ_ONLY_ENV, None)
    return out
