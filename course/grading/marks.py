"""The marking record: every mark given to a written reflection, criterion by criterion, with who gave it and when.

Kept in `marks.sqlite` in the course folder, beside nbgrader's gradebook.db. Nothing in it is changed or deleted: a
new mark is a new row (the database refuses an update or a delete), so the history of a reflection's marks is
always there. Two roles:

- `first`: the marker's mark. The latest first mark of a reflection is its mark; `write_to_gradebook` puts its
  total and its comment into nbgrader's gradebook together, as formgrader would, so a score and its comment always
  come from the same marker and the same moment.
- `moderation`: a second, blind mark of a reflection in the moderation sample. It never reaches the gradebook;
  `agreement` compares it with the first mark, criterion by criterion.

Each mark keeps the fingerprint of the reflection it marked (`fingerprint`), so a reflection that changed since it
was marked (a resubmission) is found by comparing fingerprints, and feedback is never sent with a stale mark.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..core.contract import reflection_id
from .config import GradingError

MARKS_FILE = "marks.sqlite"
FIRST = "first"
MODERATION = "moderation"
ROLES = (FIRST, MODERATION)

SCHEMA = """
CREATE TABLE IF NOT EXISTS marks (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    trainee TEXT NOT NULL,
    module TEXT NOT NULL,
    role TEXT NOT NULL,
    marker TEXT NOT NULL,
    scores TEXT NOT NULL,
    comment TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    marked_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS marks_by_reflection ON marks (trainee, module, role, n);
CREATE TABLE IF NOT EXISTS moderation_sample (
    trainee TEXT NOT NULL,
    module TEXT NOT NULL,
    chosen_at TEXT NOT NULL,
    PRIMARY KEY (trainee, module)
);
CREATE TRIGGER IF NOT EXISTS marks_no_update BEFORE UPDATE ON marks
BEGIN SELECT RAISE(ABORT, 'a mark is never changed: record a new one'); END;
CREATE TRIGGER IF NOT EXISTS marks_no_delete BEFORE DELETE ON marks
BEGIN SELECT RAISE(ABORT, 'a mark is never deleted'); END;
"""


def fingerprint(text: str | None) -> str:
    """The reflection's fingerprint: sha256 of its text with line ends and outer white space made uniform."""
    norm = "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return hashlib.sha256(norm.strip().encode("utf-8")).hexdigest()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Mark:
    trainee: str
    module: str
    marker: str
    scores: dict[str, int]  # criterion id -> points given
    comment: str
    fingerprint: str  # of the reflection marked (fingerprint(text))
    role: str = FIRST
    marked_at: str = ""  # ISO time in UTC; record() sets it when empty
    n: int = 0  # its row number (record() sets it): later marks have larger numbers

    @property
    def total(self) -> int:
        return sum(self.scores.values())


@dataclass(frozen=True)
class Difference:
    trainee: str
    module: str
    criterion: str
    first: int
    first_marker: str
    second: int
    second_marker: str


@dataclass(frozen=True)
class CriterionAgreement:
    module: str
    criterion: str
    pairs: int
    agreed: int  # pairs given the same points
    kappa: float | None  # linearly weighted Cohen's kappa; None when it is undefined (no variation at all)
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def agreement(self) -> float:
        return self.agreed / self.pairs if self.pairs else 0.0


def criteria_points(module: str, pack_dir: Path | None = None) -> dict[str, int]:
    """The module's reflection criteria and the most points each can earn, from the case pack."""
    from ..core.cached import load_case_cached

    case = load_case_cached(pack_dir)
    try:
        m = case.module(module)
    except (KeyError, ValueError):
        raise GradingError(f"{module!r}: no such module in the case pack.") from None
    if m.reflection is None:
        raise GradingError(f"{module}: this module has no reflection to mark.")
    if not m.reflection.criteria:
        return {"overall": m.reflection.points}  # a holistic scheme: one line
    return {c.id: c.points for c in m.reflection.criteria}


def check_scores(module: str, scores: dict[str, int], pack_dir: Path | None = None) -> None:
    """GradingError naming the criterion when a score is missing, unknown, not a whole number or out of range."""
    allowed = criteria_points(module, pack_dir)
    unknown = sorted(set(scores) - set(allowed))
    if unknown:
        raise GradingError(f"{module}: no criterion {', '.join(unknown)} in its mark scheme.")
    missing = [c for c in allowed if c not in scores]
    if missing:
        raise GradingError(f"{module}: every criterion needs a score; missing: {', '.join(missing)}.")
    for c, v in scores.items():
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= allowed[c]:
            raise GradingError(f"{module}: criterion {c} takes a whole number from 0 to {allowed[c]}, not {v!r}.")


class MarkBook:
    """The course folder's marking record (marks.sqlite), appended to and never rewritten."""

    def __init__(self, course_dir: Path, pack_dir: Path | None = None):
        self.path = Path(course_dir) / MARKS_FILE
        self.pack_dir = pack_dir
        old_umask = os.umask(0o077)  # marks are the trainer's: no one else on a shared server reads them
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise GradingError(f"{self.path}: the marking record could not be opened ({e}).") from None
        finally:
            os.umask(old_umask)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> MarkBook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _mark(row) -> Mark:
        n, trainee, module, role, marker, scores, comment, fp, marked_at = row
        return Mark(trainee, module, marker, json.loads(scores), comment, fp, role, marked_at, n)

    def record(self, mark: Mark) -> Mark:
        """Add a mark (checked against the module's mark scheme) and return it as stored."""
        if mark.role not in ROLES:
            raise GradingError(f"a mark's role is one of {', '.join(ROLES)}, not {mark.role!r}.")
        if not mark.marker.strip():
            raise GradingError("a mark needs its marker's name.")
        check_scores(mark.module, mark.scores, self.pack_dir)
        marked_at = mark.marked_at or now_iso()
        cur = self.db.execute(
            "INSERT INTO marks (trainee, module, role, marker, scores, comment, fingerprint, marked_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                mark.trainee,
                mark.module,
                mark.role,
                mark.marker.strip(),
                json.dumps(mark.scores, sort_keys=True),
                mark.comment,
                mark.fingerprint,
                marked_at,
            ),
        )
        found = self.db.execute("SELECT * FROM marks WHERE n = ?", (cur.lastrowid,)).fetchone()
        return self._mark(found)

    def latest(self, trainee: str, module: str, role: str = FIRST) -> Mark | None:
        row = self.db.execute(
            "SELECT * FROM marks WHERE trainee = ? AND module = ? AND role = ? ORDER BY n DESC LIMIT 1",
            (trainee, module, role),
        ).fetchone()
        return self._mark(row) if row else None

    def history(self, trainee: str, module: str) -> list[Mark]:
        rows = self.db.execute(
            "SELECT * FROM marks WHERE trainee = ? AND module = ? ORDER BY n", (trainee, module)
        ).fetchall()
        return [self._mark(r) for r in rows]

    def marks(self, role: str | None = None, module: str | None = None) -> list[Mark]:
        """Every mark (oldest first), optionally of one role or one module."""
        sql, args = "SELECT * FROM marks WHERE 1 = 1", list[str]()
        if role:
            sql, args = sql + " AND role = ?", [*args, role]
        if module:
            sql, args = sql + " AND module = ?", [*args, module]
        return [self._mark(r) for r in self.db.execute(sql + " ORDER BY n", args).fetchall()]

    def latest_marks(self, role: str = FIRST) -> dict[tuple[str, str], Mark]:
        """(trainee, module) -> the latest mark of that role."""
        out: dict[tuple[str, str], Mark] = {}
        for m in self.marks(role):
            out[(m.trainee, m.module)] = m
        return out

    # Moderation -----------------------------------------------------------------------------------------------
    def moderation_sample(
        self,
        candidates: Iterable[tuple[str, str]],
        fraction: float = 0.10,
        minimum: int = 5,
        seed: int | None = None,
    ) -> list[tuple[str, str]]:
        """The reflections to double-mark blind: chosen once at random (fraction of the candidates, at least
        `minimum`, or all when there are fewer) and kept, so that asking again gives the same sample. Candidates
        not known when the sample was chosen are not added to it."""
        kept = self.db.execute("SELECT trainee, module FROM moderation_sample ORDER BY trainee, module").fetchall()
        if kept:
            return [(t, m) for t, m in kept]
        pool = sorted(set(candidates))
        size = min(len(pool), max(minimum, round(len(pool) * fraction)))
        chosen = sorted(random.Random(seed).sample(pool, size)) if size else []
        at = now_iso()
        self.db.executemany("INSERT INTO moderation_sample VALUES (?, ?, ?)", [(t, m, at) for t, m in chosen])
        return chosen

    def agreement(self, module: str | None = None) -> list[CriterionAgreement]:
        """For each module and criterion: the pairs marked twice (the latest first mark and the latest
        moderation mark of the same reflection, by different markers), how many agree, the linearly weighted
        kappa and the pairs that differ."""
        firsts = self.latest_marks(FIRST)
        seconds = self.latest_marks(MODERATION)
        by_criterion: dict[tuple[str, str], list[tuple[Mark, Mark]]] = {}
        for key, second in sorted(seconds.items()):
            first = firsts.get(key)
            if first is None or (module and key[1] != module) or first.marker == second.marker:
                continue
            for c in sorted(set(first.scores) & set(second.scores)):
                by_criterion.setdefault((key[1], c), []).append((first, second))
        out = []
        for (mod, c), pairs in sorted(by_criterion.items()):
            top = criteria_points(mod, self.pack_dir).get(c, 0)
            a = [f.scores[c] for f, _ in pairs]
            b = [s.scores[c] for _, s in pairs]
            diffs = tuple(
                Difference(f.trainee, mod, c, f.scores[c], f.marker, s.scores[c], s.marker)
                for f, s in pairs
                if f.scores[c] != s.scores[c]
            )
            out.append(
                CriterionAgreement(mod, c, len(pairs), len(pairs) - len(diffs), weighted_kappa(a, b, top), diffs)
            )
        return out


def weighted_kappa(a: list[int], b: list[int], top: int) -> float | None:
    """Cohen's kappa with linear weights for two markers' scores on a 0..top scale; None when undefined."""
    if not a or len(a) != len(b):
        return None
    k = top + 1
    n = len(a)
    if k < 2:
        return None
    w = [[1 - abs(i - j) / (k - 1) for j in range(k)] for i in range(k)]
    observed = sum(w[x][y] for x, y in zip(a, b, strict=True)) / n
    pa = [a.count(i) / n for i in range(k)]
    pb = [b.count(j) / n for j in range(k)]
    expected = sum(w[i][j] * pa[i] * pb[j] for i in range(k) for j in range(k))
    if expected >= 1:
        return None
    return (observed - expected) / (1 - expected)


# The autograded notebook and the gradebook ---------------------------------------------------------------------
def reflection_text(course_dir: Path, trainee: str, module: str) -> str | None:
    """The reflection as autograded (the text PlaceReflection put in its graded cell), or None if there is none."""
    import nbformat

    path = Path(course_dir) / "autograded" / trainee / module / f"{module}.ipynb"
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None
    want = reflection_id(module)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == want:
            return str(cell.source)
    return None


def write_to_gradebook(course_dir: Path, mark: Mark) -> None:
    """Put a first mark's total and comment into nbgrader's gradebook, as formgrader's save would: the manual
    score of the reflection's grade and the manual comment of its cell, in one transaction."""
    from nbgrader.api import Gradebook, MissingEntry

    from .export import _gradebook_url

    if mark.role != FIRST:
        raise GradingError("only a first mark goes into the gradebook; moderation marks stay in the record.")
    url, course_id = _gradebook_url(Path(course_dir).resolve())
    gid = reflection_id(mark.module)
    with Gradebook(url, course_id) as gb:
        try:
            grade = gb.find_grade(gid, mark.module, mark.module, mark.trainee)
            comment = gb.find_comment(gid, mark.module, mark.module, mark.trainee)
        except MissingEntry:
            raise GradingError(
                f"{mark.trainee}/{mark.module}: no autograded submission with a reflection in the gradebook."
            ) from None
        if mark.total > grade.max_score:
            raise GradingError(f"{mark.trainee}/{mark.module}: {mark.total} is over the {grade.max_score:g} points.")
        grade.manual_score = float(mark.total)
        grade.needs_manual_grade = False  # as formgrader's GradeHandler.put does once a manual score is set
        comment.manual_comment = mark.comment
        gb.db.commit()
