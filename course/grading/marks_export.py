"""marks.csv: every reflection's mark criterion by criterion, with its marker, time and comment, for a spreadsheet.

One row per trainee, module, role and criterion, from the marking record (marks.sqlite: the latest first mark and
the latest blind moderation mark of each reflection), and one row for a reflection marked in formgrader only (the
gradebook holds its total and comment but no criteria, marker or time). `status` says whether the mark is the one
the trainee is sent (course.grading.readiness) or why not. Every cell a spreadsheet would evaluate is written as
text (course.core.contract.spreadsheet_safe).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..core.contract import reflection_id, spreadsheet_safe, trainee_id_problem
from .config import DEFAULT_COURSE_DIR, GradingError
from .marks import FIRST, MODERATION, MarkBook, criteria_points
from .readiness import READY, readiness_in

MARKS_CSV = "marks.csv"
FIELDS = [
    "trainee",
    "module",
    "criterion",
    "score",
    "max_score",
    "role",
    "marker",
    "marked_at",
    "comment",
    "mark_total",
    "status",
]
FORMGRADER = "whole reflection (marked in formgrader)"


def marks_rows(course_dir: Path) -> list[dict]:
    """The rows of marks.csv, sorted by trainee, module, role (first, then moderation) and criterion."""
    from nbgrader.api import Gradebook

    from .export import _gradebook_url

    course_dir = Path(course_dir).resolve()
    url, course_id = _gradebook_url(course_dir)
    rows: list[dict] = []
    with Gradebook(url, course_id) as gb, MarkBook(course_dir) as book:
        firsts, seconds = book.latest_marks(FIRST), book.latest_marks(MODERATION)
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            module, gid = assignment.name, reflection_id(assignment.name)
            for sub in sorted(assignment.submissions, key=lambda s: s.student.id):
                trainee = sub.student.id
                grade = next((g for nb in sub.notebooks for g in nb.grades if g.name == gid), None)
                if grade is None or trainee_id_problem(trainee):
                    continue
                state = readiness_in(gb, book, course_dir, trainee, module)
                first = firsts.get((trainee, module))
                status = "sent with feedback" if state.ready else f"not sent: {state.reason}"
                if first is not None and state.ready and state.marker != first.marker:
                    status = "replaced in formgrader: the gradebook holds another mark"
                for mark, role_status in ((first, status), (seconds.get((trainee, module)), "moderation only")):
                    if mark is None:
                        continue
                    tops = _tops(module)
                    for criterion, points in sorted(mark.scores.items()):
                        rows.append(
                            {
                                "trainee": trainee,
                                "module": module,
                                "criterion": criterion,
                                "score": points,
                                "max_score": tops.get(criterion, ""),
                                "role": mark.role,
                                "marker": mark.marker,
                                "marked_at": mark.marked_at,
                                "comment": mark.comment,
                                "mark_total": mark.total,
                                "status": role_status,
                            }
                        )
                if first is None and grade.manual_score is not None:
                    comment = gb.find_comment(gid, module, module, trainee).manual_comment or ""
                    rows.append(
                        {
                            "trainee": trainee,
                            "module": module,
                            "criterion": FORMGRADER,
                            "score": float(grade.manual_score),
                            "max_score": float(grade.max_score),
                            "role": FIRST,
                            "marker": "",
                            "marked_at": "",
                            "comment": comment,
                            "mark_total": float(grade.manual_score),
                            "status": "sent with feedback" if state.state == READY else f"not sent: {state.reason}",
                        }
                    )
    return rows


def _tops(module: str) -> dict[str, int]:
    try:
        return criteria_points(module)
    except GradingError:
        return {}


def write_marks_csv(course_dir: Path = DEFAULT_COURSE_DIR, out_dir: Path | None = None, log=print) -> Path:
    course_dir = Path(course_dir).resolve()
    out = (Path(out_dir) if out_dir else course_dir) / MARKS_CSV
    rows = marks_rows(course_dir)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows({k: spreadsheet_safe(v) for k, v in r.items()} for r in rows)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(buf.getvalue(), encoding="utf-8")
    except OSError as e:
        raise GradingError(f"{e.filename or out}: could not write {MARKS_CSV} ({e.strerror or e}).") from None
    log(f"Wrote {out} ({len(rows)} row(s): each reflection's mark per criterion, marker, time and comment).")
    return out
