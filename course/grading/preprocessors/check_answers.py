"""CheckAnswers, at autograde after execution: what in a submission needs the trainer, said beside the decision.

The graded cells score answers.json through course.core.answers, which leaves out any answer the course could
not have written (it scores 0). This says why, under the decision's graded cell (formgrader and the feedback
page show it), and tells the trainer through nbgrader's log, which `course grade` reports naming the trainee,
module and file: an answers file that is missing or cannot be read, an answer that cannot be used, a first
answer edited by hand after the review was revealed (its digest does not match), and a graded cell that could
not run.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from ...core.answers import AnswersError, read_answers
from ...core.cached import load_case_cached
from ...core.contract import ANSWERS_FILE, SCORE_PREFIX
from .cells import _nbgrader_meta, flag
from .submitted_files import NOT_A_FILE


def _note(cell, text: str) -> None:
    """A plain line under the graded cell's own output (never stderr, which nbgrader scores as a failure)."""
    outputs = cell.setdefault("outputs", [])
    at = next((i for i, o in enumerate(outputs) if o.get("output_type") == "execute_result"), len(outputs))
    outputs.insert(at, nbformat.v4.new_output("stream", name="stdout", text=text + "\n"))


class CheckAnswers(NbGraderPreprocessor):
    """Say, under each decision and to the trainer, what in the submitted answers could not be used."""

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        graded = {
            _nbgrader_meta(c).get("grade_id", "")[len(SCORE_PREFIX) :]: c
            for c in nb.cells
            if c.cell_type == "code" and str(_nbgrader_meta(c).get("grade_id", "")).startswith(SCORE_PREFIX)
        }
        for did, cell in graded.items():
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                flag(
                    self.log,
                    f"the graded cell for decision {did!r} could not run ({errors[0].get('ename')}); it scores 0",
                )
        if not graded:
            return nb, resources
        path = folder / ANSWERS_FILE
        if resources.get(NOT_A_FILE):
            return nb, resources  # said already, when it was taken out of the grading folder
        if not path.exists() and not path.is_symlink():
            flag(self.log, f"no {ANSWERS_FILE} was submitted, so every decision scores 0")
            return nb, resources
        try:
            answers = read_answers(path, load_case_cached())
        except AnswersError as e:
            flag(self.log, f"{e} Every decision scores 0.")
            return nb, resources
        except Exception as e:  # the case pack itself: the course's problem, not this trainee's
            self.log.warning("The answers could not be checked against the case pack: %s", e)
            return nb, resources
        for did, why in answers.problems.items():
            if did in graded:
                _note(graded[did], f"The answer recorded for this decision cannot be used: {why}. It scores 0.")
                flag(
                    self.log,
                    f"{ANSWERS_FILE}: decision {did!r}: the recorded answer cannot be used ({why}); it scores 0",
                )
        for did in answers.unsealed:
            if did in graded:
                _note(
                    graded[did],
                    "Note for your trainer: this first answer does not match the check recorded with it when it was "
                    "saved, so it may have been changed by hand after the review's analysis was shown.",
                )
                flag(
                    self.log,
                    f"{ANSWERS_FILE}: decision {did!r}: the first answer does not match its digest (probably edited "
                    "by hand after the review was revealed); scored as it stands",
                )
        return nb, resources
