"""The course home a trainee lands on: the content warning and where to find support, the modules in order with
each one's progress, and where to carry on. Pure: the progress comes in as data."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.records import Case, Module
from .style import STYLE, esc

SUPPORT = (
    "This course is about the abuse, neglect and death of a real child. It describes domestic abuse, injuries "
    "to a child, and his death. You can pause, step out or stop at any time. If it brings up difficult feelings, "
    "talk to your line manager, your safeguarding lead or your organisation's employee assistance programme. "
    "Samaritans are there day and night on 116 123. If you are worried about a child, call the NSPCC helpline "
    "on 0808 800 5000, or in an emergency 999."
)


@dataclass(frozen=True)
class ModuleProgress:
    module: Module
    decisions: int  # decisions in the module
    answered: int  # of them with a first answer
    last_seen: str  # ISO time the module was last open, or ""
    reflection: bool = False  # a reflection has been written
    available: bool = True  # the module's page is in the trainee's folder (on the shared server: released, fetched)

    @property
    def started(self) -> bool:
        return bool(self.answered or self.last_seen or self.reflection)

    @property
    def done(self) -> bool:
        return self.answered >= self.decisions and (self.reflection or self.module.reflection is None)


def carry_on(progress: list[ModuleProgress]) -> ModuleProgress | None:
    """Where to continue: the unfinished module seen most recently, else the first not started."""
    started = [p for p in progress if p.started and not p.done and p.available]
    if started:
        return max(started, key=lambda p: p.last_seen)
    return next((p for p in progress if not p.done and p.available), None)


def module_href(module_id: str) -> str:
    """A module page's notebook, relative to the workspace's root (home_html puts the pages' address before
    it). The links say target="_self": JupyterLab's renderer would open each module in a new browser tab (and a
    new kernel) when a link does not say where it opens."""
    return f"{module_id}/{module_id}.ipynb"


NOT_AVAILABLE = "Not available to you yet. Your trainer will tell you when it is."
NOT_AVAILABLE_NEXT = "The next module is not available to you yet. Your trainer will tell you when it is."


def _status(p: ModuleProgress) -> str:
    if not p.available:
        return NOT_AVAILABLE
    parts = []
    if p.decisions:
        parts.append(f"{p.answered} of {p.decisions} decision{'s' if p.decisions != 1 else ''} answered")
    if p.module.reflection is not None:
        parts.append("reflection written" if p.reflection else "reflection not written yet")
    if p.done:
        parts.insert(0, "Done")
    elif not p.started:
        parts.insert(0, "Not started")
    return "; ".join(parts)


def home_html(case: Case, progress: list[ModuleProgress], pages_at: str = "") -> str:
    """The home's markup; each module's link is `pages_at` (where the module pages are served, e.g.
    "/voila/render/") followed by its notebook's path."""
    nxt = carry_on(progress)
    parts = [
        STYLE,
        '<main class="course-view course-home" aria-labelledby="course-home-title">',
        f'<h1 id="course-home-title">{esc(case.title)}</h1>',
        '<section class="course-problem" aria-label="Content warning and support">'
        f"<h2>Before you start</h2><p>{esc(SUPPORT)}</p></section>",
    ]
    if nxt is not None:
        verb = "Continue" if nxt.started else "Start"
        parts.append(
            f'<p class="course-next"><a href="{esc(pages_at + module_href(nxt.module.id))}" target="_self">{verb}: '
            f"{esc(nxt.module.title)}</a></p>"
        )
    elif all(p.available for p in progress):
        parts.append('<p class="course-next">You have finished every module. Thank you for taking part.</p>')
    else:
        parts.append(f'<p class="course-next">{esc(NOT_AVAILABLE_NEXT)}</p>')
    parts.append('<h2>The modules</h2><ol class="course-items">')
    for p in progress:
        m = p.module
        title = (
            f'<a href="{esc(pages_at + module_href(m.id))}" target="_self"><strong>{esc(m.title)}</strong></a>'
            if p.available
            else f"<strong>{esc(m.title)}</strong>"
        )
        parts.append(
            f"<li>{title}"
            f"<br>{esc(m.period_text)}. About {m.minutes} minutes.<br>"
            f'<span class="course-status">{esc(_status(p))}</span></li>'
        )
    parts.append("</ol></main>")
    return "".join(parts)
