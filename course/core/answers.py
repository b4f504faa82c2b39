"""The answers document: what `answers.json` holds, its schema history, and reading it without writing.

The first answer to each decision is what is graded; later changes are kept as revisions. Writing (locks,
merges, atomic replace) is the answer store's job (course.store); readers for grading and workshops use
`read_answers`, which never writes.

The file comes from a trainee's machine and may hold anything: any bytes, any JSON shape, hand edits. Reading
it never raises anything but AnswersError (a plain reason, naming the file by its name only), and a record the
course could not have written (a choice that is a number, a list for a one-option question, a rationale that
is not text) is kept out of every count and score, with a plain reason in `Answers.problems`.
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .contract import ANSWERS_FILE

SCHEMA_VERSION = 2
CORRUPT_SUFFIX = ".corrupt-"
MAX_BYTES = 5_000_000  # a whole course's answers are a few tens of kilobytes

# Schema history.
#   0: {"course": <id>, "answers": {"<decision id>": {"choice", "rationale", "confidence", "saved_at"}}}
#      one answer per decision, overwritten on change; no "schema" key, no activity.
#   1: {"schema": 1, "course", "course_version",
#       "decisions": {"<id>": {"first": {choice, rationale, confidence, submitted_at, revealed_at},
#                              "revisions": [{choice, rationale, confidence, submitted_at}, ...]}},
#       "activity": {"<module id>": {"first_opened_at", "last_seen_at"}},
#       "reflections": {"<module id>": {"text", "saved_at", "history": [{"text", "saved_at"}, ...]}}}
#      (reflections came within version 1: a file without them has none yet)
#   2: as 1, and each first answer carries "digest": a keyed digest (HMAC-SHA256) of the decision id and the
#      first answer (choice, rationale, confidence, submitted_at, revealed_at), written by the answer store when
#      the answer is recorded. Readers flag a first answer whose digest does not match (edited by hand after the
#      review was revealed). Upgrading a version 1 file seals the first answers it holds as they are.
#
# The key is in this file: on a trainee's own laptop nothing can be kept secret from them, so the digest shows a
# hand edit by someone who did not recompute it, no more (docs/trainer-guide.md says so).
SEAL_KEY = b"course answers seal, version 2: evidence of a hand edit, not a secret"
SEALED_FIELDS = ("choice", "rationale", "confidence", "submitted_at", "revealed_at")


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


# ---------------------------------------------------------------- the seal on a first answer


def seal(decision_id: str, record: Mapping) -> str:
    """The digest of a first answer (see the schema history): what the store writes and readers check."""
    fields = [decision_id, *(record.get(k) for k in SEALED_FIELDS)]
    text = json.dumps(fields, ensure_ascii=True, sort_keys=True, separators=(",", ":"), default=repr)
    return hmac.new(SEAL_KEY, text.encode("ascii"), hashlib.sha256).hexdigest()


def seal_matches(decision_id: str, record: Mapping) -> bool:
    digest = record.get("digest")
    return isinstance(digest, str) and hmac.compare_digest(digest, seal(decision_id, record))


# ---------------------------------------------------------------- bytes -> document


def decode(data: bytes) -> str:
    """The text of an answers file: UTF-8 (a byte order mark, as Windows Notepad writes, is fine), or UTF-16 or
    UTF-32 with a byte order mark. Anything else raises AnswersError with a plain reason."""
    if len(data) > MAX_BYTES:
        raise AnswersError(f"it is far too large for an answers file ({len(data):,} bytes)")
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    encoding = next((enc for bom, enc in boms if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise AnswersError(
            "it is not text the course can read (not saved as UTF-8: it may have been saved by another program, "
            "or it is not an answers file)"
        ) from None


def upgrade(doc: Any) -> dict:
    """Bring a parsed document from any older schema to SCHEMA_VERSION (a new dict; input untouched).

    Raises AnswersError for a document from a newer version of the course or one with no known shape.
    """
    if not isinstance(doc, dict):
        raise AnswersError("it does not hold a set of answers (expected a JSON object)")
    try:
        doc = copy.deepcopy(doc)
    except RecursionError:
        raise AnswersError("it is nested far too deeply to be an answers file") from None
    schema = doc.get("schema", 0 if "answers" in doc else None)
    if schema is None:
        raise AnswersError("it is not a course answers file (it has no 'schema' field)")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise AnswersError(f"its format number {_shown(schema)} is not a whole number")
    if schema > SCHEMA_VERSION:
        raise AnswersError(
            f"it was written by a newer version of the course (answers format {schema}; "
            f"this version reads up to {SCHEMA_VERSION}); update the course before using it"
        )
    if schema < 0:
        raise AnswersError(f"its format number {schema} is not one the course has ever written")
    if schema == 0:
        doc = _upgrade_0_to_1(doc)
    _check_shape(doc)
    if doc["schema"] < 2:
        _upgrade_1_to_2(doc)
    return doc


def _upgrade_0_to_1(doc: dict) -> dict:
    answers = doc.get("answers") or {}
    if not isinstance(answers, dict):
        raise AnswersError("its answers are not in the expected form")
    decisions = {}
    for did, a in answers.items():
        if not isinstance(a, dict):
            raise AnswersError(f"the answer to {_shown(did)} is not in the expected form")
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


def _upgrade_1_to_2(doc: dict) -> None:
    """Seal the first answers of a version 1 file as they are (there was nothing to check them against)."""
    for did, entry in doc["decisions"].items():
        entry["first"]["digest"] = seal(did, entry["first"])
    doc["schema"] = 2


def _check_shape(doc: dict) -> None:
    for key, kind in (("decisions", dict), ("activity", dict), ("reflections", dict)):
        doc.setdefault(key, kind())
        if not isinstance(doc[key], kind):
            raise AnswersError(f"its '{key}' part is not in the expected form")
    for key in ("course", "course_version"):
        doc.setdefault(key, "")
        if doc[key] is None:
            doc[key] = ""
        if not isinstance(doc[key], str):
            raise AnswersError(f"its '{key}' is not text")
    for did, entry in doc["decisions"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("first"), dict):
            raise AnswersError(f"the answer to {_shown(did)} is not in the expected form")
        entry.setdefault("revisions", [])
        if not isinstance(entry["revisions"], list):
            raise AnswersError(f"the changes to the answer to {_shown(did)} are not in the expected form")


def parse_document(text: str) -> dict:
    """Parse and upgrade the text of an answers file; AnswersError says what is wrong."""
    try:
        raw = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as e:
        raise AnswersError(
            f"it is damaged and cannot be read (its contents are not valid JSON, line {e.lineno})"
        ) from None
    except RecursionError:
        raise AnswersError("it is nested far too deeply to be an answers file") from None
    except ValueError as e:
        if "digits" in str(e):  # Python refuses to read an integer of more than 4300 digits
            raise AnswersError("it holds a number far too long to be part of an answers file") from None
        raise AnswersError("it is damaged and cannot be read (its contents are not valid JSON)") from None
    return upgrade(raw)


# ---------------------------------------------------------------- records the course could have written


def _shown(value: Any, limit: int = 40) -> str:
    """A short, printable description of a value from the file (never the whole of a huge or odd value)."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an integer too long to print, a structure too deep
        return f"a {type(value).__name__} that cannot be shown"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clean_text(value: str) -> str:
    """Text as it can be shown and saved: a lone surrogate (from a \\ud800 escape) becomes U+FFFD."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # one U+FFFD for each


def _is_when(value: Any) -> bool:
    return value is None or isinstance(value, str)


def record_problem(record: Any, decision: Any = None) -> str | None:
    """Why a recorded answer cannot be used (None when it can): the course's own store never writes such a
    record. `decision` (a DecisionPoint) adds the checks that need the question: one option or several."""
    if not isinstance(record, dict):
        return "it is not in the expected form"
    choice = record.get("choice")
    if isinstance(choice, str):
        if not choice:
            return "its choice is empty"
    elif isinstance(choice, list):
        if not choice or not all(isinstance(c, str) and c for c in choice):
            return f"its choice {_shown(choice)} is not a list of option ids"
        if decision is not None and not decision.multiple:
            return f"it lists {len(choice)} option(s), but this question takes one option"
    elif choice is None:
        return "it has no choice"
    else:
        return f"its choice {_shown(choice)} is not an option id"
    rationale = record.get("rationale", "")
    if rationale is not None and not isinstance(rationale, str):
        return f"its reasons ({_shown(rationale)}) are not text"
    confidence = record.get("confidence")
    if confidence is not None and (
        not isinstance(confidence, int) or isinstance(confidence, bool) or not 1 <= confidence <= 5
    ):
        return f"its confidence {_shown(confidence)} is not a whole number from 1 to 5"
    for key in ("submitted_at", "revealed_at", "digest"):
        if not _is_when(record.get(key)):
            return f"its '{key}' ({_shown(record.get(key))}) is not text"
    if decision is not None:
        chosen = [choice] if isinstance(choice, str) else choice
        unknown = [c for c in chosen if decision.option(c) is None]
        if unknown:
            return f"it chose {', '.join(_shown(c) for c in unknown)}, which is not an option of this question"
    return None


def _clean_record(record: dict) -> dict:
    """A copy of a usable record with every text field printable (lone surrogates replaced), without its digest
    (checked once, when the file is read)."""
    out = {}
    for key, value in record.items():
        if key == "digest":
            continue
        if isinstance(value, str):
            value = clean_text(value)
        elif isinstance(value, list):
            value = [clean_text(v) if isinstance(v, str) else v for v in value]
        out[clean_text(key) if isinstance(key, str) else key] = value
    return out


class Answers(Mapping):
    """A read-only view of one answers file: decision id -> {"first": {...}, "revisions": [...]}.

    Only usable first answers are in the view; `problems` gives, for each decision whose recorded answer cannot be
    used, the reason in plain words (it scores nothing and is counted nowhere). `unsealed` names the decisions
    whose first answer does not match the digest recorded with it (still in the view: a trainer decides).
    With `case`, answers are also checked against the questions (one option or several, known option ids).
    """

    def __init__(self, doc: dict, path: Path | None = None, case: Any = None):
        self._doc = doc
        self.path = path
        self.problems: dict[str, str] = {}
        self.unsealed: list[str] = []
        self._decisions: dict[str, dict] = {}
        for did, entry in doc["decisions"].items():
            decision = None
            if case is not None:
                try:
                    decision = case.decision(did)
                except (KeyError, TypeError):
                    decision = None  # not a decision of this course: readers report it themselves
            problem = record_problem(entry["first"], decision)
            if problem is not None:
                self.problems[clean_text(str(did))] = problem
                continue
            if doc.get("schema", 0) >= 2 and not seal_matches(did, entry["first"]):
                self.unsealed.append(did)
            revisions = [_clean_record(r) for r in entry["revisions"] if record_problem(r) is None]
            self._decisions[did] = {"first": _clean_record(entry["first"]), "revisions": revisions}

    @property
    def document(self) -> dict:
        return self._doc

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

    def against(self, case: Any) -> Answers:
        """The same file checked against a course's questions (one option or several, known option ids)."""
        return Answers(self._doc, self.path, case)

    def __getitem__(self, decision_id: str) -> dict:
        return copy.deepcopy(self._decisions[decision_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._decisions)

    def __len__(self) -> int:
        return len(self._decisions)

    def first(self, decision_id: str) -> dict | None:
        """The graded answer to a decision, or None if it has not been answered (or cannot be used)."""
        entry = self._decisions.get(decision_id)
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
        entry = self._decisions.get(decision_id)
        return copy.deepcopy(entry["revisions"]) if entry else []

    def __repr__(self) -> str:
        return f"Answers(course={self.course!r}, decisions={list(self)!r}, path={str(self.path)!r})"


def read_answers(path: str | os.PathLike | None = None, case: Any = None) -> Answers:
    """Read an answers file (or the answers.json in a folder) without ever writing anything.

    Raises AnswersError with a plain-English message if the file is missing, unreadable, damaged,
    from a newer version of the course, or (when `case` is given) from another course. Messages name the
    file by its name only: they reach trainees' feedback, where the grading server's folders do not belong.
    """
    p = answers_path(path)
    name = p.name
    try:
        with open(p, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise AnswersError(f"No answers file ({name}): no decision has been answered and saved there yet.") from None
    except IsADirectoryError:
        raise AnswersError(f"The answers file {name} cannot be used: it is a folder, not a file.") from None
    except OSError as e:
        raise AnswersError(f"The answers file {name} could not be opened ({e.strerror or type(e).__name__}).") from None
    try:
        doc = parse_document(decode(data))
    except AnswersError as e:
        raise AnswersError(f"The answers file {name} cannot be used: {e}.") from None
    if case is not None and doc.get("course") and doc["course"] != case.id:
        raise AnswersError(
            f"The answers file {name} belongs to another course ({_shown(doc['course'])}, not {case.id!r})."
        )
    return Answers(doc, p, case)
