"""CleanFeedback, at generate_feedback: removes the mark scheme, hidden test code, tracebacks and stderr, and adds
under each decision what the trainee recorded and what the review found."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ...core.answers import AnswersError, read_answers
from ...core.contract import ANSWERS_FILE, HIDDEN_TESTS, MARK_SCHEME_TAG, SCORE_PREFIX
from ...render.decision import review_markdown
from .cells import _nbgrader_meta, is_mark_scheme_cell, tags, the_case

REVIEW_TAG = "course-feedback-review"
HIDDEN_REGION = re.compile(r"^[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*\n?", re.DOTALL | re.MULTILINE)
MARK_SCHEME_REGION = re.compile(r"^[^\n]*BEGIN MARK SCHEME.*?END MARK SCHEME[^\n]*\n?", re.DOTALL | re.MULTILINE)
NOT_RUN_MESSAGE = "This check could not be completed. Your trainer has the details and can explain your score."


def _read_first_answers(folder: Path, case=None) -> tuple[dict, str]:
    """The recorded decisions beside the notebook, and a plain note when there are none."""
    path = folder / ANSWERS_FILE
    if not path.exists():
        return {}, "No answers file was submitted with this module, so no decision was recorded."
    try:
        answers = read_answers(path, case)  # never writes; upgrades older files; leaves out unusable answers
    except AnswersError:
        return {}, "Your answers file could not be read, so no decision could be scored."
    recorded: dict = {d: {"first": answers.first(d)} for d in answers}
    for d in answers.problems:  # the reason is under the graded cell; trainee text never goes into markdown here
        recorded[d] = {"note": "The answer recorded for this decision could not be used, so it scores 0."}
    return recorded, ""


class CleanFeedback(NbGraderPreprocessor):
    """Make an autograded notebook safe to hand back: no mark scheme, hidden tests, tracebacks or stderr."""

    mark_scheme_tag = Unicode(MARK_SCHEME_TAG, help="Cells with this tag are for graders and removed.").tag(config=True)
    review_tag = Unicode(REVIEW_TAG, help="Tag of the review cells this preprocessor adds (never two copies).").tag(
        config=True
    )
    hidden_begin = Unicode(HIDDEN_TESTS[0], help="Start of nbgrader's hidden test region (removed with its code).").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        case = None
        answers = note = None
        cells = []
        for cell in nb.cells:
            if is_mark_scheme_cell(cell) or self.mark_scheme_tag in tags(cell) or self.review_tag in tags(cell):
                continue
            cell.source = MARK_SCHEME_REGION.sub("", cell.source)
            if cell.cell_type == "code":
                hidden = self.hidden_begin in cell.source
                cell.source = HIDDEN_REGION.sub("", cell.source).rstrip()
                cell.outputs = self._safe_outputs(cell.outputs, drop_results=hidden)
            cells.append(cell)
            grade_id = _nbgrader_meta(cell).get("grade_id", "")
            if cell.cell_type == "code" and grade_id.startswith(SCORE_PREFIX):
                case = case or the_case()
                try:
                    decision = case.decision(grade_id[len(SCORE_PREFIX) :])
                except KeyError:
                    continue
                if answers is None:
                    answers, note = _read_first_answers(folder, case)
                mine = answers.get(decision.id) or {}
                md = nbformat.v4.new_markdown_cell(
                    review_markdown(decision, mine if "first" in mine else None, mine.get("note") or note or "")
                )
                md.metadata = {"tags": [self.review_tag]}
                cells.append(md)
        nb.cells = cells
        return nb, resources

    @staticmethod
    def _safe_outputs(outputs, drop_results: bool):
        safe = []
        failed = False
        for out in outputs:
            if out.get("output_type") == "error" or (
                out.get("output_type") == "stream" and out.get("name") == "stderr"
            ):
                failed = True
                continue
            if drop_results and out.get("output_type") == "execute_result":
                continue  # the value a hidden check returned: the score header already says it plainly
            if "traceback" in json.dumps(
                out.get("data", {})
            ).lower() and "Traceback (most recent call last)" in json.dumps(out):
                failed = True
                continue
            safe.append(out)
        if failed:
            safe.append(nbformat.v4.new_output("stream", name="stdout", text=NOT_RUN_MESSAGE + "\n"))
        return safe
