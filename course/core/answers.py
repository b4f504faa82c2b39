"""The answers document: what `answers.json` holds, its schema history, and reading it without writing.

The first answer to each decision is what is graded; later changes are kept as revisions. Writing (locks,
merges, atomic replace) is the answer store's job (course.store); readers for grading and workshops use
`read_answers`, which never writes.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .contract import ANSWERS_FILE

SCHEMA_VERSION = 1
CORRUPT_SUFFIX = ".corrupt-"

# Schema history.
#   0: {"course": <id>, "answers": {"<decision id>": {"choice", "rationale", "confidence", "saved_at"}}}
#      one answer per decision, overwritten on change; no "schema" key, no activity.
#   1: {"schema": 1, "course", "course_version",
#       "decisions": {"<id>": {"first": {choice, rationale, confidence, submitted_at, revealed_at},
#                              "revisions": [{choice, rationale, confidence, submitted_at}, ...]}},
#       "activity": {"<module id>": {"first_opened_at", "last_seen_at"}},
#       "reflections": {"<module id>": {"text", "saved_at", "history": [{"text", "saved_at"}, ...]}}}
#      (reflections were added within schema 1: a file without them has none yet)


class AnswersError(Exception):
    """The answers file cannot be used; the message says why in plain words."""


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def answers_path(where: str | os.PathLike | None = None) -> Path:
    """The answers file for `where`: a folder (answers.json inside it), a .json file, or the cwd."""
    p = Path(where) if where is not None else Path.cwd()
    if p.suffix.lower() == ".json":
        return p
    return p / ANSWERS_FILE


def empty_document(course: str = "", course_version: str = "") -> dict:
    return {
        "schema": SCHEMA_VERSION,
        "course": course,
        "course_version": course_version,
        "decisions": {},
        "activity": {},
        "reflections": {},
    }


def upgrade(doc: dict) -> dict:
    """Bring a parsed document from any older schema to SCHEMA_VERSION (a new dict; input untouched).

    Raises AnswersError for a document from a newer version of the course or one with no known shape.
    """
    if not isinstance(doc, dict):
        raise AnswersError("it does not hold a set of answers (expected a JSON object)")
    doc = copy.deepcopy(doc)
    schema = doc.get("schema", 0 if "answers" in doc else None)
    if schema is None:
        raise AnswersError("it is not a course answers file (it has no 'schema' field)")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise AnswersError(f"its format number {schema!r} is not a number")
    if schema > SCHEMA_VERSION:
        raise AnswersError(
            f"it was written by a newer version of the course (answers format {schema}; "
            f"this version reads up to {SCHEMA_VERSION}); update the course before using it"
        )
    if schema == 0:
        doc = _upgrade_0_to_1(doc)
    _check_shape(doc)
    return doc


def _upgrade_0_to_1(doc: dict) -> dict:
    answers = doc.get("answers") or {}
    if not isinstance(answers, dict):
        raise AnswersError("its answers are not in the expected form")
    decisions = {}
    for did, a in answers.items():
        if not isinstance(a, dict):
            raise AnswersError(f"the answer to {did!r} is not in the expected form")
        when = a.get("saved_at") or ""
        decisions[did] = {
            "first": {
                "choice": a.get("choice"),
                "rationale": a.get("rationale", ""),
                "confidence": a.get("confidence"),
                "submitted_at": when,
                "revealed_at": when,
            },
            "revisions": [],
        }
    return {
        "schema": 1,
        "course": doc.get("course", ""),
        "course_version": doc.get("course_version", ""),
        "decisions": decisions,
        "activity": {},
    }


def _check_shape(doc: dict) -> None:
    for key, kind in (("decisions", dict), ("activity", dict), ("reflections", dict)):
        doc.setdefault(key, kind())
        if not isinstance(doc[key], kind):
            raise AnswersError(f"its '{key}' part is not in the expected form")
    doc.setdefault("course", "")
    doc.setdefault("course_version", "")
    for did, entry in doc["decisions"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("first"), dict):
            raise AnswersError(f"the answer to {did!r} is not in the expected form")
        entry.setdefault("revisions", [])
        if not isinstance(entry["revisions"], list):
            raise AnswersError(f"the changes to the answer to {did!r} are not in the expected form")


def parse_document(text: str) -> dict:
    """Parse and upgrade the text of an answers file; AnswersError says what is wrong."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AnswersError(
            f"it is damaged and cannot be read (its contents are not valid JSON, line {getattr(e, 'lineno', '?')})"
        ) from None
    return upgrade(raw)


class Answers(Mapping):
    """A read-only view of one answers file: decision id -> {"first": {...}, "revisions": [...]}."""

    def __init__(self, doc: dict, path: Path | None = None):
        self._doc = doc
        self.path = path

    @property
    def schema(self) -> int:
        return self._doc["schema"]

    @property
    def course(self) -> str:
        return self._doc.get("course", "")

    @property
    def course_version(self) -> str:
        return self._doc.get("course_version", "")

    @property
    def activity(self) -> dict:
        return copy.deepcopy(self._doc.get("activity", {}))

    def __getitem__(self, decision_id: str) -> dict:
        return copy.deepcopy(self._doc["decisions"][decision_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc["decisions"])

    def __len__(self) -> int:
        return len(self._doc["decisions"])

    def first(self, decision_id: str) -> dict | None:
        """The graded answer to a decision, or None if it has not been answered."""
        entry = self._doc["decisions"].get(decision_id)
        return copy.deepcopy(entry["first"]) if entry else None

    def reflection_saved_at(self, module_id: str) -> str:
        entry = self._doc.get("reflections", {}).get(module_id)
        when = entry.get("saved_at") if isinstance(entry, dict) else None
        return when if isinstance(when, str) else ""

    def reflection(self, module_id: str) -> str:
        """The module's reflection as last saved ('' when none, or when the entry is not text)."""
        entry = self._doc.get("reflections", {}).get(module_id)
        text = entry.get("text") if isinstance(entry, dict) else None
        return text if isinstance(text, str) else ""

    def revisions(self, decision_id: str) -> list[dict]:
        entry = self._doc["decisions"].get(decision_id)
        return copy.deepcopy(entry["revisions"]) if entry else []

    def __repr__(self) -> str:
        return f"Answers(course={self.course!r}, decisions={list(self)!r}, path={str(self.path)!r})"


def read_answers(path: str | os.PathLike | None = None, case: Any = None) -> Answers:
    """Read an answers file (or the answers.json in a folder) without ever writing anything.

    Raises AnswersError with a plain-English message if the file is missing, unreadable, damaged,
    from a newer version of the course, or (when `case` is given) from another course.
    """
    p = answers_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnswersError(f"No answers file at {p}: no decision has been answered and saved there yet.") from None
    except OSError as e:
        raise AnswersError(f"The answers file {p} could not be opened ({e.strerror or e}).") from None
    try:
        doc = parse_document(text)
    except AnswersError as e:
        raise AnswersError(f"The answers file {p} cannot be used: {e}.") from None
    if case is not None and doc.get("course") and doc["course"] != case.id:
        raise AnswersError(f"The answers file {p} belongs to another course ({doc['course']!r}, not {case.id!r}).")
    return Answers(doc, p)
