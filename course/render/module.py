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


def mark_scheme_markdown(module) -> str:
    r = module.reflection
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
