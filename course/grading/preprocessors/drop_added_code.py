"""DropAddedCode, at autograde before execution: only code cells the course shipped are run."""

from __future__ import annotations

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from .cells import _nbgrader_meta, flag


class DropAddedCode(NbGraderPreprocessor):
    """Before execution, remove code cells the course did not ship (trainees see and write no code).

    A trainee could otherwise add a cell such as `m.score = lambda d: 2` above a graded cell and take full
    marks: nbgrader restores the cells it knows, but runs the ones a trainee adds.
    """

    def preprocess(self, nb, resources):

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            try:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            known = {c.name for c in notebook.source_cells} | {c.name for c in notebook.grade_cells}
        kept, seen, dropped = [], set(), 0
        for cell in nb.cells:
            grade_id = _nbgrader_meta(cell).get("grade_id")
            if cell.cell_type == "code" and (grade_id not in known or grade_id in seen):
                self.log.warning("Not running a code cell that is not part of the course: %r", cell.source[:80])
                dropped += 1
                continue
            seen.add(grade_id)
            kept.append(cell)
        nb.cells = kept
        if dropped:
            flag(
                self.log,
                f"{info['notebook']}.ipynb: {dropped} code cell(s) that are not part of the course were removed "
                "and not run (trainees write no code)",
            )
        return nb, resources
