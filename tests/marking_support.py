"""A small real cohort for the marking tests and the marking benchmark: the course's own modules released with
`course release`, reflections and decisions submitted as the trainee pages write them (answers.json), graded with
`course grade`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests import grading_support as gs
from tests.paths import ROOT

COURSE = str(Path(sys.executable).parent / "course")
HOSTILE = (
    'I would share it. <script>window.courseHacked = 1</script> <img src=x onerror="window.courseHacked = 2"> '
    "& that is <b>all</b>."
)
REFLECTIONS = [
    "The 2009 assessment rested on the belief that Mr A had left, while the police were called again and again. "
    "Each notification was dealt with on its own, so the pattern never came into view. Anna and Daniel lived "
    "with fighting and drink at home. I will read the chronology before I close any contact.",
    "They should have known from the start. The mother needed more support.",
    "Notifications arrived one at a time and said little about the children.\n\nI will ask who lives in the home.",
    "The overdose, the call-outs and the assessment each looked minor on their own.",
]


def run_course(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    out = subprocess.run([COURSE, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert out.returncode == 0, f"course {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out


def answers(case, module: str, reflection: str, pick: int = 0) -> dict:
    """answers.json as the trainee's page writes it: a first answer to each decision (option `pick`, or the last
    one), with a rationale, and the reflection."""
    choices = {}
    for d in case.decisions_in(module):
        opt = d.options[min(pick, len(d.options) - 1)]
        choices[d.id] = [opt.id] if d.multiple else opt.id
    doc = gs.answers_doc(case, choices)
    for d in case.decisions_in(module):
        doc["decisions"][d.id]["first"]["rationale"] = f"As {module}: I weighed what the {d.role_title} held then."
    doc["reflections"] = {module: {"text": reflection, "saved_at": "2026-01-10T09:30:00Z", "history": []}}
    return doc


def _blank_reflection(nb) -> None:
    """The notebook as the trainee pages submit it: the reflection is in answers.json, its cell left empty."""
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("reflection-"):
            cell.source = ""


def build_cohort(course_dir: Path, trainees: dict[str, str], module: str = "m01-early-years") -> Path:
    """Release `module` into course_dir, submit each trainee's reflection, grade: the folder `course mark` opens."""
    from course.core.cached import load_case_cached

    case = load_case_cached()
    run_course("release", "--course-dir", str(course_dir), "--module", module, "--no-validate")
    for n, (trainee, text) in enumerate(sorted(trainees.items())):
        gs.submit(course_dir, trainee, module, answers(case, module, text, pick=n), notebook_edit=_blank_reflection)
    run_course("grade", "--course-dir", str(course_dir), "--no-progress", "--workers", "1")
    return course_dir
