"""What a trainee's notebook keeps when JupyterLab saves it: no dead widget views.

A widget view saved in a notebook points at a model that lives only in the kernel that drew it. Reopened
later, JupyterLab finds no such model and shows "Error displaying widget: model not found" in every view,
which reads to a trainee as if their work were lost. This pre-save hook replaces each saved widget view with
a short note saying how to bring the view back (Run All); the trainee's answers are in answers.json and are
not touched. Only the file on disk changes; the open page keeps its live widgets.

Configured as ``ContentsManager.pre_save_hook = "course.apps.save_hook.strip_widget_views"`` by `course lab`
(course/apps/lab.py) and by the JupyterHub setup. Imports nothing heavy: the server imports it at start.
"""

from __future__ import annotations

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STALE_MARK = "course_stale_view"  # output metadata key: this output stood for a widget view when saved

NOTE_TEXT = (
    "This interactive view appears when the notebook runs. To see it again, choose Run > Run All "
    "Cells. Your recorded answers are kept."
)
NOTE_HTML = (
    '<p role="note" style="color:#333;border-left:4px solid #0072B2;padding:0.3em 0.6em;margin:0">'
    "This interactive view appears when the notebook runs. To see it again, choose "
    "<strong>Run &gt; Run All Cells</strong>. Your recorded answers are kept.</p>"
)


def stale_note() -> dict:
    return {"text/html": NOTE_HTML, "text/plain": NOTE_TEXT}


def strip_notebook(nb: dict) -> int:
    """Replace every widget view output in a notebook dict, in place. Returns how many were replaced."""
    replaced = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result") and WIDGET_VIEW in out.get("data", {}):
                out["data"] = stale_note()
                out["metadata"] = {**(out.get("metadata") or {}), STALE_MARK: True}
                replaced += 1
    return replaced


def strip_widget_views(model: dict, **kwargs) -> None:
    """jupyter_server pre-save hook: the notebook's widget views become a note before it reaches disk."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        strip_notebook(model["content"])
