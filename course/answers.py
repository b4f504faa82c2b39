"""The answer store: a trainee's decisions kept in `answers.json` beside the notebook.

The first answer to each decision is what is graded; later changes are kept as revisions. Every write
takes a lock, re-reads the file, merges, and replaces the file atomically, so two widgets or two browser
tabs writing in turn lose nothing and a writer killed mid-write leaves the previous answers intact.
Nothing is written while nbgrader or papermill executes a notebook. Readers for grading and workshops use
`read_answers`, which never writes.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import errno
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # fcntl is POSIX-only; without it writes are still atomic, just not serialised between processes
    import fcntl
except ImportError:  # pragma: no cover - not on this platform
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 1
FILENAME = "answers.json"
LOCK_SUFFIX = ".lock"
CORRUPT_SUFFIX = ".corrupt-"

# Schema history.
#   0: {"course": <id>, "answers": {"<decision id>": {"choice", "rationale", "confidence", "saved_at"}}}
#      one answer per decision, overwritten on change; no "schema" key, no activity.
#   1: {"schema": 1, "course", "course_version",
#       "decisions": {"<id>": {"first": {choice, rationale, confidence, submitted_at, revealed_at},
#                              "revisions": [{choice, rationale, confidence, submitted_at}, ...]}},
#       "activity": {"<module id>": {"first_opened_at", "last_seen_at"}}}


class AnswersError(Exception):
    """The answers file cannot be used; the message says why in plain words."""


class _CannotWrite(AnswersError):
    """Writing now would destroy something we could not read (the message is a plain-English reason)."""


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def writes_disabled_reason() -> str | None:
    """Why answers must not be written in this process, or None when writing is allowed."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return "this notebook is being run by nbgrader (grading), so answers are not saved in this run"
    if os.environ.get("COURSE_READ_ONLY", "").strip().lower() in ("1", "true", "yes"):
        return "this notebook is being run as a report (read-only), so answers are not saved in this run"
    return None


def answers_path(where: str | os.PathLike | None = None) -> Path:
    """The answers file for `where`: a folder (answers.json inside it), a .json file, or the cwd."""
    p = Path(where) if where is not None else Path.cwd()
    if p.suffix.lower() == ".json":
        return p
    return p / FILENAME


# --------------------------------------------------------------------------- the document


def empty_document(course: str = "", course_version: str = "") -> dict:
    return {"schema": SCHEMA_VERSION, "course": course, "course_version": course_version,
            "decisions": {}, "activity": {}}


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
            "first": {"choice": a.get("choice"), "rationale": a.get("rationale", ""),
                      "confidence": a.get("confidence"), "submitted_at": when, "revealed_at": when},
            "revisions": [],
        }
    return {"schema": 1, "course": doc.get("course", ""), "course_version": doc.get("course_version", ""),
            "decisions": decisions, "activity": {}}


def _check_shape(doc: dict) -> None:
    for key, kind in (("decisions", dict), ("activity", dict)):
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
        raise AnswersError("it is damaged and cannot be read (its contents are not valid JSON, line "
                           f"{getattr(e, 'lineno', '?')})") from None
    return upgrade(raw)


# --------------------------------------------------------------------------- read-only view


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

    def revisions(self, decision_id: str) -> list[dict]:
        entry = self._doc["decisions"].get(decision_id)
        return copy.deepcopy(entry["revisions"]) if entry else []

    def latest(self, decision_id: str) -> dict | None:
        """The most recent answer (the last revision, else the first)."""
        revs = self.revisions(decision_id)
        return revs[-1] if revs else self.first(decision_id)

    def as_dict(self) -> dict:
        return copy.deepcopy(self._doc)

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
        raise AnswersError(
            f"The answers file {p} belongs to another course ({doc['course']!r}, not {case.id!r})."
        )
    return Answers(doc, p)


# --------------------------------------------------------------------------- the store


@dataclass
class Recorded:
    """The outcome of recording an answer."""

    decision_id: str
    record: dict
    kind: str  # "first" (graded) or "revision" (kept, not graded)
    saved: bool
    message: str = ""  # plain words for the trainee when something needs saying

    @property
    def graded(self) -> bool:
        return self.kind == "first"


@dataclass
class _State:
    doc: dict
    notices: list[str] = field(default_factory=list)


class AnswerStore:
    """The trainee's answers file, safe for several writers in turn (widgets, browser tabs, processes).

    `notices` collects plain-English messages the notebook should show (a damaged file kept aside, a
    read-only folder, a grading run that does not save).
    """

    def __init__(self, where: str | os.PathLike | None = None, case: Any = None):
        self.path = answers_path(where)
        self.lock_path = self.path.with_name("." + self.path.name + LOCK_SUFFIX)  # hidden in the file browser
        self.case = case
        self.notices: list[str] = []
        # Answers that could not be saved (read-only folder, grading run) stay visible in this session.
        self.unsaved: dict[str, list[dict]] = {}
        # Modules opened before any answers file existed: written with the first answer, so that opening
        # a notebook never creates a file by itself.
        self._opened: dict[str, str] = {}

    # ---------------------------------------------------------------- reading

    @property
    def read_only_reason(self) -> str | None:
        return writes_disabled_reason()

    def _notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    def load(self) -> Answers:
        """The answers as they are on disk now. A damaged file is moved aside (when writing is allowed)
        and reported in `notices`; in a read-only run it is left alone and treated as empty."""
        doc = self._read_or_recover(locked=False)
        return Answers(doc, self.path)

    def first(self, decision_id: str) -> dict | None:
        return self.load().first(decision_id)

    def revisions(self, decision_id: str) -> list[dict]:
        return self.load().revisions(decision_id)

    def _course_ids(self) -> tuple[str, str]:
        if self.case is None:
            return "", ""
        return self.case.id, self.case.version

    def _read_or_recover(self, locked: bool) -> dict:
        course, version = self._course_ids()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty_document(course, version)
        except UnicodeDecodeError:
            text = "\ufffd"  # undecodable bytes: treat as damaged
        except OSError as e:
            if locked:  # kept aside (renamed, never overwritten), as a damaged file is
                return self._set_aside(f"it could not be opened ({e.strerror or e})", locked)
            self._notice(f"Your answers file could not be opened ({e.strerror or e}); earlier answers are not shown.")
            return empty_document(course, version)
        try:
            doc = parse_document(text)
        except AnswersError as e:
            if "newer version" in str(e):
                problem = f"Your answers file cannot be used: {e}"
                if locked:
                    raise _CannotWrite(problem) from None
                self._notice(f"{problem}. Earlier answers are not shown.")
                return empty_document(course, version)
            return self._set_aside(str(e), locked)
        if self.case is not None and doc.get("course") and doc["course"] != course:
            return self._set_aside(f"it belongs to another course ({doc['course']!r})", locked)
        if not doc.get("course"):
            doc["course"], doc["course_version"] = course, version
        return doc

    def _set_aside(self, why: str, locked: bool) -> dict:
        course, version = self._course_ids()
        if self.read_only_reason:
            self._notice(f"There is a problem with your answers file: {why}. It was left as it is in this run.")
            return empty_document(course, version)
        if not locked:
            # Move it aside under the lock, so that two readers do not both move (or lose) a file.
            try:
                with self._lock():
                    return self._read_or_recover(locked=True)
            except _CannotWrite as e:
                self._notice(f"{e}. Earlier answers are not shown.")
                return empty_document(course, version)
            except OSError as e:
                self._notice(f"There is a problem with your answers file: {why}, and it could not be moved "
                             f"aside ({e.strerror or e}). Earlier answers are not shown.")
                return empty_document(course, version)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}{CORRUPT_SUFFIX}{stamp}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return empty_document(course, version)
        except OSError as e:
            # Never write over a file that could be neither read nor moved aside.
            raise _CannotWrite(f"There is a problem with your answers file: {why}, and it could not be moved "
                               f"aside ({e.strerror or e})") from None
        self._notice(
            f"There is a problem with your answers file: {why}. It has been kept, unchanged, as {aside.name}, and "
            f"a new answers file has been started. Please tell your trainer, who can recover earlier answers from it."
        )
        return empty_document(course, version)

    # ---------------------------------------------------------------- writing

    @contextlib.contextmanager
    def _lock(self):
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _write(self, doc: dict) -> None:
        """Atomically replace the file: temp file in the same folder, fsync, rename, fsync the folder."""
        folder = self.path.parent
        for stale in folder.glob(f".{self.path.name}.*.tmp"):
            # Only a writer holding the lock creates temp files, so any left now belong to a dead writer.
            with contextlib.suppress(OSError):
                stale.unlink()
        data = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8") + b"\n"
        import tempfile  # here, not at the top: importing it is 2 ms of every notebook kernel's first cell

        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def _update(self, change) -> tuple[dict, str | None]:
        """Lock, re-read, apply `change(doc)`, write. Returns (doc, problem message or None)."""
        try:
            with self._lock():
                doc = self._read_or_recover(locked=True)
                result = change(doc)
                self._write(doc)
                return result, None
        except _CannotWrite as e:
            return None, f"{e}. This answer was not saved; it is still shown on screen."
        except OSError as e:
            return None, self._write_problem(e)

    def _write_problem(self, e: OSError) -> str:
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return (f"Your answer could not be saved: the folder {self.path.parent} is read-only. It is still shown "
                    f"on screen; copy it somewhere safe and ask your trainer to make the folder writable.")
        if e.errno == errno.ENOSPC:
            return ("Your answer could not be saved: the disk is full. It is still shown on screen; "
                    "ask your trainer for help.")
        return f"Your answer could not be saved ({e.strerror or e}). It is still shown on screen."

    def _validate(self, decision_id: str, choice: Any, rationale: Any, confidence: Any) -> Any:
        if isinstance(choice, (list, tuple)):
            choice = [str(c) for c in choice]
        elif not isinstance(choice, str):
            raise ValueError(f"choice must be an option id or a list of them, not {choice!r}")
        if not isinstance(confidence, int) or isinstance(confidence, bool) or not 1 <= confidence <= 5:
            raise ValueError(f"confidence must be a whole number from 1 to 5, not {confidence!r}")
        if not isinstance(rationale, str):
            raise ValueError("rationale must be text")
        if self.case is not None:
            d = self.case.decision(decision_id)  # KeyError for an unknown decision
            chosen = [choice] if isinstance(choice, str) else choice
            unknown = [c for c in chosen if d.option(c) is None]
            if unknown:
                raise ValueError(f"{decision_id}: unknown option(s) {unknown}")
            if not d.multiple and not isinstance(choice, str):
                raise ValueError(f"{decision_id} takes one option, not a list")
        return choice

    def record(self, decision_id: str, choice: str | list[str], rationale: str, confidence: int) -> Recorded:
        """Record an answer: the first becomes the graded answer (revealed now); later ones are revisions."""
        choice = self._validate(decision_id, choice, rationale, confidence)
        when = now_utc()
        entry = {"choice": choice, "rationale": rationale, "confidence": confidence, "submitted_at": when}

        def change(doc: dict) -> tuple[str, dict]:
            self._apply_activity(doc)
            existing = doc["decisions"].get(decision_id)
            if existing is None:
                rec = dict(entry, revealed_at=when)
                doc["decisions"][decision_id] = {"first": rec, "revisions": []}
                return "first", rec
            existing["revisions"].append(dict(entry))
            return "revision", dict(entry)

        reason = self.read_only_reason
        if reason is None:
            result, problem = self._update(change)
            if problem is None:
                kind, rec = result
                return Recorded(decision_id, rec, kind, saved=True)
            self._notice(problem)
        else:
            problem = f"This answer is not saved: {reason}."
        # Not saved: keep it for this session so the trainee still sees it (and its reveal).
        previous = self.unsaved.get(decision_id, [])
        known_first = None
        with contextlib.suppress(AnswersError):
            known_first = self.load().first(decision_id)
        kind = "revision" if (known_first or previous) else "first"
        rec = dict(entry, revealed_at=when) if kind == "first" else dict(entry)
        self.unsaved.setdefault(decision_id, []).append(rec)
        return Recorded(decision_id, rec, kind, saved=False, message=problem)

    def touch_activity(self, module_id: str) -> str | None:
        """Note that a module was opened (first and last time). Returns a problem message or None.
        Quietly does nothing in a read-only run, and does not create a file just for this."""
        if self.read_only_reason:
            return None
        self._opened.setdefault(module_id, now_utc())
        if not self.path.exists():
            return None
        _, problem = self._update(self._apply_activity)
        return problem

    def _apply_activity(self, doc: dict) -> None:
        when = now_utc()
        for module_id, opened in self._opened.items():
            seen = doc["activity"].setdefault(module_id, {})
            if not isinstance(seen, dict):
                seen = doc["activity"][module_id] = {}
            seen.setdefault("first_opened_at", opened)
            seen["last_seen_at"] = when
