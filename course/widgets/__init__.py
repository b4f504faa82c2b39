"""ipywidgets shells over the render layer: the agency lens, the timeline, a decision point and the module
summary. They hold no case facts and no text of their own: everything comes from course.render."""
