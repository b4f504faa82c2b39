"""PlaceReflection, at autograde before execution: the reflection a trainee wrote in the page's box (kept in
answers.json) goes into nbgrader's manually graded answer cell, as inert text, so formgrader, the mark scheme
and feedback work as they always have. A notebook whose cell was written in JupyterLab, with no box text,
keeps its own cell."""

from __future__ import annotations

import html
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

from ...core.answers import AnswersError, read_answers
from ...core.contract import ANSWERS_FILE, REFLECTION_PREFIX
from .cells import _nbgrader_meta


def as_markdown(text: str) -> str:
    """The trainee's words as markdown that renders as exactly those words: no HTML, no script, no link."""
    return html.escape(text, quote=False).replace("\r\n", "\n")


class PlaceReflection(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        try:
            answers = read_answers(folder / ANSWERS_FILE)
        except AnswersError:
            return nb, resources
        for cell in nb.cells:
            grade_id = _nbgrader_meta(cell).get("grade_id", "")
            if cell.cell_type == "markdown" and grade_id.startswith(REFLECTION_PREFIX):
                text = answers.reflection(grade_id[len(REFLECTION_PREFIX) :])
                if text.strip():
                    cell.source = as_markdown(text)
        return nb, resources
