"""Export: grades.csv (one row per trainee, module and graded item) and a Markdown summary per trainee."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..core.contract import grade_kind
from .config import DEFAULT_COURSE_DIR, load_config


def gradebook_rows(course_dir: Path) -> list[dict]:
    """One row per trainee, module and graded item, read from the gradebook."""
    from nbgrader.api import Gradebook

    cfg = load_config(course_dir)
    rows = []
    with Gradebook(cfg.CourseDirectory.db_url, cfg.CourseDirectory.course_id) as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for sub in sorted(assignment.submissions, key=lambda s: s.student.id):
                for nb in sub.notebooks:
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
                            }
                        )
    return rows


def export(course_dir: Path = DEFAULT_COURSE_DIR, out_dir: Path | None = None, log=print) -> tuple[Path, Path]:
    """grades.csv (one row per trainee, module and item) and summaries/<trainee>.md; returns their paths."""
    course_dir = Path(course_dir).resolve()
    out_dir = Path(out_dir) if out_dir else course_dir
    rows = gradebook_rows(course_dir)
    csv_path = out_dir / "grades.csv"
    fields = [
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
    ]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path.write_text(buf.getvalue(), encoding="utf-8")
    summaries = out_dir / "summaries"
    summaries.mkdir(exist_ok=True)
    by_trainee: dict[str, list[dict]] = {}
    for r in rows:
        by_trainee.setdefault(r["trainee"], []).append(r)
    index = ["# Cohort summary", "", "| Trainee | Score | Out of | Waiting for a grader |", "| --- | --- | --- | --- |"]
    for trainee, items in sorted(by_trainee.items()):
        (summaries / f"{trainee}.md").write_text(trainee_summary(trainee, items), encoding="utf-8")
        waiting = sum(r["needs_manual_grade"] for r in items)
        index.append(
            f"| [{trainee}]({trainee}.md) | {sum(r['score'] for r in items):g} | "
            f"{sum(r['max_score'] for r in items):g} | {waiting} |"
        )
    (summaries / "index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    log(f"Wrote {csv_path} ({len(rows)} rows) and {len(by_trainee)} trainee summaries in {summaries}.")
    return csv_path, summaries


def trainee_summary(trainee: str, items: list[dict]) -> str:
    lines = [f"# {trainee}", "", "| Module | Decisions | Reflection | Total |", "| --- | --- | --- | --- |"]
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
