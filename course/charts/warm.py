"""Filling the per-user chart cache ahead of time, so module pages open without drawing (called when the course
is released or a workspace built)."""

from __future__ import annotations

from ..core import cache
from ..core.records import Case
from ..render.lens import lens_agencies
from ..render.summary import summary_rows
from .summary import summary_chart_png
from .timeline import TimelineFigure


def warm_cache(case: Case, modules: list[str] | None = None, every_state: bool = False) -> dict:
    """Render into the per-user cache the timeline backgrounds a module notebook opens with (no agency and
    the lens's first agency highlighted, no hindsight lane) and each module's summary chart before any
    answer, so the module notebooks open without drawing. `every_state` also renders every other agency
    with and without the hindsight lane (about 20 images a module). Returns counts; never raises because of
    the cache (with no usable cache it renders nothing)."""
    counts = {"timeline_drawn": 0, "timeline_cached": 0, "summary": 0}
    if cache.cache_dir() is None:
        return counts
    counts["pruned"] = cache.prune()  # entries of older versions age out here, never in a trainee's kernel
    for module in case.modules:
        if modules is not None and module.id not in modules:
            continue
        chart = TimelineFigure(case, module)
        first = lens_agencies(case, module)[0]
        states = [(None, False), (first, False)]
        if every_state:
            states += [(a, h) for h in (False, True) for a in (None, *chart.data.lanes) if (a, h) not in states]
        for highlight, show_hindsight in states:
            chart.set_static(highlight=highlight, show_hindsight=show_hindsight)
            chart.background_png()
        counts["timeline_drawn"] += chart.background_renders
        counts["timeline_cached"] += chart.background_cache_hits
        summary_chart_png(summary_rows(case, module.id, None))
        counts["summary"] += 1
    return counts
