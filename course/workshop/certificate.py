"""CPD records: which modules a trainee completed, their reflections, a printable certificate and their
reflective log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.answers import AnswersError, clean_text, read_answers
from ..core.contract import ANSWER_PLACEHOLDER, REFLECTION_PREFIX, file_stem, markdown_literal
from ..core.records import Case, Module
from ..render.decision import choice_texts, when_text
from ..render.style import esc
from .collect import Submission, WorkshopError, collect, collect_trainee
from .run import html_to_pdf


@dataclass(frozen=True)
class TraineeRecord:
    trainee: str
    completed: tuple[Module, ...]
    started: tuple[Module, ...]  # some decisions answered, not all
    submission: Submission
    reflections: dict  # module id -> reflection text found in their notebook

    @property
    def minutes(self) -> int:
        return sum(m.minutes for m in self.completed)


def completed_modules(case: Case, sub: Submission) -> tuple[tuple[Module, ...], tuple[Module, ...]]:
    """(completed, started): a module is completed when every one of its decisions has a first answer;
    started when some but not all have."""
    done, started = [], []
    for m in case.modules:
        ids = [d.id for d in case.decisions_in(m.id)]
        if not ids:
            continue
        n = sum(1 for d in ids if sub.answered(d))
        if n == len(ids):
            done.append(m)
        elif n:
            started.append(m)
    return tuple(done), tuple(started)


def find_reflections(case: Case, paths: Iterable[Path]) -> dict[str, str]:
    """Reflection text from the trainee's notebooks: the markdown cell whose nbgrader grade_id is
    'reflection-<module id>', without nbgrader's placeholder. Unreadable notebooks, and anything in them that is
    not in a notebook's shape, are skipped."""
    out: dict[str, str] = {}
    modules = {m.id for m in case.modules}
    for p in paths:
        try:
            nb = json.loads(Path(p).read_bytes().decode("utf-8-sig"))
        except (OSError, ValueError, RecursionError):
            continue
        cells = nb.get("cells") if isinstance(nb, dict) else None
        for cell in cells if isinstance(cells, list) else []:
            meta = cell.get("metadata") if isinstance(cell, dict) else None
            meta = meta.get("nbgrader") if isinstance(meta, dict) else None
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(gid, str) or not gid.startswith(REFLECTION_PREFIX):
                continue
            if gid[len(REFLECTION_PREFIX) :] not in modules:
                continue
            src = cell.get("source", "")
            text = "".join(x for x in src if isinstance(x, str)) if isinstance(src, list) else str(src)
            text = clean_text(text).replace(ANSWER_PLACEHOLDER, "").strip()
            if text:
                out[gid[len(REFLECTION_PREFIX) :]] = text
    return out


def trainee_notebooks(case: Case, sub: Submission) -> list[Path]:
    """The trainee's module notebooks: beside each answers file, and, when an answers file sits in a module
    folder (<trainee or workspace>/<module>/answers.json), in the sibling module folders too, so that a
    reflection written in a module with no saved answer is still found."""
    modules = [m.id for m in case.modules]
    found: set[Path] = set()
    for f in sub.files:
        found.update(f.parent.glob("*.ipynb"))
        if f.parent.name in modules:
            found.update(p for m in modules if (p := f.parent.parent / m / f"{m}.ipynb").is_file())
    return sorted(found)


def box_reflections(case: Case, sub: Submission) -> dict[str, str]:
    """Reflections written in the pages' text box, from the trainee's answers files (module id -> text)."""
    out: dict[str, str] = {}
    for f in sub.files:
        try:
            answers = read_answers(f)
        except AnswersError:
            continue
        for m in case.modules:
            text = answers.reflection(m.id).strip()
            if text:
                out[m.id] = text
    return out


def trainee_record(case: Case, sub: Submission) -> TraineeRecord:
    notebooks = trainee_notebooks(case, sub)
    done, started = completed_modules(case, sub)
    # What the trainee wrote in the page's box, else what they wrote in the notebook's cell (JupyterLab).
    reflections = {**find_reflections(case, notebooks), **box_reflections(case, sub)}
    return TraineeRecord(sub.trainee, done, started, sub, reflections)


def _hours(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


CERT_CSS = """
body { font-family: Georgia, "Times New Roman", serif; color: #111; margin: 0; }
.certificate { max-width: 46rem; margin: 2rem auto; padding: 2.5rem 3rem; border: 6px double #0072B2; }
h1 { font-size: 2rem; text-align: center; margin: 0 0 0.3rem; }
.sub { text-align: center; font-size: 1.05rem; margin: 0 0 1.5rem; }
.name { text-align: center; font-size: 1.7rem; font-weight: bold; margin: 1rem 0; }
table { border-collapse: collapse; width: 100%; margin: 0.8rem 0; font-family: system-ui, Arial, sans-serif; }
th, td { border: 1px solid #888; padding: 0.35rem 0.6rem; text-align: left; }
td.num { text-align: right; }
.note { font-size: 0.92rem; color: #222; border-top: 1px solid #888; padding-top: 0.8rem; margin-top: 1.5rem; }
@page { size: A4; margin: 12mm; }
@media print { .certificate { margin: 0 auto; } }
"""


def certificate_html(case: Case, rec: TraineeRecord, name: str = "", on: dt.date | None = None) -> str:
    """A self-contained, printable CPD certificate listing exactly the modules the trainee completed."""
    on = on or dt.datetime.now(dt.UTC).date()
    who = name or rec.trainee
    rows = []
    for m in rec.completed:
        seen = rec.submission.activity.get(m.id) or {}
        activity = ""
        if seen.get("first_opened_at") and seen.get("last_seen_at"):
            activity = f"{when_text(seen['first_opened_at'], with_time=False)} to {when_text(seen['last_seen_at'], with_time=False)}"
        rows.append(
            f'<tr data-module="{esc(m.id)}"><td>{esc(m.title)}</td><td class="num">{m.minutes} min</td>'
            f"<td>{esc(activity) or 'not recorded'}</td></tr>"
        )
    if rows:
        table = (
            '<table><caption>Modules completed</caption><thead><tr><th scope="col">Module</th>'
            '<th scope="col">Estimated time</th><th scope="col">Recorded activity (first opened to last seen)'
            "</th></tr></thead><tbody>"
            + "".join(rows)
            + f'<tr><th scope="row">Total</th><td class="num" data-total-minutes="{rec.minutes}">'
            f"{_hours(rec.minutes)}</td><td></td></tr></tbody></table>"
        )
    else:
        table = (
            "<p><strong>No module has been completed yet</strong> (every decision in a module must be answered).</p>"
        )
    date_text = on.strftime("%d %B %Y").lstrip("0")
    return (
        f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>CPD record: {esc(who)}</title>'
        f'<style>{CERT_CSS}</style></head><body><main class="certificate">'
        f"<h1>Continuing professional development</h1>"
        f'<p class="sub">Record of participation in the course<br><strong>{esc(case.title)}</strong></p>'
        f'<p class="name" data-trainee>{esc(who)}</p>'
        f"<p>took part in the modules below, replaying the chronology as each agency held it, making and explaining "
        f"decisions at key points, and comparing them with what the review found.</p>"
        f"{table}"
        f"<p>Date of this record: <strong>{esc(date_text)}</strong>. Course {esc(case.id)}, version {esc(case.version)}.</p>"
        f'<p class="note">This is evidence of participation for continuing professional development. It is '
        f"<strong>not</strong> an assessment of competence. Estimated times come from the course's module plan; "
        f"recorded activity shows when each module was first opened and last used, not time spent. A reflective "
        f"log of the trainee's decisions and reasons accompanies this record.</p>"
        f"</main></body></html>"
    )


def reflective_log_markdown(case: Case, rec: TraineeRecord, name: str = "", on: dt.date | None = None) -> str:
    """The trainee's own record: each decision answered, their first answer, confidence and reasons, any later
    changes of mind, the review's position, and their written reflections. Everything the trainee wrote is
    shown as written and is never markup (course.core.contract.markdown_literal)."""
    on = on or dt.datetime.now(dt.UTC).date()
    who = markdown_literal(name or rec.trainee)
    lines = [
        f"# Reflective log: {who}",
        "",
        f"{case.title} (course {case.id}, version {case.version}). Exported {on.isoformat()}.",
        "",
        "This log is yours: your decisions and reasons as you recorded them, for supervision or a CPD "
        "portfolio. It is evidence of participation, not an assessment of competence.",
        "",
    ]
    sub = rec.submission
    completed = {m.id for m in rec.completed}
    for m in case.modules:
        decisions = [d for d in case.decisions_in(m.id) if sub.answered(d.id)]
        reflection = rec.reflections.get(m.id)
        if not decisions and not reflection:
            continue
        status = "completed" if m.id in completed else "started"
        lines += [f"## {m.title} ({status})", ""]
        for d in decisions:
            first = sub.first[d.id]
            role = d.role_title[:1].upper() + d.role_title[1:]
            when = markdown_literal(when_text(first.get("submitted_at", ""), with_time=False))
            lines += [
                f"### {role}, {d.date_text}",
                "",
                f"**Question.** {d.question}",
                "",
                f"- **Your first answer** ({when}): {_choices(d, first.get('choice'))}",
                f"- **Confidence:** {markdown_literal(first.get('confidence') or 'not recorded')} of 5",
                f"- **Your reasons:** {markdown_literal(first.get('rationale') or '(none written)')}",
            ]
            for rv in sub.entries.get(d.id, {}).get("revisions", []):
                change = markdown_literal(when_text(rv.get("submitted_at", ""), with_time=False))
                lines += [
                    f"- **Later change** ({change}): {_choices(d, rv.get('choice'))}"
                    f", confidence {markdown_literal(rv.get('confidence', '?'))} of 5. "
                    f"{markdown_literal(rv.get('rationale') or '')}".rstrip()
                ]
            lines += ["", f"**What the review found:** {d.review.summary}", ""]
        if reflection:
            lines += ["### Your reflection", "", markdown_literal(reflection, one_line=False), ""]
    if not sub.first and not rec.reflections:
        lines += ["No decisions have been recorded yet.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _write_one(case: Case, sub: Submission, out: Path, fmt: str, name: str, on, log: Path | None) -> list[Path]:
    rec = trainee_record(case, sub)
    page = certificate_html(case, rec, name=name, on=on)
    log = log or out.with_name(
        out.stem.replace("certificate", "reflective-log") + ".md"
        if "certificate" in out.stem
        else out.stem + "-reflective-log.md"
    )
    written = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "pdf":
            import tempfile

            with tempfile.TemporaryDirectory(prefix="course-cert-") as tmp:
                src = Path(tmp) / "certificate.html"
                src.write_text(page, encoding="utf-8")
                html_to_pdf(src, out)
        else:
            out.write_text(page, encoding="utf-8")
        written.append(out)
        log.write_text(reflective_log_markdown(case, rec, name=name, on=on), encoding="utf-8")
        written.append(log)
    except OSError as e:
        where = e.filename or out
        raise WorkshopError([f"could not write {where} ({e.strerror or e})"]) from None
    return written


def _not_a_folder(path: Path | None, what: str) -> None:
    if path is not None and Path(path).is_dir():
        raise WorkshopError([f"{what} {path} is a folder; give a file name."])


def write_certificates(
    case: Case,
    answers=None,
    submissions=None,
    out=None,
    out_dir="certificates",
    name: str = "",
    fmt: str = "html",
    on: dt.date | None = None,
    log=None,
    problems: list[str] | None = None,
) -> list[Path]:
    """Write a certificate and reflective log for one trainee (`answers`: their workspace or answers file)
    or for every trainee in a submissions folder. Returns the files written. With a submissions folder, one
    trainee's damaged files or a file that cannot be written never stops the rest: each is added to
    `problems` (or printed, when no list is given), naming the trainee and file."""
    ext = "pdf" if fmt == "pdf" else "html"
    if submissions:
        if Path(out_dir).exists() and not Path(out_dir).is_dir():
            raise WorkshopError([f"--out-dir {out_dir} is a file; give a folder for the certificates."])
        collection = collect(submissions, case)
        found = list(collection.problems)
        written = []
        for sub in collection.submissions:
            base = Path(out_dir) / f"{file_stem(sub.trainee)}-certificate.{ext}"
            try:
                written += _write_one(case, sub, base, fmt, "", on, None)
            except WorkshopError as e:
                found.append(f"{sub.trainee}: no certificate: {e}")
        found += [f"Not included: {e.path} ({e.reason})." for e in collection.excluded]
        if problems is None:
            for p in found:
                print(p)
        else:
            problems += found
        return written
    _not_a_folder(Path(out) if out else None, "--out")
    _not_a_folder(Path(log) if log else None, "--log")
    sub = collect_trainee(answers or "workspace", case)
    target = Path(out) if out else Path(f"certificate.{ext}")
    return _write_one(case, sub, target, fmt, name, on, Path(log) if log else None)


def _choices(d, choice) -> str:
    return markdown_literal("; ".join(choice_texts(d, choice)) or "(none)")
