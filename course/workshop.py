"""Workshops and CPD: a group's answers against the review's position, and each trainee's certificate.

The functional core of `course workshop` and `course certificate`: find and read the answers files in a
submissions folder (never writing them), aggregate the room's first answers per decision, rank where the
room diverged most from the review, and build the HTML the report notebook and the certificate show.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .answers import AnswersError, read_answers
from .case import Case, DecisionPoint, Module

# Okabe and Ito's colour-blind-safe palette (also in course.widgets.a11y; repeated so that the report does
# not need the widget stack). Colour is never the only cue: bars are labelled and patterned.
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000"}

CONFIDENT = 4  # confidence 4 or 5 of 5 counts as "confident"
NBGRADER_PLACEHOLDER = "YOUR ANSWER HERE"


class WorkshopError(Exception):
    """The submissions cannot be reported on; `problems` lists each in plain words, naming the file."""

    def __init__(self, problems: list[str], head: str | None = None):
        self.problems = list(problems)
        if head is None:
            head = f"{len(self.problems)} problem(s) with the submissions:" if len(self.problems) > 1 else ""
        lines = [head, *("  - " + p for p in self.problems)] if head else self.problems
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- finding answers files


@dataclass(frozen=True)
class AnswersFile:
    trainee: str  # nbgrader student id (folder name) or the file's stem in a flat folder
    path: Path


def find_answer_files(folder: Path | str) -> list[AnswersFile]:
    """Every answers file in a submissions folder, with the trainee it belongs to.

    Accepted layouts: nbgrader's submitted/ or autograded/ tree (<folder>/<trainee>/<module>/answers.json,
    or <folder>/<trainee>/answers.json), and a flat folder of answers files (<folder>/<trainee>.json).
    Hidden folders (checkpoints) and the store's lock, temp and set-aside files are skipped.
    """
    folder = Path(folder)
    if not folder.exists():
        raise WorkshopError([f"The submissions folder {folder} does not exist."])
    if not folder.is_dir():
        raise WorkshopError([f"{folder} is not a folder. Give the folder that holds the trainees' answers."])
    nbgrader = sorted(n for n in ("submitted", "autograded") if (folder / n).is_dir())
    if nbgrader and (folder / "nbgrader_config.py").exists() or len(nbgrader) == 2:
        # The course root holds submitted/ and autograded/ copies of the same answers: never count both.
        raise WorkshopError([f"{folder} looks like an nbgrader course folder. Give one of its "
                             f"{' or '.join(n + '/' for n in nbgrader)} folders instead, e.g. "
                             f"--submissions {folder / nbgrader[0]}"])
    found: list[AnswersFile] = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_file() and p.suffix.lower() == ".json":
            found.append(AnswersFile(p.stem if p.name != "answers.json" else folder.name, p))
        elif p.is_dir():
            for f in sorted(p.rglob("answers.json")):
                if any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                found.append(AnswersFile(p.name, f))
    if not found:
        raise WorkshopError([
            f"No answers files found in {folder}. Expected nbgrader's submitted/ or autograded/ folder "
            f"(<trainee>/<module>/answers.json) or a folder of answers files (<trainee>.json)."
        ])
    return found


# --------------------------------------------------------------------------- reading submissions


@dataclass(frozen=True)
class Submission:
    """One trainee's answers for this course version, merged across their answers files."""

    trainee: str
    files: tuple[Path, ...]
    first: dict  # decision id -> the first (graded) answer
    entries: dict  # decision id -> {"first": ..., "revisions": [...]}
    activity: dict  # module id -> {"first_opened_at", "last_seen_at"}

    def answered(self, decision_id: str) -> bool:
        return decision_id in self.first


@dataclass(frozen=True)
class Excluded:
    """An answers file from another course or another version of it: listed, never counted."""

    trainee: str
    path: Path
    course: str
    course_version: str
    reason: str


@dataclass(frozen=True)
class Collection:
    folder: Path
    submissions: tuple[Submission, ...]
    excluded: tuple[Excluded, ...]

    def labels(self, names: bool = False) -> dict[str, str]:
        """Trainee id -> the label shown: 'Participant 1..N' in a stable (sorted) order, or the id itself."""
        trainees = sorted({s.trainee for s in self.submissions} | {e.trainee for e in self.excluded})
        if names:
            return {t: t for t in trainees}
        return {t: f"Participant {i}" for i, t in enumerate(trainees, start=1)}


def _check_answer(case: Case, where: str, did: str, rec: dict, problems: list[str]) -> None:
    d = case.decision(did)
    choice = rec.get("choice")
    if isinstance(choice, str):
        chosen = [choice]
    elif isinstance(choice, list) and all(isinstance(c, str) for c in choice):
        chosen = choice
    else:
        problems.append(f"{where}: decision '{did}' has no readable choice ({choice!r}).")
        return
    if not d.multiple and len(chosen) != 1:
        problems.append(f"{where}: decision '{did}' takes one option, but the answer lists {len(chosen)}.")
    unknown = [c for c in chosen if d.option(c) is None]
    if unknown:
        known = ", ".join(o.id for o in d.options)
        problems.append(f"{where}: decision '{did}': unknown option id(s) {', '.join(map(repr, unknown))} "
                        f"(this decision's options are {known}).")
    conf = rec.get("confidence")
    if conf is not None and (not isinstance(conf, int) or isinstance(conf, bool) or not 1 <= conf <= 5):
        problems.append(f"{where}: decision '{did}': confidence {conf!r} is not a whole number from 1 to 5.")


def collect(folder: Path | str, case: Case, progress: bool = False) -> Collection:
    """Read every answers file in `folder` without writing anything.

    Files from another course or course version are set aside in `excluded`. Any unreadable file, unknown
    decision id or unknown option raises WorkshopError listing every such problem with the file it is in.
    """
    folder = Path(folder)
    files = find_answer_files(folder)
    known = {d.id for d in case.decisions}
    problems: list[str] = []
    excluded: list[Excluded] = []
    merged: dict[str, dict] = {}
    iterator: Iterable[AnswersFile] = files
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(files, desc="Reading answers", unit="file")
    for af in iterator:
        rel = _rel(af.path, folder)
        try:
            answers = read_answers(af.path)
        except AnswersError as e:
            problems.append(f"{rel}: {e}")
            continue
        if answers.course != case.id or answers.course_version != case.version:
            excluded.append(Excluded(af.trainee, af.path, answers.course, answers.course_version,
                                     _mismatch(answers.course, answers.course_version, case)))
            continue
        t = merged.setdefault(af.trainee, {"files": [], "entries": {}, "activity": {}})
        t["files"].append(af.path)
        for did in answers:
            if did not in known:
                problems.append(f"{rel}: unknown decision id '{did}' (not in {case.id} version {case.version}).")
                continue
            entry = answers[did]
            _check_answer(case, rel, did, entry["first"], problems)
            have = t["entries"].get(did)
            # The same decision answered in two files: the earlier first answer is the one that counts.
            if have is None or str(entry["first"].get("submitted_at", "")) < str(have["first"].get("submitted_at", "")):
                t["entries"][did] = entry
        for mid, seen in answers.activity.items():
            if isinstance(seen, dict):
                t["activity"].setdefault(mid, {}).update(
                    {k: v for k, v in seen.items() if k not in t["activity"].get(mid, {})})
    if problems:
        raise WorkshopError(problems, head=f"{len(problems)} problem(s) with the submissions in {folder}:")
    subs = tuple(
        Submission(trainee, tuple(t["files"]), {d: e["first"] for d, e in t["entries"].items()}, t["entries"],
                   t["activity"])
        for trainee, t in sorted(merged.items())
    )
    return Collection(folder, subs, tuple(sorted(excluded, key=lambda e: (e.trainee, str(e.path)))))


def _rel(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def _mismatch(course: str, version: str, case: Case) -> str:
    if not course:
        return "the file does not say which course it belongs to"
    if course != case.id:
        return f"answers from another course ({course!r}, not {case.id!r})"
    if not version:
        return f"the file does not say which version of {case.id} it was written for (this is version {case.version})"
    return f"answers from version {version!r} of the course (this report is for version {case.version!r})"


# --------------------------------------------------------------------------- aggregating


def aligned_options(d: DecisionPoint) -> tuple[str, ...]:
    """The options that carry the review's position: the top-scoring option(s), or for a choose-all
    question every option that earns points."""
    if d.multiple:
        return tuple(o.id for o in d.options if o.points > 0)
    return tuple(o.id for o in d.options if o.points == d.max_points)


@dataclass(frozen=True)
class OptionCount:
    id: str
    text: str
    points: int
    count: int
    aligned: bool


@dataclass(frozen=True)
class DecisionSummary:
    decision: DecisionPoint
    participants: int  # included participants (the denominator for "not answered")
    answered: int
    options: tuple[OptionCount, ...]
    aligned: int  # first answers scoring the maximum (the review's position)
    fractions: tuple[float, ...]  # score / max_points for each answer
    confidence: tuple[int, int, int, int, int]  # how many answered with confidence 1..5
    confident_divergent: int  # confidence >= CONFIDENT but scoring under half the points

    @property
    def aligned_share(self) -> float | None:
        return self.aligned / self.answered if self.answered else None

    @property
    def mean_fraction(self) -> float | None:
        return sum(self.fractions) / len(self.fractions) if self.fractions else None

    @property
    def mean_confidence(self) -> float | None:
        n = sum(self.confidence)
        return sum((i + 1) * c for i, c in enumerate(self.confidence)) / n if n else None


def summarise_decision(d: DecisionPoint, subs: Iterable[Submission]) -> DecisionSummary:
    subs = list(subs)
    counts = {o.id: 0 for o in d.options}
    aligned = 0
    fractions: list[float] = []
    conf = [0, 0, 0, 0, 0]
    confident_divergent = 0
    for s in subs:
        rec = s.first.get(d.id)
        if rec is None:
            continue
        choice = rec.get("choice")
        chosen = [choice] if isinstance(choice, str) else list(choice or [])
        for c in dict.fromkeys(chosen):
            counts[c] += 1
        score = d.score(choice)
        frac = score / d.max_points if d.max_points else 0.0
        fractions.append(frac)
        if score >= d.max_points:
            aligned += 1
        c = rec.get("confidence")
        if isinstance(c, int) and 1 <= c <= 5:
            conf[c - 1] += 1
            if c >= CONFIDENT and frac < 0.5:
                confident_divergent += 1
    good = set(aligned_options(d))
    options = tuple(OptionCount(o.id, o.text, o.points, counts[o.id], o.id in good) for o in d.options)
    return DecisionSummary(d, len(subs), len(fractions), options, aligned, tuple(fractions), tuple(conf),
                           confident_divergent)


@dataclass(frozen=True)
class WorkshopReport:
    case: Case
    group: str
    modules: tuple[Module, ...]
    collection: Collection
    names: bool
    decisions: tuple[DecisionSummary, ...]
    generated: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%d %B %Y, %H:%M UTC"))

    @property
    def counted(self) -> tuple[Submission, ...]:
        """The participants this report counts: those with a first answer to at least one of its decisions."""
        ids = [d.decision.id for d in self.decisions]
        return tuple(s for s in self.collection.submissions if any(s.answered(i) for i in ids))

    @property
    def participants(self) -> int:
        return len(self.counted)

    @property
    def other_modules_only(self) -> int:
        """Trainees whose answers (for this course version) are all for modules outside this report."""
        return len(self.collection.submissions) - self.participants

    def diverged_most(self, limit: int = 3) -> list[DecisionSummary]:
        """Decisions answered by someone, least aligned first; ties broken by more confident divergence,
        then lower mean score, then course order."""
        order = {d.decision.id: i for i, d in enumerate(self.decisions)}
        answered = [d for d in self.decisions if d.answered]
        answered.sort(key=lambda s: (s.aligned_share, -s.confident_divergent, s.mean_fraction, order[s.decision.id]))
        return [s for s in answered[:limit] if s.aligned_share < 1.0]

    def confident_divergence(self, limit: int = 5) -> list[DecisionSummary]:
        """The decisions with the largest share of confident (4 or 5) answers scoring under half."""
        order = {d.decision.id: i for i, d in enumerate(self.decisions)}
        ranked = sorted((d for d in self.decisions if d.confident_divergent),
                        key=lambda s: (-s.confident_divergent / s.answered, order[s.decision.id]))
        return ranked[:limit]


def select_modules(case: Case, modules: Iterable[str] | str | None) -> tuple[Module, ...]:
    """The modules to report on, in course order (all modules with decisions when none are named)."""
    if isinstance(modules, str):
        modules = [m.strip() for m in modules.replace(",", " ").split() if m.strip()]
    modules = list(modules or [])
    if not modules:
        return tuple(m for m in case.modules if case.decisions_in(m.id))
    known = {m.id for m in case.modules}
    unknown = [m for m in modules if m not in known]
    if unknown:
        raise WorkshopError([f"unknown module id(s) {', '.join(map(repr, unknown))}; this course has "
                             f"{', '.join(m.id for m in case.modules)}."])
    return tuple(m for m in case.modules if m.id in modules)


def build_report(case: Case, collection: Collection, group: str = "", modules=None,
                 names: bool = False) -> WorkshopReport:
    chosen = select_modules(case, modules)
    ids = {m.id for m in chosen}
    mine = [d for d in case.decisions if d.module in ids]
    counted = [s for s in collection.submissions if any(s.answered(d.id) for d in mine)]
    decisions = tuple(summarise_decision(d, counted) for d in mine)
    return WorkshopReport(case, group.strip(), chosen, collection, names, decisions)


# --------------------------------------------------------------------------- report HTML


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(100 * x)}%"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


REPORT_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 16px;
  line-height: 1.5; color: #111; max-width: 62rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.8rem; } h2 { font-size: 1.4rem; margin-top: 2rem; border-bottom: 2px solid #0072B2; }
h3 { font-size: 1.15rem; margin-top: 1.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #888; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.review { border-left: 6px solid #0072B2; background: #F2F8FC; padding: 0.3rem 0.9rem; }
.excluded { border: 3px solid #D55E00; background: #FFF3EA; padding: 0.3rem 0.9rem; }
.note { color: #333; font-size: 0.95rem; }
figure { margin: 0.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #333; }
caption { text-align: left; font-weight: bold; padding: 0.2rem 0; }
a.anchor-link { display: none; }
@media print { h2 { page-break-before: auto; } figure, table { page-break-inside: avoid; } }
"""


def report_header_html(r: WorkshopReport) -> str:
    group = f" — {esc(r.group)}" if r.group else ""
    mods = ", ".join(f"{esc(m.title)}" for m in r.modules) or "none"
    return (
        f'<h1 id="report-title">Workshop report{group}</h1>'
        f"<p><strong>{esc(r.case.title)}</strong> (course {esc(r.case.id)}, version {esc(r.case.version)}). "
        f"Report produced {esc(r.generated)}.</p>"
        f'<p>Modules covered: {mods}.</p>'
        f'<table class="overview"><tbody>'
        f'<tr><th scope="row">Participants counted (answered at least one decision here)</th>'
        f'<td class="num" data-stat="participants">{r.participants}</td></tr>'
        + (f'<tr><th scope="row">Trainees whose answers are only for other modules (not counted here)</th>'
           f'<td class="num" data-stat="other-modules">{r.other_modules_only}</td></tr>' if r.other_modules_only else "")
        + f'<tr><th scope="row">Decisions in this report</th><td class="num" data-stat="decisions">{len(r.decisions)}</td></tr>'
        + f'<tr><th scope="row">Answers files set aside (another course or version)</th>'
        f'<td class="num" data-stat="excluded">{len(r.collection.excluded)}</td></tr>'
        f"</tbody></table>"
        f'<p class="note">Only each participant\'s <em>first</em> answer to a decision is counted: the one given '
        f"before the review's analysis was revealed. "
        + ("Participants are shown by their trainee ids, as asked."
           if r.names else "Participants are anonymised (Participant 1, 2, ...) and no rationale text is shown.")
        + " This report compares the room's choices with the review's position to start a discussion; it is "
        "not a judgement of any individual.</p>"
    )


def divergence_html(r: WorkshopReport) -> str:
    most = r.diverged_most()
    parts = ['<h2 id="diverged-most">Where the room diverged most from the review</h2>']
    if not any(d.answered for d in r.decisions):
        return parts[0] + "<p>No decision in this report has been answered yet.</p>"
    if not most:
        parts.append("<p>Every answer in the room matched the review's position.</p>")
    else:
        parts.append("<p>The decisions with the smallest share of the room choosing the review's position:</p><ol>")
        for s in most:
            parts.append(
                f'<li data-decision="{esc(s.decision.id)}"><a href="#{esc(s.decision.id)}">{esc(_title(s.decision))}</a>: '
                f"{s.aligned} of {s.answered} answers matched the review ({_pct(s.aligned_share)}); "
                f"mean score {_pct(s.mean_fraction)} of the points available"
                + (f"; {_n(s.confident_divergent, 'confident answer')} (4 or 5 of 5) scored under half"
                   if s.confident_divergent else "") + ".</li>")
        parts.append("</ol>")
    conf = r.confident_divergence()
    if conf:
        parts.append("<h3>Confident but divergent</h3><p>The decisions (up to five) with the largest share of "
                     "people confident (4 or 5 of 5) in a choice far from the review's position (under half the "
                     "points). These often make the richest discussion: what "
                     "made that choice feel right at the time?</p><ul>")
        for s in conf:
            parts.append(f'<li data-decision="{esc(s.decision.id)}"><a href="#{esc(s.decision.id)}">'
                         f"{esc(_title(s.decision))}</a>: {s.confident_divergent} of {s.answered} answers "
                         f"({_pct(s.confident_divergent / s.answered)})</li>")
        parts.append("</ul>")
    return "".join(parts)


def _title(d: DecisionPoint) -> str:
    practice = " (practice)" if d.practice else ""
    return f"{d.id}{practice}: {d.role_title}, {d.date_text}"


def decision_html(s: DecisionSummary, chart: bool = True) -> str:
    d = s.decision
    rows = []
    for o in s.options:
        mark = "Yes" if o.aligned else ("Partly" if o.points > 0 else "")
        share = _pct(o.count / s.answered) if s.answered else "–"
        rows.append(f'<tr data-option="{esc(o.id)}"><td>{esc(o.text)}</td><td class="num" data-count="{o.count}">'
                    f"{o.count}</td><td class=\"num\">{share}</td><td>{mark}</td><td class=\"num\">{o.points}</td></tr>")
    conf_cells = "".join(f'<td class="num" data-confidence="{i + 1}">{c}</td>' for i, c in enumerate(s.confidence))
    kind = "Choose all that apply; each participant may pick several options." if d.multiple else ""
    parts = [
        f'<section class="decision" id="{esc(d.id)}" data-decision="{esc(d.id)}" data-answered="{s.answered}" '
        f'data-aligned="{s.aligned}">',
        f"<h3>{esc(_title(d))}</h3>",
        f"<p><strong>{esc(d.question)}</strong> {esc(kind)}</p>",
        f"<p>Answered by <span data-stat=\"answered\">{s.answered}</span> of {s.participants} participants. "
        f"Matched the review's position: <span data-stat=\"aligned\">{s.aligned}</span> "
        f"({_pct(s.aligned_share)}). Mean score: {_pct(s.mean_fraction)} of {d.max_points} point(s).</p>",
    ]
    if chart and s.answered:
        parts.append(option_chart_html(s))
    parts += [
        '<table class="options"><caption>The room\'s first answers</caption><thead><tr><th scope="col">Option</th>'
        '<th scope="col" class="num">Chosen by</th><th scope="col" class="num">Share of answers</th>'
        '<th scope="col">Review\'s position</th><th scope="col" class="num">Points</th></tr></thead><tbody>',
        *rows, "</tbody></table>",
        '<table class="confidence"><caption>Confidence</caption><thead><tr>'
        + "".join(f'<th scope="col" class="num">{lab}</th>'
                  for lab in ("1 (not at all)", "2", "3", "4", "5 (very)"))
        + f"</tr></thead><tbody><tr>{conf_cells}</tr></tbody></table>",
        f"<p>Mean confidence: {'–' if s.mean_confidence is None else f'{s.mean_confidence:.1f}'} of 5. "
        f"Confident (4 or 5) but scoring under half: {s.confident_divergent}.</p>",
        f'<div class="review"><p><strong>What the review found.</strong> {esc(d.review.summary)}</p>',
    ]
    for q in d.review.quotes:
        parts.append(f"<blockquote>“{esc(q.quote)}”<br><span class=\"note\">{esc(q.attribution)}</span></blockquote>")
    parts.append("</div></section>")
    return "".join(parts)


def option_chart_png(s: DecisionSummary) -> bytes:
    """A horizontal bar chart of how many chose each option: the review's position bluish green with diagonal
    hatching, options earning some points sky blue with dots, the rest vermillion, each bar labelled with its
    count and each label saying which kind it is (colour is never the only cue)."""
    from matplotlib.figure import Figure

    opts = list(s.options)
    labels = [_wrap(o.text, 38) + ("\n(review's position)" if o.aligned else "\n(partly in line)" if o.points > 0
                                   else "") for o in opts]
    colours = [OKABE_ITO["bluish_green"] if o.aligned else
               (OKABE_ITO["sky_blue"] if o.points > 0 else OKABE_ITO["vermillion"]) for o in opts]
    hatches = ["//" if o.aligned else (".." if o.points > 0 else "") for o in opts]
    height = 0.9 + 0.75 * len(opts)
    fig = Figure(figsize=(8, height), dpi=100)
    ax = fig.add_subplot()
    y = list(range(len(opts)))[::-1]
    bars = ax.barh(y, [o.count for o in opts], color=colours, edgecolor="#000000", linewidth=0.8)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    ax.set_yticks(y, labels, fontsize=10)
    top = max([o.count for o in opts] + [1])
    ax.set_xlim(0, top * 1.15 + 0.5)
    for yy, o in zip(y, opts, strict=True):
        ax.text(o.count + top * 0.02, yy, str(o.count), va="center", fontsize=11)
    ax.set_xlabel("Number of participants choosing this option (first answers)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def option_chart_alt(s: DecisionSummary) -> str:
    parts = [f"Bar chart of first answers to {s.decision.id}, {s.answered} answered."]
    for o in s.options:
        tag = " (the review's position)" if o.aligned else ""
        parts.append(f"{o.text}{tag}: {o.count}.")
    return " ".join(parts)


def option_chart_html(s: DecisionSummary) -> str:
    data = base64.b64encode(option_chart_png(s)).decode("ascii")
    alt = option_chart_alt(s)
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
            f"<figcaption>How the room answered {esc(s.decision.id)}. Green bars with diagonal lines: the review's "
            f"position. Blue dotted bars: partly in line. Plain red-orange bars: no points. The table below gives "
            f"the same numbers."
            f"</figcaption></figure>")


def _wrap(text: str, width: int) -> str:
    import textwrap

    lines = textwrap.wrap(text, width)
    if len(lines) > 3:
        lines = lines[:3]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "\n".join(lines)


def participation_html(r: WorkshopReport) -> str:
    labels = r.collection.labels(r.names)
    ids = [d.decision.id for d in r.decisions]
    rows = []
    for s in sorted(r.counted, key=lambda s: _label_key(labels[s.trainee])):
        done = sum(1 for d in ids if s.answered(d))
        rows.append(f'<tr data-participant="{esc(labels[s.trainee])}"><td>{esc(labels[s.trainee])}</td>'
                    f'<td class="num">{done} of {len(ids)}</td></tr>')
    return ('<h2 id="participation">Participation</h2><table><thead><tr><th scope="col">Participant</th>'
            '<th scope="col" class="num">Decisions answered</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _label_key(label: str):
    head, _, tail = label.rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (label, 0)


def excluded_html(r: WorkshopReport) -> str:
    if not r.collection.excluded:
        return ""
    labels = r.collection.labels(r.names)
    rows = []
    for e in r.collection.excluded:
        where = esc(_rel(e.path, r.collection.folder)) if r.names else esc(labels[e.trainee])
        rows.append(f'<tr data-excluded="{esc(labels[e.trainee])}"><td>{where}</td>'
                    f"<td>{esc(e.course or 'not recorded')}</td><td>{esc(e.course_version or 'not recorded')}</td>"
                    f"<td>{esc(e.reason)}</td></tr>")
    return ('<section class="excluded" id="excluded"><h2>Not counted: answers from another version of the course</h2>'
            f"<p>{_n(len(r.collection.excluded), 'answers file')} came from another course or another version of "
            f"this one (this report is for {esc(r.case.id)} version {esc(r.case.version)}). Decisions and options "
            "can differ between versions, so these answers are <strong>not included in any count above</strong>. "
            "Run a report with the matching version of the course to see them.</p>"
            '<table><thead><tr><th scope="col">Participant</th><th scope="col">Course</th><th scope="col">Version</th>'
            '<th scope="col">Why not counted</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></section>")


def report_sections(r: WorkshopReport) -> list[str]:
    """The report as HTML fragments in order (the notebook displays one per output)."""
    out = [report_header_html(r), divergence_html(r)]
    for m in r.modules:
        out.append(f'<h2 id="module-{esc(m.id)}">{esc(m.title)}</h2>')
        out += [decision_html(s) for s in r.decisions if s.decision.module == m.id]
    out.append(participation_html(r))
    excl = excluded_html(r)
    if excl:
        out.append(excl)
    return out


# --------------------------------------------------------------------------- trainee records and CPD


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
    'reflection-<module id>', without nbgrader's placeholder. Unreadable notebooks are skipped."""
    out: dict[str, str] = {}
    modules = {m.id for m in case.modules}
    for p in paths:
        try:
            nb = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
            meta = (cell.get("metadata") or {}).get("nbgrader") or {}
            gid = str(meta.get("grade_id", ""))
            if not gid.startswith("reflection-") or gid[len("reflection-"):] not in modules:
                continue
            src = cell.get("source", "")
            text = "".join(src) if isinstance(src, list) else str(src)
            text = text.replace(NBGRADER_PLACEHOLDER, "").strip()
            if text:
                out[gid[len("reflection-"):]] = text
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


def trainee_record(case: Case, sub: Submission) -> TraineeRecord:
    notebooks = trainee_notebooks(case, sub)
    done, started = completed_modules(case, sub)
    return TraineeRecord(sub.trainee, done, started, sub, find_reflections(case, notebooks))


def collect_trainee(path: Path | str, case: Case, trainee: str = "") -> Submission:
    """One trainee's answers from their workspace folder (every answers.json beneath it), a module folder
    or a single answers file; files from another course version raise WorkshopError (never mixed)."""
    path = Path(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = [f for f in sorted(path.rglob("answers.json"))
                 if not any(part.startswith(".") for part in f.relative_to(path).parts)]
    else:
        raise WorkshopError([f"{path} does not exist. Give your workspace folder or an answers file."])
    if not files:
        raise WorkshopError([f"No answers files found in {path}: no decision has been answered and saved there yet."])
    problems: list[str] = []
    entries: dict = {}
    activity: dict = {}
    known = {d.id for d in case.decisions}
    for f in files:
        try:
            a = read_answers(f)
        except AnswersError as e:
            problems.append(str(e))
            continue
        if a.course != case.id or a.course_version != case.version:
            problems.append(f"{f}: {_mismatch(a.course, a.course_version, case)}; it is not included in this "
                            f"certificate.")
            continue
        for did in a:
            if did not in known:
                problems.append(f"{f}: unknown decision id '{did}'.")
                continue
            _check_answer(case, str(f), did, a[did]["first"], problems)
            have = entries.get(did)
            if have is None or str(a[did]["first"].get("submitted_at", "")) < str(have["first"].get("submitted_at", "")):
                entries[did] = a[did]
        for mid, seen in a.activity.items():
            if isinstance(seen, dict):
                activity.setdefault(mid, dict(seen))
    if problems:
        raise WorkshopError(problems)
    name = trainee or (path.stem if path.is_file() else path.resolve().name)
    return Submission(name, tuple(files), {d: e["first"] for d, e in entries.items()}, entries, activity)


def _when(iso: str) -> str:
    try:
        t = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    return t.strftime("%d %B %Y").lstrip("0")


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
            activity = f"{_when(seen['first_opened_at'])} to {_when(seen['last_seen_at'])}"
        rows.append(f'<tr data-module="{esc(m.id)}"><td>{esc(m.title)}</td><td class="num">{m.minutes} min</td>'
                    f"<td>{esc(activity) or 'not recorded'}</td></tr>")
    if rows:
        table = ('<table><caption>Modules completed</caption><thead><tr><th scope="col">Module</th>'
                 '<th scope="col">Estimated time</th><th scope="col">Recorded activity (first opened to last seen)'
                 "</th></tr></thead><tbody>" + "".join(rows)
                 + f'<tr><th scope="row">Total</th><td class="num" data-total-minutes="{rec.minutes}">'
                 f"{_hours(rec.minutes)}</td><td></td></tr></tbody></table>")
    else:
        table = "<p><strong>No module has been completed yet</strong> (every decision in a module must be answered).</p>"
    date_text = on.strftime("%d %B %Y").lstrip("0")
    return (
        f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>CPD record: {esc(who)}</title>'
        f"<style>{CERT_CSS}</style></head><body><main class=\"certificate\">"
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
    changes of mind, the review's position, and their written reflections."""
    on = on or dt.datetime.now(dt.UTC).date()
    who = name or rec.trainee
    lines = [f"# Reflective log: {who}", "",
             f"{case.title} (course {case.id}, version {case.version}). Exported {on.isoformat()}.", "",
             "This log is yours: your decisions and reasons as you recorded them, for supervision or a CPD "
             "portfolio. It is evidence of participation, not an assessment of competence.", ""]
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
            lines += [f"### {role}, {d.date_text}", "", f"**Question.** {d.question}", "",
                      f"- **Your first answer** ({_when(first.get('submitted_at', ''))}): "
                      f"{_choice_text(d, first.get('choice'))}",
                      f"- **Confidence:** {first.get('confidence', 'not recorded')} of 5",
                      f"- **Your reasons:** {first.get('rationale') or '(none written)'}"]
            for rv in sub.entries.get(d.id, {}).get("revisions", []):
                lines += [f"- **Later change** ({_when(rv.get('submitted_at', ''))}): {_choice_text(d, rv.get('choice'))}"
                          f", confidence {rv.get('confidence', '?')} of 5. {rv.get('rationale') or ''}".rstrip()]
            lines += ["", f"**What the review found:** {d.review.summary}", ""]
        if reflection:
            lines += ["### Your reflection", "", reflection, ""]
    if not sub.first and not rec.reflections:
        lines += ["No decisions have been recorded yet.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _choice_text(d: DecisionPoint, choice) -> str:
    chosen = [choice] if isinstance(choice, str) else list(choice or [])
    texts = [(d.option(c).text if d.option(c) else c) for c in chosen]
    return "; ".join(texts) if texts else "(none)"


# --------------------------------------------------------------------------- facilitator notes


GUIDE_BEGIN = "<!-- BEGIN GENERATED: decision prompts (course facilitator-notes --write) -->"
GUIDE_END = "<!-- END GENERATED: decision prompts -->"


def facilitator_notes_markdown(case: Case) -> str:
    """Per-decision discussion prompts for the facilitator guide, generated from the case pack so that the
    guide names every decision exactly as the notebooks do. Own-words text only; no quotation is added."""
    lines: list[str] = []
    for m in case.modules:
        ds = case.decisions_in(m.id)
        if not ds:
            continue
        lines += [f"### {m.id}: {m.title}", "", f"Module time: about {m.minutes} minutes on screen. {m.summary}", ""]
        for d in ds:
            practice = " (practice question)" if d.practice else ""
            lines += [f"#### `{d.id}`{practice}", "",
                      f"*Role:* {d.role_title}. *When:* {d.date_text}.", "",
                      f"- **The question:** {d.question}" + (" (choose all that apply)" if d.multiple
                                                            and "all that apply" not in d.question else ""),
                      f"- **Reasons (ask before the reveal):** {d.rationale_prompt}"]
            if d.learning_together:
                lines += [f"- **At the front of their mind:** {d.learning_together.front_of_mind}",
                          f"- **What would have helped:** {d.learning_together.would_have_helped}"]
            for w in d.went_well:
                lines.append(f"- **What went well (say this too):** {w.text}")
            lines += [f"- **For the facilitator, after the reveal: the review's position in brief.** {d.review.summary}",
                      ""]
        if m.learning_together:
            lines += ["Questions for the whole room at the end of the module:", ""]
            lines += [f"- {q}" for q in m.learning_together] + [""]
    return "\n".join(lines).rstrip() + "\n"


def guide_with_notes(guide: str, notes: str) -> str:
    """The guide's text with the generated section between its markers replaced by `notes`."""
    if GUIDE_BEGIN not in guide or GUIDE_END not in guide:
        raise WorkshopError([f"the guide has no generated section; add the lines {GUIDE_BEGIN!r} and {GUIDE_END!r}"])
    head, rest = guide.split(GUIDE_BEGIN, 1)
    _, tail = rest.split(GUIDE_END, 1)
    return f"{head}{GUIDE_BEGIN}\n\n{notes}\n{GUIDE_END}{tail}"


# --------------------------------------------------------------------------- running the report (the shell)

REPORT_TEMPLATE = Path(__file__).resolve().parent.parent / "notebooks" / "workshop" / "report.ipynb"

# The lab template without anything fetched from the internet: no require.js, no widget manager, no MathJax,
# no Mermaid, and our own small stylesheet instead of JupyterLab's (which is large and not needed here).
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block notebook_css -%}{%- endblock notebook_css -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

EXTERNAL_REF = (r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import"""
                r"""|import\(\s*["']?\s*(?:https?:)?//|["']https?://[^"']*\.m?js["']""")


def external_references(page: str) -> list[str]:
    """Anything in an HTML page that would make a browser fetch from another host."""
    import re

    return [m.group(0) for m in re.finditer(EXTERNAL_REF, page, flags=re.IGNORECASE)]


def notebook_to_html(nb, title: str) -> str:
    """A self-contained HTML page of a notebook's outputs: no code, no prompts, no external assets."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb.metadata["title"] = title
    # Warnings on stderr are not part of the report; errors stop papermill before we get here.
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"course_offline.html.j2": _OFFLINE_TEMPLATE})],
                            template_file="course_offline.html.j2", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}, enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    refs = external_references(body)
    if refs:  # never ship something that needs the internet
        raise WorkshopError([f"the report would load {len(refs)} external resource(s), e.g. {refs[0]!r}"])
    return body


def run_report(submissions: Path | str, out: Path | str, case: Case, group: str = "", modules=None,
               names: bool = False, progress: bool = True, template: Path | None = None) -> WorkshopReport:
    """Check the submissions, execute the report notebook with papermill (read-only, in a temporary folder)
    and write a self-contained HTML report to `out`. Returns the report as computed in this process."""
    import os
    import tempfile

    import nbformat
    import papermill as pm

    collection = collect(submissions, case, progress=progress)  # fail fast, with the file named
    report = build_report(case, collection, group=group, modules=modules, names=names)
    template = Path(template or REPORT_TEMPLATE)
    module_ids = " ".join(m.id for m in report.modules)
    params = {"submissions": str(Path(submissions).resolve()), "group": group, "modules": module_ids,
              "names": bool(names), "case_dir": str(Path(case.pack_dir).resolve())}
    saved = os.environ.get("COURSE_READ_ONLY")
    os.environ["COURSE_READ_ONLY"] = "1"  # inherited by the kernel: nothing in the report run may write answers
    try:
        with tempfile.TemporaryDirectory(prefix="course-report-") as tmp:
            executed = Path(tmp) / "report.ipynb"
            try:
                pm.execute_notebook(str(template), str(executed), parameters=params, cwd=tmp, kernel_name="python3",
                                    progress_bar=progress, log_output=False, request_save_on_cell_execute=False)
            except pm.PapermillExecutionError as e:
                raise WorkshopError([f"the report notebook failed: {e.ename}: {e.evalue}"]) from None
            nb = nbformat.read(executed, as_version=4)
    finally:
        if saved is None:
            os.environ.pop("COURSE_READ_ONLY", None)
        else:
            os.environ["COURSE_READ_ONLY"] = saved
    title = f"Workshop report — {group}" if group else "Workshop report"
    page = notebook_to_html(nb, title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return report


CHROMIUM = "/usr/bin/chromium"


def html_to_pdf(page: Path, pdf: Path, chromium: str | None = None) -> None:
    """Print an HTML file to PDF with headless Chromium (offline; no network, fresh profile)."""
    import shutil
    import subprocess
    import tempfile

    exe = chromium or shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if not exe:
        raise WorkshopError(["a PDF needs Chromium (the Debian package 'chromium'), which was not found. "
                             "Use --format html and print the page to PDF from any browser."])
    with tempfile.TemporaryDirectory(prefix="course-pdf-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf}", Path(page).resolve().as_uri()]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
            raise WorkshopError([f"Chromium could not print the certificate to PDF ({e})."]) from None
    if not Path(pdf).exists() or Path(pdf).stat().st_size == 0:
        raise WorkshopError(["Chromium did not write the PDF."])


def _write_one(case: Case, sub: Submission, out: Path, fmt: str, name: str, on, log: Path | None) -> list[Path]:
    rec = trainee_record(case, sub)
    out.parent.mkdir(parents=True, exist_ok=True)
    page = certificate_html(case, rec, name=name, on=on)
    written = []
    if fmt == "pdf":
        import tempfile

        with tempfile.TemporaryDirectory(prefix="course-cert-") as tmp:
            src = Path(tmp) / "certificate.html"
            src.write_text(page, encoding="utf-8")
            html_to_pdf(src, out)
    else:
        out.write_text(page, encoding="utf-8")
    written.append(out)
    log = log or out.with_name(out.stem.replace("certificate", "reflective-log") + ".md"
                               if "certificate" in out.stem else out.stem + "-reflective-log.md")
    log.write_text(reflective_log_markdown(case, rec, name=name, on=on), encoding="utf-8")
    written.append(log)
    return written


def write_certificates(case: Case, answers=None, submissions=None, out=None, out_dir="certificates", name: str = "",
                       fmt: str = "html", on: dt.date | None = None, log=None) -> list[Path]:
    """Write a certificate and reflective log for one trainee (`answers`: their workspace or answers file)
    or for every trainee in a submissions folder. Returns the files written."""
    ext = "pdf" if fmt == "pdf" else "html"
    if submissions:
        collection = collect(submissions, case)
        written = []
        for sub in collection.submissions:
            base = Path(out_dir) / f"{sub.trainee}-certificate.{ext}"
            written += _write_one(case, sub, base, fmt, "", on, None)
        for e in collection.excluded:
            print(f"Not included: {e.path} ({e.reason}).")
        return written
    sub = collect_trainee(answers or "workspace", case)
    target = Path(out) if out else Path(f"certificate.{ext}")
    return _write_one(case, sub, target, fmt, name, on, Path(log) if log else None)
