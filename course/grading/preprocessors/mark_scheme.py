"""InsertMarkScheme, last at autograde: before each reflection answer cell, a locked markdown cell with the
module's mark scheme from the case pack, so formgrader (which renders the autograded notebook) shows the grader
the mark scheme beside the answer (nbgrader #1310, #1499). CleanFeedback removes it again."""

from __future__ import annotations

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ...core.contract import MARK_SCHEME_TAG, REFLECTION_PREFIX
from ...render.module import mark_scheme_markdown
from .cells import _nbgrader_meta, is_mark_scheme_cell, the_case


class InsertMarkScheme(NbGraderPreprocessor):
    """Put the reflection's mark scheme, locked, just above each reflection answer cell."""

    tag = Unicode(MARK_SCHEME_TAG, help="Tag of the mark scheme cell (CleanFeedback.mark_scheme_tag removes it).").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        case = None
        cells = []
        for cell in nb.cells:
            if is_mark_scheme_cell(cell):
                continue  # never two copies, whatever the input held
            grade_id = _nbgrader_meta(cell).get("grade_id", "")
            if cell.cell_type == "markdown" and grade_id.startswith(REFLECTION_PREFIX):
                case = case or the_case()
                module_id = grade_id[len(REFLECTION_PREFIX) :]
                try:
                    module = case.module(module_id)
                except KeyError:
                    module = None
                if module is not None and module.reflection is not None:
                    ms = nbformat.v4.new_markdown_cell(mark_scheme_markdown(module))
                    ms.metadata = {"tags": [self.tag], "editable": False, "deletable": False}
                    cells.append(ms)
            cells.append(cell)
        nb.cells = cells
        return nb, resources
