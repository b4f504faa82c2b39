"""The answer store: a trainee's decisions kept in `answers.json` beside the notebook.

Every write takes a lock, re-reads the file, merges, and replaces the file atomically, so two widgets or two
browser tabs writing in turn lose nothing and a writer killed mid-write leaves the previous answers intact.
Nothing is written while nbgrader or papermill executes a notebook (course.core.contract). The document's
format and the read-only reader are in course.core.answers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
from dataclasses import dataclass
from typing import Any

from ..core.answers import (
    CORRUPT_SUFFIX,
    MAX_BYTES,
    Answers,
    AnswersError,
    answers_path,
    clean_text,
    decode,
    empty_document,
    now_utc,
    parse_document,
    seal,
)
from ..core.contract import writes_disabled_reason
from .hub import FirstAnswersError, available, record_first_answer

try:  # fcntl is POSIX-only; without it writes are still atomic, just not serialised between processes
    import fcntl
except ImportError:  # pragma: no cover - not on this platform
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = ".lock"
HISTORY_MINUTES = 5  # a reflection's earlier text is kept when its last save is at least this old


def _minutes_between(earlier: str, later: str) -> float:
    try:
        a = dt.datetime.fromisoformat(earlier)
        b = dt.datetime.fromisoformat(later)
    except ValueError:
        return float("inf")
    return (b - a).total_seconds() / 60


class _CannotWrite(AnswersError):
    """Writing now would destroy something we could not read (the message is a plain-English reason)."""


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
            with open(self.path, "rb") as f:
                data = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return empty_document(course, version)
        except OSError as e:
            if locked:  # kept aside (renamed, never overwritten), as a damaged file is
                return self._set_aside(f"it could not be opened ({e.strerror or e})", locked)
            self._notice(f"Your answers file could not be opened ({e.strerror or e}); earlier answers are not shown.")
            return empty_document(course, version)
        try:
            doc = parse_document(decode(data))  # a byte order mark (Windows Notepad) is fine
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
                self._notice(
                    f"There is a problem with your answers file: {why}, and it could not be moved "
                    f"aside ({e.strerror or e}). Earlier answers are not shown."
                )
                return empty_document(course, version)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}{CORRUPT_SUFFIX}{stamp}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return empty_document(course, version)
        except OSError as e:
            # Never write over a file that could be neither read nor moved aside.
            raise _CannotWrite(
                f"There is a problem with your answers file: {why}, and it could not be moved aside ({e.strerror or e})"
            ) from None
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
        # A lone surrogate anywhere in the document (a \ud800 escape read from an older file) is written back as
        # the same JSON escape, so a save never fails on it.
        data = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8", "backslashreplace")
        data += b"\n"
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

    def _update(self, change) -> tuple[Any, str | None]:
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
        except (ValueError, TypeError) as e:  # never a traceback instead of a message to the trainee
            return None, f"Your answer could not be saved ({type(e).__name__}). It is still shown on screen."

    def _write_problem(self, e: OSError) -> str:
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return (
                f"Your answer could not be saved: the folder {self.path.parent} is read-only. It is still shown "
                f"on screen; copy it somewhere safe and ask your trainer to make the folder writable."
            )
        if e.errno == errno.ENOSPC:
            return (
                "Your answer could not be saved: the disk is full. It is still shown on screen; "
                "ask your trainer for help."
            )
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
        if isinstance(choice, str) and not choice:
            raise ValueError("choice must be an option id, not empty")
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
        # Text typed in a browser may hold a lone surrogate, which cannot be saved as UTF-8: it becomes U+FFFD.
        rationale = clean_text(rationale)
        choice = clean_text(choice) if isinstance(choice, str) else [clean_text(c) for c in choice]
        when = now_utc()
        entry = {"choice": choice, "rationale": rationale, "confidence": confidence, "submitted_at": when}

        def change(doc: dict) -> tuple[str, dict]:
            self._apply_activity(doc)
            existing = doc["decisions"].get(decision_id)
            if existing is None:
                rec = dict(entry, revealed_at=when)
                rec["digest"] = seal(decision_id, rec)  # readers flag a first answer edited by hand later
                doc["decisions"][decision_id] = {"first": rec, "revisions": []}
                return "first", rec
            existing["revisions"].append(dict(entry))
            return "revision", dict(entry)

        reason = self.read_only_reason
        if reason is None:
            result, problem = self._update(change)
            if problem is None:
                kind, rec = result
                message = self._record_with_the_server(decision_id, rec) if kind == "first" else ""
                return Recorded(decision_id, rec, kind, saved=True, message=message)
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

    def _record_with_the_server(self, decision_id: str, first: dict) -> str:
        """On the multi-user server, the first answer is also kept by the hub's first-answers service, where the
        trainee cannot change it (course.store.hub). Elsewhere nothing happens. A failure never loses the answer
        (it is in answers.json); the message says so."""
        if not available():
            return ""
        module = ""
        if self.case is not None:
            module = self.case.decision(decision_id).module
        try:
            record_first_answer(module, decision_id, first, timeout=5)
        except FirstAnswersError as e:
            message = (
                f"Your answer is saved, but the course server could not keep its own copy ({e}). Your trainer can "
                "still grade it."
            )
            self._notice(message)
            return message
        return ""

    def save_reflection(self, module_id: str, text: str) -> str | None:
        """Keep the module's reflection as the trainee types: the latest text and when it was saved, and, when
        the last save is more than a few minutes old, the earlier text in its history (a record, not every
        keystroke). Returns a problem message, or None when it was saved."""
        if not isinstance(text, str):
            raise ValueError("a reflection must be text")
        text = clean_text(text)
        reason = self.read_only_reason
        if reason is not None:
            return f"Your reflection is not saved: {reason}."

        def change(doc: dict) -> None:
            self._apply_activity(doc)
            entry = doc["reflections"].get(module_id)
            if not isinstance(entry, dict):
                entry = doc["reflections"][module_id] = {"text": "", "saved_at": "", "history": []}
            if entry.get("text") == text:
                return
            if not isinstance(entry.get("history"), list):
                entry["history"] = []
            now = now_utc()
            if entry.get("text") and _minutes_between(str(entry.get("saved_at", "")), now) >= HISTORY_MINUTES:
                entry["history"].append({"text": entry["text"], "saved_at": entry.get("saved_at", "")})
            entry["text"], entry["saved_at"] = text, now

        _, problem = self._update(change)
        return problem

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
