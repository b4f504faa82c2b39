"""RestoreMissingCells, at autograde before execution: every cell the course locked or grades is in the notebook,
in the course's order, whatever the trainee deleted or moved.

nbgrader's OverwriteCells puts back a locked cell a trainee edited, but not one they deleted (possible outside
JupyterLab, by editing the file): a deleted graded cell then scores 0 without a word, and a deleted opening
cell (`m = open_module(...)`) makes every graded cell fail while autograde reports success. The decisions are
recorded in answers.json, so the course's cells are put back from the gradebook and the decisions scored from
it; the trainer is told (course.grading.preprocessors.cells.flag).
"""

from __future__ import annotations

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from .cells import _nbgrader_meta, flag, source_notebook


def _restored(source_cell, grade_cell, solution: bool):
    meta = {
        "schema_version": 3,
        "grade": grade_cell is not None,
        "grade_id": source_cell.name,
        "locked": bool(source_cell.locked),
        "solution": solution,
        "task": False,
        "checksum": source_cell.checksum,
    }
    if grade_cell is not None:
        meta["points"] = float(grade_cell.max_score)
    if source_cell.cell_type == "code":
        cell = nbformat.v4.new_code_cell(source_cell.source)
    else:
        cell = nbformat.v4.new_markdown_cell(source_cell.source)
    cell.metadata = {"nbgrader": meta, "deletable": False}
    if not solution:
        cell.metadata["editable"] = False
    return cell


class RestoreMissingCells(NbGraderPreprocessor):
    """Put back, from the gradebook, every locked or graded cell missing from a submission, and put the course's
    cells back in the course's order (an opening cell moved below the graded cells would fail them all)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            try:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            sources = {c.name: c for c in notebook.source_cells}
            grades = {c.name: c for c in notebook.grade_cells}
            solutions = {c.name for c in notebook.solution_cells}
            present = {_nbgrader_meta(c).get("grade_id") for c in nb.cells}
            missing = [name for name in sources if name not in present]
            added = {
                name: _restored(sources[name], grades.get(name), name in solutions) for name in missing
            }  # built inside the session: the rows are not usable after it closes
        order = self._course_order(resources, list(sources))
        rank = {name: i for i, name in enumerate(order)}
        for name in sorted(missing, key=lambda n: rank.get(n, len(rank))):
            self._insert(nb, added[name], rank)
            flag(
                self.log,
                f"{info['notebook']}.ipynb: the course's cell {name!r} was missing from the submitted notebook; "
                "it was put back from the course before grading",
            )
        if self._reorder(nb, rank):
            flag(self.log, f"{info['notebook']}.ipynb: the course's cells were out of order; their order was restored")
        return nb, resources

    def _course_order(self, resources, names: list[str]) -> list[str]:
        """grade ids in the order of the course's source notebook (the gradebook keeps no order)."""
        source = source_notebook(self.config, resources)
        if source is None:
            return sorted(names, key=lambda n: (n != "intro", n))
        ids = [_nbgrader_meta(c).get("grade_id") for c in source.cells]
        return [i for i in ids if i in names] + [n for n in names if n not in ids]

    @staticmethod
    def _insert(nb, cell, rank: dict) -> None:
        """After the nearest course cell that comes before it in the course's order (or first)."""
        mine = rank.get(cell.metadata["nbgrader"]["grade_id"], len(rank))
        at = 0
        for i, c in enumerate(nb.cells):
            r = rank.get(_nbgrader_meta(c).get("grade_id"))
            if r is not None and r < mine:
                at = i + 1
        nb.cells.insert(at, cell)

    @staticmethod
    def _reorder(nb, rank: dict) -> bool:
        """Put the course's cells in the course's order, each into a place a course cell held; True if moved."""
        places = [i for i, c in enumerate(nb.cells) if _nbgrader_meta(c).get("grade_id") in rank]
        cells = [nb.cells[i] for i in places]
        ordered = sorted(cells, key=lambda c: rank[_nbgrader_meta(c)["grade_id"]])
        if ordered == cells:
            return False
        for i, c in zip(places, ordered, strict=True):
            nb.cells[i] = c
        return True
