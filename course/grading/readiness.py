"""Whether a submission's marks may go back to its trainee, and what a resubmission does to a mark already given.

nbgrader keeps a reflection's manual score and comment when a trainee resubmits and the submission is autograded
again (measured on 0.9.6: SaveAutoGrades sets `needs_manual_grade` again but leaves `manual_score` and
`manual_comment` as they were, and `generate_feedback` sends them). So an old "No reflection was submitted" comment
and its 0 would reach the trainee beside their new reflection. Here:

- `readiness` says, for one submission, whether its feedback is right to send, and if not, why, in plain words:
  resubmitted but not graded again; the reflection still needs marking; marked before a resubmission; the
  reflection changed since the mark in the marking record (marks.sqlite) was given; a comment still flagged stale.
- `settle_resubmissions`, run by `course grade` after grading, looks at each submission graded again: a mark
  whose reflection is word for word the one marked stands (nbgrader's flag is cleared, as formgrader's save
  would); any other mark given before the resubmission is stale, and its comment is flagged in the gradebook
  (STALE_NOTE at its start), so the marker sees it in formgrader and feedback refuses it until it is rewritten.

A mark given in formgrader has no record in marks.sqlite. It is accepted as it stands when the gradebook no longer
asks for a grader: nbgrader asks again at every autograde of a manually marked answer, so such a mark was saved
after the latest grading of the submission.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..core.contract import reflection_id
from .autograde import STATE_DIR, Submission, is_graded
from .marks import Mark, MarkBook, fingerprint, reflection_text

STALE_NOTE = (
    "[Written for an earlier submission: the trainee has resubmitted since. Rewrite this comment (and check the "
    "score) for the new reflection; feedback is not sent while this line is here.]"
)
STALE_MARK = "[Written for an earlier submission"

READY = "ready"
NOT_REGRADED = "resubmitted, not graded again"
NEEDS_MARKING = "needs marking"
MARKED_BEFORE_RESUBMISSION = "marked before a resubmission"
CHANGED_SINCE_MARKED = "changed since marked"


@dataclass(frozen=True)
class Readiness:
    trainee: str
    module: str
    state: str  # READY or one of the reasons above
    reason: str = ""  # plain words for the trainer when it is not ready; how it was marked when it is
    marker: str = ""  # who gave the mark that would be sent ("" for formgrader or no mark)
    marked_at: str = ""

    @property
    def ready(self) -> bool:
        return self.state == READY

    def __str__(self) -> str:
        return f"{self.trainee}/{self.module}: {self.reason}"


def _score(value) -> str:
    return "none" if value is None else f"{float(value):g}"


def _same_as_record(grade, comment, mark: Mark | None) -> bool:
    """The gradebook holds exactly this mark (its total and comment): it was written there by write_to_gradebook."""
    return (
        mark is not None
        and grade.manual_score is not None
        and float(grade.manual_score) == float(mark.total)
        and (comment.manual_comment or "") == mark.comment
    )


def readiness_in(gb, book: MarkBook, course_dir: Path, trainee: str, module: str) -> Readiness:
    """Is this submission's feedback right to send? (gb: an open nbgrader Gradebook.)"""
    from nbgrader.api import MissingEntry

    course_dir = Path(course_dir)
    sub = Submission(trainee, module, course_dir / "submitted" / trainee / module)
    if sub.folder.is_dir() and not is_graded(course_dir, sub):
        return Readiness(
            trainee, module, NOT_REGRADED, "resubmitted after it was graded: run `course grade` first, then mark it"
        )
    gid = reflection_id(module)
    try:
        grade = gb.find_grade(gid, module, module, trainee)
        comment = gb.find_comment(gid, module, module, trainee)
    except MissingEntry:
        return Readiness(trainee, module, READY, "no reflection in this module")
    written = comment.manual_comment or ""
    if STALE_MARK in written:
        return Readiness(
            trainee,
            module,
            MARKED_BEFORE_RESUBMISSION,
            "its comment was written for an earlier submission and is still flagged as such: rewrite it "
            "(Manual Grading, or `course mark`)",
        )
    if grade.needs_manual_grade:
        if grade.manual_score is not None or written:
            return Readiness(
                trainee,
                module,
                MARKED_BEFORE_RESUBMISSION,
                f"marked ({_score(grade.manual_score)} of {float(grade.max_score):g}) before the trainee "
                "resubmitted: mark the new reflection",
            )
        return Readiness(trainee, module, NEEDS_MARKING, "the reflection still needs marking")
    mark = book.latest(trainee, module)
    if _same_as_record(grade, comment, mark):
        assert mark is not None
        if mark.fingerprint != fingerprint(reflection_text(course_dir, trainee, module)):
            return Readiness(
                trainee,
                module,
                CHANGED_SINCE_MARKED,
                f"the reflection changed since {mark.marker} marked it ({mark.marked_at}): mark it again",
                mark.marker,
                mark.marked_at,
            )
        return Readiness(trainee, module, READY, f"marked by {mark.marker}", mark.marker, mark.marked_at)
    if grade.manual_score is None:
        return Readiness(trainee, module, READY, "scored by nbgrader (no reflection was written)")
    return Readiness(trainee, module, READY, "marked in formgrader after its latest grading")


def readiness(course_dir: Path, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Readiness]:
    """(trainee, module) -> whether its feedback is right to send, for every pair given."""
    from nbgrader.api import Gradebook

    from .export import _gradebook_url

    course_dir = Path(course_dir).resolve()
    url, course_id = _gradebook_url(course_dir)
    out: dict[tuple[str, str], Readiness] = {}
    with Gradebook(url, course_id) as gb, MarkBook(course_dir) as book:
        for trainee, module in pairs:
            out[(trainee, module)] = readiness_in(gb, book, course_dir, trainee, module)
    return out


@dataclass
class Settled:
    kept: list[str]  # trainee/module: resubmitted with the same reflection; the recorded mark stands
    stale: list[str]  # trainee/module: what was stale, in plain words


GRADED_TEXTS = "reflections.json"  # in .grade-state/: trainee/module -> fingerprint of the reflection last graded


def _graded_texts(course_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((course_dir / STATE_DIR / GRADED_TEXTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _keep_graded_texts(course_dir: Path, texts: dict[str, str]) -> None:
    path = course_dir / STATE_DIR / GRADED_TEXTS
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(texts, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def settle_resubmissions(course_dir: Path, keys: list[str]) -> Settled:
    """After grading the submissions `keys` (trainee/module) again: a mark whose reflection did not change stands
    (nbgrader's flag is cleared); every other mark given before the grading is stale and its comment is flagged.

    Whether the reflection changed: for a mark in the marking record, against the fingerprint kept with it; for a
    mark given in formgrader, against the reflection as it was last graded (kept in .grade-state/, written here
    after every run). Without either, the mark counts as stale: a trainer re-reads rather than sends blind."""
    from nbgrader.api import Gradebook, MissingEntry

    from .export import _gradebook_url

    course_dir = Path(course_dir).resolve()
    settled = Settled([], [])
    if not keys:
        return settled
    url, course_id = _gradebook_url(course_dir)
    texts = _graded_texts(course_dir)
    with Gradebook(url, course_id) as gb, MarkBook(course_dir) as book:
        for key in keys:
            trainee, module = key.split("/", 1)
            gid = reflection_id(module)
            now = fingerprint(reflection_text(course_dir, trainee, module))
            before, texts[key] = texts.get(key), now
            try:
                grade = gb.find_grade(gid, module, module, trainee)
                comment = gb.find_comment(gid, module, module, trainee)
            except MissingEntry:
                continue
            written = comment.manual_comment or ""
            if not grade.needs_manual_grade or (grade.manual_score is None and not written) or STALE_MARK in written:
                continue  # never marked by hand, or already flagged: nothing new to say
            mark = book.latest(trainee, module)
            recorded = _same_as_record(grade, comment, mark)
            marked_text = mark.fingerprint if recorded and mark else before
            by = f"{mark.marker}'s mark" if recorded and mark else "the mark given in formgrader"
            if marked_text == now:
                grade.needs_manual_grade = False
                settled.kept.append(f"{key}: graded again with the same reflection: {by} stands")
                continue
            if written:
                comment.manual_comment = f"{STALE_NOTE}\n\n{written}"
            settled.stale.append(
                f"{key}: the mark given before the resubmission ({_score(grade.manual_score)} of "
                f"{float(grade.max_score):g}{' by ' + mark.marker if recorded and mark else ''}) is stale: mark the "
                "new reflection (its old comment is flagged and is not sent)"
            )
        gb.db.commit()
    _keep_graded_texts(course_dir, texts)
    return settled


def marks_to_redo(course_dir: Path) -> list[str]:
    """Every reflection marked before a resubmission and not marked again yet (trainee/module), from the
    gradebook: what `course grade` lists at the end of every run until it is done."""
    from nbgrader.api import Gradebook

    from .export import _gradebook_url

    url, course_id = _gradebook_url(Path(course_dir).resolve())
    out = []
    with Gradebook(url, course_id) as gb:
        for assignment in gb.assignments:
            gid = reflection_id(assignment.name)
            for sub in assignment.submissions:
                for nb in sub.notebooks:
                    comments = {c.name: c.manual_comment or "" for c in nb.comments}
                    for g in nb.grades:
                        if g.name != gid:
                            continue
                        written = comments.get(gid, "")
                        if STALE_MARK in written or (g.needs_manual_grade and (g.manual_score is not None or written)):
                            out.append(f"{sub.student.id}/{assignment.name}")
    return sorted(set(out))
