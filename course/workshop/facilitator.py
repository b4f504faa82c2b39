"""The facilitator guide's generated section: discussion prompts for every decision, from the case pack."""

from __future__ import annotations

from ..core.records import Case
from .collect import WorkshopError

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
            lines += [
                f"#### `{d.id}`{practice}",
                "",
                f"*Role:* {d.role_title}. *When:* {d.date_text}.",
                "",
                f"- **The question:** {d.question}"
                + (" (choose all that apply)" if d.multiple and "all that apply" not in d.question else ""),
                f"- **Reasons (ask before the reveal):** {d.rationale_prompt}",
            ]
            if d.learning_together:
                lines += [
                    f"- **At the front of their mind:** {d.learning_together.front_of_mind}",
                    f"- **What would have helped:** {d.learning_together.would_have_helped}",
                ]
            for w in d.went_well:
                lines.append(f"- **What went well (say this too):** {w.text}")
            lines += [
                f"- **For the facilitator, after the reveal: the review's position in brief.** {d.review.summary}",
                "",
            ]
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
