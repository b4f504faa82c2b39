"""SanitiseTraineeText, at autograde (after the grades are saved) and again at feedback: nothing a trainee wrote
in a markdown or raw cell is markup a browser runs, in formgrader (which renders the autograded notebook) or on
a feedback page. nbconvert renders markdown with its HTML sanitiser off, and MathJax typesets `$...$` anywhere.

Each markdown cell that is not the course's own text (word for word as in the source notebook) is rendered as
nbconvert renders it, cleaned by nh3 (the ammonia sanitiser: no scripts, styles, frames, event handlers or
javascript: links), and kept as one HTML block on one line, marked for MathJax to leave alone. Raw cells are
cleaned the same way, and the notebook keeps no metadata but its kernel's (widget state would be drawn). Doing
it again is harmless: a cell already made inert is cleaned, not rendered again.
"""

from __future__ import annotations

import html

import nh3
from nbgrader.preprocessors import NbGraderPreprocessor

from .cells import source_notebook

WRAP_OPEN = '<div class="course-trainee-text tex2jax_ignore mathjax_ignore">'
WRAP_CLOSE = "</div>"
ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}  # text only: no image loaded from anywhere
URL_SCHEMES = {"http", "https", "mailto"}
KEPT_METADATA = ("kernelspec", "language_info")


def _markdown_to_html(text: str) -> str:
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    try:
        return MarkdownWithMath(renderer=IPythonRenderer(escape=False, exclude_anchor_links=True)).render(text)
    except Exception:  # a pathological text or an attachment that is not there: show it as plain text
        return f"<pre>{html.escape(text)}</pre>"


def inert_html(text: str, markdown: bool = True) -> str:
    """Trainee text as one line of clean HTML: what nbconvert would show, minus anything that runs or loads."""
    if text.startswith(WRAP_OPEN) and text.endswith(WRAP_CLOSE) and "\n" not in text:
        rendered = text[len(WRAP_OPEN) : -len(WRAP_CLOSE)]  # made inert before: clean it again, never re-render
    else:
        rendered = _markdown_to_html(text) if markdown else text
    clean = nh3.clean(rendered, tags=ALLOWED_TAGS, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow")
    # One line, so that markdown keeps it as a single HTML block (a blank line would end the block); &#10; keeps
    # line breaks inside <pre>.
    return WRAP_OPEN + clean.replace("\r", "").replace("\n", "&#10;") + WRAP_CLOSE


class SanitiseTraineeText(NbGraderPreprocessor):
    """Make every markdown and raw cell that is not the course's own text inert (see the module's docstring)."""

    def preprocess(self, nb, resources):
        # The notebook's own metadata is the trainee's too: widget state in it would be drawn by the widget
        # manager a page loads (an HTML widget shows any markup). Grading needs only the kernel's.
        nb.metadata = {k: nb.metadata[k] for k in KEPT_METADATA if k in nb.metadata}
        source = source_notebook(self.config, resources)
        course_text = {c.source for c in source.cells if c.cell_type == "markdown"} if source is not None else set()
        for cell in nb.cells:
            if cell.cell_type == "markdown" and cell.source not in course_text:
                cell.source = inert_html(cell.source)
                cell.pop("attachments", None)
            elif cell.cell_type == "raw":
                cell.source = inert_html(cell.source, markdown=False)
        return nb, resources
