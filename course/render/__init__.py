"""Pure views of the case: view-models and HTML or Markdown text for the lens, timeline, decisions, summary and
module text. Never imports ipywidgets or matplotlib, so grading, workshops and authoring reuse it."""
