"""A module's fixed text: 'About this module' (Markdown for the built notebook, HTML for the facade) and the
reflection's mark scheme for graders."""

from __future__ import annotations

from ..core.contract import MARK_SCHEME_HEADING
from ..core.records import Case, Module
from .style import STYLE, esc


def about_markdown(case: Case, module: Module) -> str:
    """'About this module': what it covers, its period, time and number of decisions, and its objectives (the
    same facts as ModuleSession.intro(), from modules.yaml and decisions.yaml)."""
    n = len(case.decisions_in(module.id))
    objectives = "\n".join(f"- {o}" for o in module.objectives)
    return (
        f"## About this module\n\n{module.summary}\n\n**Period:** {module.period_text}. **Time:** about "
        f"{module.minutes} minutes. **Decisions:** {n}.\n\n### By the end you will be able to\n\n{objectives}"
    )


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def criteria_markdown(module: Module) -> str:
    """How the reflection is marked, for the trainee beside the question: each criterion and what earns its
    points (the anchor answers stay with the markers)."""
    r = module.reflection
    if r is None or not r.criteria:
        return ""
    lines = ["**How your reflection is marked** (each line scored on its own):", ""]
    for c in r.criteria:
        top = c.levels[-1]
        lines.append(f"- **{c.text}** ({c.points} point{'s' if c.points != 1 else ''}): {top.descriptor}")
    return "\n".join(lines)


def mark_scheme_markdown(module: Module) -> str:
    r = module.reflection
    assert r is not None
    if r.criteria:
        return _criteria_scheme(module)
    lines = [
        f"### {MARK_SCHEME_HEADING}",
        "",
        f"**{module.title}: reflection, {r.points} point{'s' if r.points != 1 else ''}.**",
        "",
        f"Prompt the trainee answered: *{r.prompt}*",
        "",
        "| Points | The answer |",
        "| --- | --- |",
    ]
    for level in sorted(r.rubric, key=lambda lv: lv.points):
        lines.append(f"| {level.points} | {level.descriptor.replace('|', '/')} |")
    lines += ["", "Between two levels, give the points in between. Say why in the comment box: the trainee sees it."]
    return "\n".join(lines)


def _criteria_scheme(module: Module) -> str:
    """The analytic scheme for markers: one table per criterion, each level with what earns it and an anchor
    answer, so that two markers score the same answer alike line by line."""
    r = module.reflection
    assert r is not None
    lines = [
        f"### {MARK_SCHEME_HEADING}",
        "",
        f"**{module.title}: reflection, {r.points} point{'s' if r.points != 1 else ''}, "
        f"{len(r.criteria)} criteria scored one by one.**",
        "",
        f"Prompt the trainee answered: *{r.prompt}*",
    ]
    for n, c in enumerate(r.criteria, 1):
        lines += ["", f"**{n}. {c.text}** ({c.points} point{'s' if c.points != 1 else ''})", ""]
        lines += ["| Points | What earns it | An answer at this level |", "| --- | --- | --- |"]
        lines += [f"| {lv.points} | {_cell(lv.descriptor)} | {_cell(lv.anchor)} |" for lv in c.levels]
    lines += [
        "",
        "Add the criteria's points for the score. In the comment, name the criteria met and one that was not: "
        "the trainee sees it.",
    ]
    return "\n".join(lines)


def intro_html(case: Case, module: Module) -> str:
    """'About this module' as HTML (the built notebook carries the same facts as Markdown: about_markdown)."""
    objectives = "".join(f"<li>{esc(o)}</li>" for o in module.objectives)
    decisions = case.decisions_in(module.id)
    return (
        f'{STYLE}<section class="course-view" aria-label="About this module"><h2>About this module</h2>'
        f"<p>{esc(module.summary)}</p>"
        f"<p><strong>Period:</strong> {esc(module.period_text)}. <strong>Time:</strong> about {module.minutes} "
        f"minutes. <strong>Decisions:</strong> {len(decisions)}.</p>"
        f"<h3>By the end you will be able to</h3><ul>{objectives}</ul></section>"
    )
