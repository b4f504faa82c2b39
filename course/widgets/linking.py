"""One date for the lens and the timeline: moving either's date moves the other, and the lens's agency is
highlighted in the timeline (module pages and the projector view alike)."""

from __future__ import annotations

import ipywidgets as widgets

from .lens import Lens
from .timeline import Timeline


def link_dates(lens: Lens, timeline: Timeline) -> widgets.link:
    """Link the two date controls (the timeline takes the lens's date); returns the link, to unlink it while
    both change their stops."""
    timeline.slider.value = lens.slider.value
    return widgets.link((lens.slider, "value"), (timeline.slider, "value"))


def link_views(lens: Lens, timeline: Timeline) -> widgets.link:
    """Link the dates, and highlight the lens's agency in the timeline as it changes."""
    link = link_dates(lens, timeline)
    timeline.set_highlight(lens.agency.value)
    lens.agency.observe(lambda change: timeline.set_highlight(change["new"]), names="value")
    return link
