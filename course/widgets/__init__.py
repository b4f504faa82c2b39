"""Interactive views of a case (ipywidgets + matplotlib): agency lens, swimlane timeline, decision point,
module summary. They hold no case facts: everything comes from the Case through course.knowledge."""

from .lens import Lens, Stop, hindsight_items, lens_items, slider_stops
from .timeline import Timeline, timeline_alt_text, timeline_data

__all__ = ["Lens", "Stop", "Timeline", "hindsight_items", "lens_items", "slider_stops", "timeline_alt_text",
           "timeline_data"]
