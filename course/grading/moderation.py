"""The moderation report: which reflections are in the blind double-marking sample, how many are double-marked,
and how far the two markers agree, per module and criterion, in words a marking team reads before marking the rest.

It reads the marking record (course.grading.marks.MarkBook: the sample, chosen once, and `agreement`) and the
gradebook (which reflections exist, to choose the sample from when none is chosen yet), and writes
moderation.md and moderation.csv (spreadsheet-safe) in the course folder.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ..core.contract import markdown_literal, reflection_id, spreadsheet_safe, trainee_id_problem
from .config import DEFAULT_COURSE_DIR, GradingError
from .marks import FIRST, MODERATION, CriterionAgreement, MarkBook

CSV_FIELDS = [
    "module",
    "criterion",
    "pairs",
    "agreed",
    "agreement",
    "weighted_kappa",
    "in_words",
    "trainee",
    "first_marker",
    "first_score",
    "second_marker",
    "second_score",
]


@dataclass
class ModerationReport:
    sample: list[tuple[str, str]]
    first_marked: list[tuple[str, str]]  # in the sample, with a first mark
    double_marked: list[tuple[str, str]]  # in the sample, with a first and a blind second mark by someone else
    agreement: list[CriterionAgreement]
    criterion_text: dict[tuple[str, str], str]  # (module, criterion id) -> its words in the mark scheme

    @property
    def waiting(self) -> list[tuple[str, str]]:
        return [p for p in self.sample if p not in self.double_marked]


def kappa_in_words(kappa: float | None) -> str:
    """Landis and Koch's bands, the ones a marking team is likely to have met."""
    if kappa is None:
        return "cannot be worked out yet (every mark was the same)"
    if kappa < 0:
        return "worse than chance: talk it through before marking more"
    if kappa == 0:
        return "no better than chance: talk it through before marking more"
    for top, words in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if kappa <= top:
            return f"{words} agreement"
    return "almost perfect agreement"


def reflections_in_gradebook(course_dir: Path) -> list[tuple[str, str]]:
    """Every (trainee, module) whose autograded submission has a reflection: the pool the sample is drawn from."""
    from nbgrader.api import Gradebook

    from .export import _gradebook_url

    url, course_id = _gradebook_url(Path(course_dir).resolve())
    pool = []
    with Gradebook(url, course_id) as gb:
        for assignment in gb.assignments:
            gid = reflection_id(assignment.name)
            for sub in assignment.submissions:
                if trainee_id_problem(sub.student.id) is None and any(
                    g.name == gid for nb in sub.notebooks for g in nb.grades
                ):
                    pool.append((sub.student.id, assignment.name))
    return sorted(pool)


def _criterion_text(modules: set[str]) -> dict[tuple[str, str], str]:
    from ..core.cached import load_case_cached

    case = load_case_cached()
    out = {}
    for mid in modules:
        try:
            reflection = case.module(mid).reflection
        except (KeyError, ValueError):
            continue
        if reflection is not None:
            out[(mid, "overall")] = "the reflection as a whole"
            out.update({(mid, c.id): c.text for c in reflection.criteria})
    return out


def moderation_report(
    course_dir: Path = DEFAULT_COURSE_DIR, fraction: float = 0.10, minimum: int = 5, seed: int | None = None
) -> ModerationReport:
    """The sample (chosen now from the gradebook's reflections if it was never chosen), who has marked what, and
    the agreement per module and criterion."""
    course_dir = Path(course_dir).resolve()
    with MarkBook(course_dir) as book:
        sample = book.moderation_sample(reflections_in_gradebook(course_dir), fraction, minimum, seed)
        firsts = book.latest_marks(FIRST)
        seconds = book.latest_marks(MODERATION)
        agreement = book.agreement()
    first_marked = [p for p in sample if p in firsts]
    double = [p for p in first_marked if p in seconds and seconds[p].marker != firsts[p].marker]
    modules = {m for _, m in sample} | {a.module for a in agreement}
    return ModerationReport(sample, first_marked, double, agreement, _criterion_text(modules))


def report_markdown(r: ModerationReport) -> str:
    lines = ["# Moderation: do the markers agree?", ""]
    if not r.sample:
        return "\n".join([*lines, "No reflections have been graded yet, so there is no sample to double-mark.", ""])
    lines += [
        f"**The sample:** {len(r.sample)} reflection(s) chosen at random to be marked twice, blind (the second marker "
        "does not see the first mark). "
        f"{len(r.double_marked)} of {len(r.sample)} are double-marked; {len(r.first_marked)} have a first mark in "
        "the marking record (a mark given only in formgrader is not recorded there, and cannot be compared).",
        "",
        "| Trainee | Module | Double-marked |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {markdown_literal(t)} | {m} | {'yes' if (t, m) in r.double_marked else 'not yet'} |" for t, m in r.sample
    ]
    lines += [
        "",
        "## Agreement, criterion by criterion",
        "",
        "For each line of the mark scheme: how many reflections both markers scored, how often they gave the same "
        "points, and the weighted kappa (agreement beyond what chance would give, counting a near miss as partly "
        "agreeing). Talk through every pair that differs, and agree what the line asks for, before marking the rest.",
        "",
    ]
    if not r.agreement:
        lines += ["No reflection has been marked by two different markers yet.", ""]
    for a in r.agreement:
        words = r.criterion_text.get((a.module, a.criterion), a.criterion)
        kappa = "not defined" if a.kappa is None else f"{a.kappa:.2f}"
        lines += [
            f"### {a.module}: {markdown_literal(words)}",
            "",
            f"- Marked twice: {a.pairs} reflection(s); the same points in {a.agreed} of {a.pairs} ({a.agreement:.0%}).",
            f"- Weighted kappa: {kappa}, {kappa_in_words(a.kappa)} (1 is full agreement, 0 what chance would give).",
        ]
        if a.pairs < 5:
            lines.append(f"- Only {a.pairs} pair(s) so far: read the pairs rather than the numbers.")
        if a.differences:
            lines += ["- Where the markers differ:", ""]
            lines += [
                "  | Trainee | First marker | Points | Second marker | Points |",
                "  | --- | --- | --- | --- | --- |",
            ]
            lines += [
                f"  | {markdown_literal(d.trainee)} | {markdown_literal(d.first_marker)} | {d.first} | "
                f"{markdown_literal(d.second_marker)} | {d.second} |"
                for d in a.differences
            ]
        lines.append("")
    return "\n".join(lines)


def report_csv(r: ModerationReport) -> str:
    """One row per module and criterion, then one row per pair that differs (with both markers and scores)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for a in r.agreement:
        base = {
            "module": a.module,
            "criterion": a.criterion,
            "pairs": a.pairs,
            "agreed": a.agreed,
            "agreement": round(a.agreement, 3),
            "weighted_kappa": "" if a.kappa is None else round(a.kappa, 3),
            "in_words": kappa_in_words(a.kappa),
        }
        w.writerow({k: spreadsheet_safe(v) for k, v in base.items()})
        for d in a.differences:
            row = {
                "module": a.module,
                "criterion": a.criterion,
                "trainee": d.trainee,
                "first_marker": d.first_marker,
                "first_score": d.first,
                "second_marker": d.second_marker,
                "second_score": d.second,
            }
            w.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return buf.getvalue()


def write_report(course_dir: Path = DEFAULT_COURSE_DIR, log=print, **sample_options) -> tuple[Path, Path]:
    """moderation.md and moderation.csv in the course folder; the Markdown is also printed."""
    course_dir = Path(course_dir).resolve()
    report = moderation_report(course_dir, **sample_options)
    md, table = course_dir / "moderation.md", course_dir / "moderation.csv"
    text = report_markdown(report)
    try:
        md.write_text(text, encoding="utf-8")
        table.write_text(report_csv(report), encoding="utf-8")
    except OSError as e:
        raise GradingError(f"{e.filename or course_dir}: could not write the report ({e.strerror or e}).") from None
    log(text)
    log(f"Written to {md} and {table}.")
    return md, table
