"""The workshop report as HTML fragments (the report notebook displays one per output)."""

from __future__ import annotations

import base64

from ..charts.options import option_chart_png
from ..core.records import DecisionPoint
from ..render.style import esc
from .analysis import DecisionSummary, WorkshopReport
from .collect import _rel


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
        f"<p>Modules covered: {mods}.</p>"
        f'<table class="overview"><tbody>'
        f'<tr><th scope="row">Participants counted (answered at least one decision here)</th>'
        f'<td class="num" data-stat="participants">{r.participants}</td></tr>'
        + (
            f'<tr><th scope="row">Trainees whose answers are only for other modules (not counted here)</th>'
            f'<td class="num" data-stat="other-modules">{r.other_modules_only}</td></tr>'
            if r.other_modules_only
            else ""
        )
        + f'<tr><th scope="row">Decisions in this report</th><td class="num" data-stat="decisions">{len(r.decisions)}</td></tr>'
        + f'<tr><th scope="row">Answers files set aside (another course or version)</th>'
        f'<td class="num" data-stat="excluded">{len(r.collection.excluded)}</td></tr>'
        + (
            f'<tr><th scope="row">Problems with the submissions (listed at the end, not counted)</th>'
            f'<td class="num" data-stat="problems">{len(r.collection.problems)}</td></tr>'
            if r.collection.problems
            else ""
        )
        + "</tbody></table>"
        '<p class="note">Only each participant\'s <em>first</em> answer to a decision is counted: the one given '
        "before the review's analysis was revealed. "
        + (
            "Participants are shown by their trainee ids, as asked."
            if r.names
            else "Participants are anonymised (Participant 1, 2, ...) and no rationale text is shown."
        )
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
                + (
                    f"; {_n(s.confident_divergent, 'confident answer')} (4 or 5 of 5) scored under half"
                    if s.confident_divergent
                    else ""
                )
                + ".</li>"
            )
        parts.append("</ol>")
    conf = r.confident_divergence()
    if conf:
        parts.append(
            "<h3>Confident but divergent</h3><p>The decisions (up to five) with the largest share of "
            "people confident (4 or 5 of 5) in a choice far from the review's position (under half the "
            "points). These often make the richest discussion: what "
            "made that choice feel right at the time?</p><ul>"
        )
        for s in conf:
            parts.append(
                f'<li data-decision="{esc(s.decision.id)}"><a href="#{esc(s.decision.id)}">'
                f"{esc(_title(s.decision))}</a>: {s.confident_divergent} of {s.answered} answers "
                f"({_pct(s.confident_divergent / s.answered)})</li>"
            )
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
        rows.append(
            f'<tr data-option="{esc(o.id)}"><td>{esc(o.text)}</td><td class="num" data-count="{o.count}">'
            f'{o.count}</td><td class="num">{share}</td><td>{mark}</td><td class="num">{o.points}</td></tr>'
        )
    conf_cells = "".join(f'<td class="num" data-confidence="{i + 1}">{c}</td>' for i, c in enumerate(s.confidence))
    kind = "Choose all that apply; each participant may pick several options." if d.multiple else ""
    parts = [
        f'<section class="decision" id="{esc(d.id)}" data-decision="{esc(d.id)}" data-answered="{s.answered}" '
        f'data-aligned="{s.aligned}">',
        f"<h3>{esc(_title(d))}</h3>",
        f"<p><strong>{esc(d.question)}</strong> {esc(kind)}</p>",
        f'<p>Answered by <span data-stat="answered">{s.answered}</span> of {s.participants} participants. '
        f'Matched the review\'s position: <span data-stat="aligned">{s.aligned}</span> '
        f"({_pct(s.aligned_share)}). Mean score: {_pct(s.mean_fraction)} of {d.max_points} point(s).</p>",
    ]
    if chart and s.answered:
        parts.append(option_chart_html(s))
    parts += [
        '<table class="options"><caption>The room\'s first answers</caption><thead><tr><th scope="col">Option</th>'
        '<th scope="col" class="num">Chosen by</th><th scope="col" class="num">Share of answers</th>'
        '<th scope="col">Review\'s position</th><th scope="col" class="num">Points</th></tr></thead><tbody>',
        *rows,
        "</tbody></table>",
        '<table class="confidence"><caption>Confidence</caption><thead><tr>'
        + "".join(f'<th scope="col" class="num">{lab}</th>' for lab in ("1 (not at all)", "2", "3", "4", "5 (very)"))
        + f"</tr></thead><tbody><tr>{conf_cells}</tr></tbody></table>",
        f"<p>Mean confidence: {'–' if s.mean_confidence is None else f'{s.mean_confidence:.1f}'} of 5. "
        f"Confident (4 or 5) but scoring under half: {s.confident_divergent}.</p>",
        f'<div class="review"><p><strong>What the review found.</strong> {esc(d.review.summary)}</p>',
    ]
    for q in d.review.quotes:
        parts.append(f'<blockquote>“{esc(q.quote)}”<br><span class="note">{esc(q.attribution)}</span></blockquote>')
    parts.append("</div></section>")
    return "".join(parts)


def option_chart_alt(s: DecisionSummary) -> str:
    parts = [f"Bar chart of first answers to {s.decision.id}, {s.answered} answered."]
    for o in s.options:
        tag = " (the review's position)" if o.aligned else ""
        parts.append(f"{o.text}{tag}: {o.count}.")
    return " ".join(parts)


def option_chart_html(s: DecisionSummary) -> str:
    data = base64.b64encode(option_chart_png(s.options)).decode("ascii")
    alt = option_chart_alt(s)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>How the room answered {esc(s.decision.id)}. Green bars with diagonal lines: the review's "
        f"position. Blue dotted bars: partly in line. Plain red-orange bars: no points. The table below gives "
        f"the same numbers."
        f"</figcaption></figure>"
    )


def participation_html(r: WorkshopReport) -> str:
    labels = r.collection.labels(r.names)
    ids = [d.decision.id for d in r.decisions]
    rows = []
    for s in sorted(r.counted, key=lambda s: _label_key(labels[s.trainee])):
        done = sum(1 for d in ids if s.answered(d))
        rows.append(
            f'<tr data-participant="{esc(labels[s.trainee])}"><td>{esc(labels[s.trainee])}</td>'
            f'<td class="num">{done} of {len(ids)}</td></tr>'
        )
    return (
        '<h2 id="participation">Participation</h2><table><thead><tr><th scope="col">Participant</th>'
        '<th scope="col" class="num">Decisions answered</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
    )


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
        rows.append(
            f'<tr data-excluded="{esc(labels[e.trainee])}"><td>{where}</td>'
            f"<td>{esc(e.course or 'not recorded')}</td><td>{esc(e.course_version or 'not recorded')}</td>"
            f"<td>{esc(e.reason)}</td></tr>"
        )
    return (
        '<section class="excluded" id="excluded"><h2>Not counted: answers from another version of the course</h2>'
        f"<p>{_n(len(r.collection.excluded), 'answers file')} came from another course or another version of "
        f"this one (this report is for {esc(r.case.id)} version {esc(r.case.version)}). Decisions and options "
        "can differ between versions, so these answers are <strong>not included in any count above</strong>. "
        "Run a report with the matching version of the course to see them.</p>"
        '<table><thead><tr><th scope="col">Participant</th><th scope="col">Course</th><th scope="col">Version</th>'
        '<th scope="col">Why not counted</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></section>"
    )


def problems_html(r: WorkshopReport) -> str:
    """What could not be counted (or needs a look), so that nobody is silently left out of the report. The list
    names trainees and files, so it is shown only with --names; otherwise the count, and the command's own
    output gives the list to the facilitator."""
    problems = r.collection.problems
    if not problems:
        return ""
    head = (
        '<section class="excluded" id="problems"><h2>Needs a look: answers files that could not be fully used</h2>'
        f"<p>{_n(len(problems), 'problem')} with the submissions. Answers that could not be read are "
        "<strong>not included in any count above</strong>.</p>"
    )
    if not r.names:
        return head + "<p>The facilitator's copy of the command output lists each one, with its file.</p></section>"
    return head + "<ul>" + "".join(f"<li>{esc(p)}</li>" for p in problems) + "</ul></section>"


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
    trouble = problems_html(r)
    if trouble:
        out.append(trouble)
    return out
