"""The contract between the notebooks, the answer store, grading and the workshop, spelled once.

Graded cells are named by grade id: `score-<decision id>` for a decision (autograded from answers.json) and
`reflection-<module id>` for the written reflection (graded by hand). Some text is for graders only and must
never reach a trainee; a run that only reads (a report, a projector view) sets READ_ONLY_ENV so that nothing in
it writes an answers file (nbgrader sets NBGRADER_EXECUTION itself while it executes a notebook).
"""

from __future__ import annotations

import hashlib
import os
import re

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


# ---------------------------------------------------------------- trainee ids, file names and text outside the course
# A trainee id is a folder name under nbgrader's submitted/ (or a file's stem in a flat folder): anything the
# file system allows. nbgrader treats some of them as patterns or strips them (measured on 0.9.6: `lee[2]` globs and
# grades `lee2`, `pat ` is graded as `pat`), and a few would write over a generated file or leave the folder.

NBGRADER_PATTERN_CHARS = "[]*?"
RESERVED_STEMS = frozenset(
    {"index", "con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}
)
MAX_STEM = 64
_PLAIN_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")


def trainee_id_problem(trainee: str) -> str | None:
    """Why nbgrader cannot grade this trainee id as it is written (None when it can)."""
    if not trainee or not trainee.strip():
        return "the trainee id is empty"
    if any(c in trainee for c in NBGRADER_PATTERN_CHARS):
        return (
            f"the trainee id contains {', '.join(repr(c) for c in NBGRADER_PATTERN_CHARS if c in trainee)}, which "
            "nbgrader reads as a file pattern (it would grade another trainee's work instead); rename the folder"
        )
    if trainee != trainee.strip():
        return "the trainee id starts or ends with a space, which nbgrader removes (it would grade another folder)"
    if any(ord(c) < 32 or c in "/\\" for c in trainee) or trainee in (".", ".."):
        return "the trainee id contains a control character or a slash, or is a dot folder"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in trainee):
        return "the trainee id is not valid text (its folder name is not UTF-8)"
    return None


def file_stem(trainee: str) -> str:
    """A file name stem for a trainee: the id itself when it is short and plain, else a readable part of it and a
    digest of the whole id after '~' (which no plain stem contains), so two ids never share a stem and none is a
    generated file's name (index.md), a device name, a hidden file or a path out of the folder."""
    plain = len(trainee) <= MAX_STEM and _PLAIN_STEM.fullmatch(trainee) and not trainee.endswith(".")
    if plain and trainee.lower() not in RESERVED_STEMS:
        return trainee
    readable = re.sub(r"[^A-Za-z0-9._@+-]+", "-", trainee).strip(".-")[:40] or "trainee"
    return f"{readable}~{hashlib.sha256(trainee.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


def spreadsheet_safe(value: object) -> object:
    """A CSV cell a spreadsheet will show as text, never evaluate: text starting with = + - @ (or a tab or a
    carriage return, which some spreadsheets skip) gets a leading apostrophe. Numbers are left as they are."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def markdown_literal(text: object, one_line: bool = True) -> str:
    """Trainee text placed in a Markdown file so that it shows as written and nothing in it is markup a renderer
    runs: no HTML (tags and entities), no links or images, no autolinks, no code. With one_line (a heading, a
    list item, a table cell) line breaks become spaces; otherwise paragraphs are kept."""
    out = str(text).replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = out.replace("[", "\\[").replace("]", "\\]").replace("`", "\\`").replace("|", "\\|")
    if one_line:
        return " ".join(out.split())
    return "\n".join(line.strip() for line in out.splitlines()).strip()
