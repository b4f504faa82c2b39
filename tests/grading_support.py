"""Builds a small fictional nbgrader course (modules of tests/fixtures/case) and trainee submissions for the
grading and workspace tests. The notebooks have the graded-cell shape of the course contract."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import nbformat

from tests.paths import FIXTURE_PACK, ROOT

STANDIN_DIR = ROOT / "tests" / "fixtures" / "grading"


def facade_module() -> str:
    """The real notebook facade once it exists, else the test stand-in (tests/fixtures/grading)."""
    return "course.notebook" if importlib.util.find_spec("course.notebook") else "standin_facade"


def use_fixture_case(monkeypatch) -> None:
    """Kernels started by nbgrader inherit this environment: the fictional case, and the stand-in on the path."""
    monkeypatch.setenv("COURSE_DATA", str(FIXTURE_PACK))
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(STANDIN_DIR), path) if p))


def _code(source: str, **nbgrader) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = {"jupyter": {"source_hidden": True}, "editable": False, "deletable": False}
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "solution": False, "task": False, **nbgrader}
    return cell


def module_notebook(case, module_id: str, facade: str | None = None) -> nbformat.NotebookNode:
    facade = facade or facade_module()
    module = case.module(module_id)
    cells = [
        nbformat.v4.new_markdown_cell(f"# {module.title}\n\n{module.summary}"),
        _code(
            f'from {facade} import open_module\nm = open_module("{module_id}")',
            grade=False,
            grade_id="intro",
            locked=True,
        ),
    ]
    for d in case.decisions_in(module_id):
        cells.append(nbformat.v4.new_markdown_cell(f"## {d.question}"))
        cells.append(_code(f'm.decision("{d.id}")', grade=False, grade_id=f"decision-{d.id}", locked=True))
        cells.append(
            _code(
                f'm.recorded("{d.id}")\n### BEGIN HIDDEN TESTS\nm.score("{d.id}")\n### END HIDDEN TESTS',
                grade=True,
                grade_id=f"score-{d.id}",
                locked=True,
                points=d.max_points,
            )
        )
    if module.reflection:
        r = module.reflection
        cells.append(nbformat.v4.new_markdown_cell(f"## Reflection\n\n{r.prompt}"))
        answer = nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nA model answer only graders see.\n### END SOLUTION")
        answer.metadata = {
            "nbgrader": {
                "schema_version": 3,
                "solution": True,
                "grade": True,
                "task": False,
                "locked": False,
                "grade_id": f"reflection-{module_id}",
                "points": r.points,
            }
        }
        cells.append(answer)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def write_source_course(case, notebooks_dir: Path, modules: list[str] | None = None) -> list[str]:
    modules = modules or [m.id for m in case.modules]
    for mid in modules:
        folder = notebooks_dir / mid
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(module_notebook(case, mid), folder / f"{mid}.ipynb")
    return modules


def answers_doc(case, choices: dict, when: str = "2026-01-10T09:00:00Z") -> dict:
    decisions = {}
    for did, choice in choices.items():
        record = {"choice": choice, "rationale": "Because.", "confidence": 3, "submitted_at": when}
        decisions[did] = {"first": {**record, "revealed_at": when}, "revisions": []}
    return {"schema": 1, "course": case.id, "course_version": case.version, "decisions": decisions, "activity": {}}


def submit(
    course_dir: Path,
    trainee: str,
    module: str,
    answers: dict | str | None = None,
    notebook_edit=None,
    timestamp: str = "2026-01-10 10:00:00.000000 UTC",
) -> Path:
    """Put a trainee's submission where `nbgrader collect` would: submitted/<trainee>/<module>/."""
    folder = Path(course_dir) / "submitted" / trainee / module
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    nb = nbformat.read(Path(course_dir) / "release" / module / f"{module}.ipynb", as_version=4)
    reflection = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("reflection-")]
    for c in reflection:
        c.source = f"My reflection as {trainee}: I would share the bruise with social care."
    if notebook_edit:
        notebook_edit(nb)
    nbformat.write(nb, folder / f"{module}.ipynb")
    (folder / "timestamp.txt").write_text(timestamp)
    if isinstance(answers, dict):
        (folder / "answers.json").write_text(json.dumps(answers))
    elif isinstance(answers, str):
        (folder / "answers.json").write_text(answers)
    return folder


def mark_reflections(course_dir: Path, score: float = 0, comment: str = "Marked.") -> int:
    """Mark every reflection still waiting for a grader as formgrader's Manual Grading saves a mark (the manual score,
    which clears nbgrader's flag, and the comment): feedback is only made for marked work. Returns how many."""
    from nbgrader.api import Gradebook

    from course.grading.config import load_config

    cfg = load_config(Path(course_dir))
    n = 0
    with Gradebook(cfg.CourseDirectory.db_url, cfg.CourseDirectory.course_id) as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                for nb in sub.notebooks:
                    for g in nb.grades:
                        if g.name.startswith("reflection-") and g.needs_manual_grade:
                            g.manual_score, g.needs_manual_grade = min(score, g.max_score), False
                            gb.find_comment(g.name, assignment.name, nb.name, sub.student.id).manual_comment = comment
                            n += 1
        gb.db.commit()
    return n
