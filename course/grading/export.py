"""Export: grades.csv (one row per trainee, module and graded item, with the grader's comment) and a Markdown summary
per trainee. (marks.csv, each reflection's mark per criterion with marker and time, is course.grading.marks_export.)

Trainee ids come from folder names a trainee may have chosen: in grades.csv a cell a spreadsheet would evaluate
is written as text; each summary's file name is a safe stem of the id (course.core.contract.file_stem), so
none is `index.md` or outside summaries/; in Markdown an id is shown as written, never as markup.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..core.contract import file_stem, grade_kind, markdown_literal, spreadsheet_safe, trainee_id_problem
from .config import DEFAULT_COURSE_DIR, GradingError, load_config

FIELDS = [
    "trainee",
    "module",
    "item",
    "kind",
    "score",
    "max_score",
    "auto_score",
    "manual_score",
    "needs_manual_grade",
    "submitted_at",
    "comment",  # the grader's comment (nbgrader's own "No response." for an empty answer); marks.csv has the rest
]


def _gradebook_url(course_dir: Path) -> tuple[str, str]:
    """The gradebook's address and course id; GradingError when a gradebook file is named but not there."""
    cfg = load_config(course_dir)
    url = str(cfg.CourseDirectory.db_url)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        raise GradingError(
            f"{course_dir}: no gradebook here ({url[len('sqlite:///') :]} does not exist). Give the course folder "
            "with --course-dir, or run `course release` and `course grade` first."
        )
    return url, str(cfg.CourseDirectory.course_id)


def gradebook_rows(course_dir: Path) -> list[dict]:
    """One row per trainee, module and graded item, read from the gradebook."""
    from nbgrader.api import Gradebook

    url, course_id = _gradebook_url(Path(course_dir).resolve())
    rows = []
    with Gradebook(url, course_id) as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for sub in sorted(assignment.submissions, key=lambda s: s.student.id):
                for nb in sub.notebooks:
                    comments = {c.name: c.manual_comment or c.auto_comment or "" for c in nb.comments}
                    for g in sorted(nb.grades, key=lambda g: g.name):
                        rows.append(
                            {
                                "trainee": sub.student.id,
                                "module": assignment.name,
                                "item": g.name,
                                "kind": grade_kind(g.name),
                                "score": round(float(g.score), 3),
                                "max_score": float(g.max_score),
                                "auto_score": None if g.auto_score is None else round(float(g.auto_score), 3),
                                "manual_score": g.manual_score,
                                "needs_manual_grade": bool(g.needs_manual_grade),
                                "submitted_at": sub.timestamp.isoformat() if sub.timestamp else "",
                                "comment": comments.get(g.name, ""),
                            }
                        )
    return rows


def export(
    course_dir: Path = DEFAULT_COURSE_DIR, out_dir: Path | None = None, log=print, problems: list[str] | None = None
) -> tuple[Path, Path]:
    """grades.csv (one row per trainee, module and item) and summaries/<trainee>.md; returns their paths.

    A trainee id nbgrader cannot have graded as written (`lee[2]`, `pat `) is left out and named in `problems`.
    """
    course_dir = Path(course_dir).resolve()
    out_dir = Path(out_dir) if out_dir else course_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise GradingError(f"--out {out_dir} is a file; give a folder for grades.csv and summaries/.")
    problems = problems if problems is not None else []
    rows = []
    for r in gradebook_rows(course_dir):
        why = trainee_id_problem(r["trainee"])
        if why is None:
            rows.append(r)
        elif (msg := f"{r['trainee']!r}: left out of the export: {why}.") not in problems:
            problems.append(msg)
    csv_path = out_dir / "grades.csv"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in r.items()} for r in rows)
    summaries = out_dir / "summaries"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        csv_path.write_text(buf.getvalue(), encoding="utf-8")
        summaries.mkdir(exist_ok=True)
        by_trainee: dict[str, list[dict]] = {}
        for r in rows:
            by_trainee.setdefault(r["trainee"], []).append(r)
        index = [
            "# Cohort summary",
            "",
            "| Trainee | Score | Out of | Waiting for a grader |",
            "| --- | --- | --- | --- |",
        ]
        for trainee, items in sorted(by_trainee.items()):
            stem = file_stem(trainee)
            (summaries / f"{stem}.md").write_text(trainee_summary(trainee, items), encoding="utf-8")
            waiting = sum(r["needs_manual_grade"] for r in items)
            index.append(
                f"| [{markdown_literal(trainee)}]({stem}.md) | {sum(r['score'] for r in items):g} | "
                f"{sum(r['max_score'] for r in items):g} | {waiting} |"
            )
        (summaries / "index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    except OSError as e:
        raise GradingError(f"{e.filename or out_dir}: could not write the export ({e.strerror or e}).") from None
    log(f"Wrote {csv_path} ({len(rows)} rows) and {len(by_trainee)} trainee summaries in {summaries}.")
    for p in problems:
        log(f"  - {p}")
    return csv_path, summaries


def trainee_summary(trainee: str, items: list[dict]) -> str:
    lines = [
        f"# {markdown_literal(trainee)}",
        "",
        "| Module | Decisions | Reflection | Total |",
        "| --- | --- | --- | --- |",
    ]
    by_module: dict[str, list[dict]] = {}
    for r in items:
        by_module.setdefault(r["module"], []).append(r)
    for module, rs in sorted(by_module.items()):
        dec = [r for r in rs if r["kind"] == "decision"]
        ref = [r for r in rs if r["kind"] == "reflection"]
        ref_text = (
            "; ".join(
                "waiting for a grader" if r["needs_manual_grade"] else f"{r['score']:g} / {r['max_score']:g}"
                for r in ref
            )
            or "none"
        )
        lines.append(
            f"| {module} | {sum(r['score'] for r in dec):g} / {sum(r['max_score'] for r in dec):g} | "
            f"{ref_text} | {sum(r['score'] for r in rs):g} / {sum(r['max_score'] for r in rs):g} |"
        )
    waiting = [r for r in items if r["needs_manual_grade"]]
    if waiting:
        lines += ["", f"{len(waiting)} answer(s) still need a grader: the totals above will rise when they are marked."]
    return "\n".join(lines) + "\n"
