"""Benchmark: `course grade` on a cohort of 30 trainees across all modules, against bare `nbgrader autograde`
run serially on the same number of trivial notebooks, measured in the same run. Also the peak memory of a
grading worker (its process plus the notebook kernels it starts).

Targets: time ratio at most 0.7; peak memory per worker at most 400 MB.
Uses the course's own modules when notebooks/ holds them, else the fictional test course (said in notes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course.core.paths import PROJECT
from course.grading.autograde import grade
from course.grading.config import module_ids
from course.grading.export import export
from course.grading.release import release

ROOT = PROJECT
sys.path.insert(0, str(ROOT))  # the tests' fictional course

from tests import grading_support as gs  # noqa: E402


def _cohort_course(base: Path, trainees: int) -> tuple[Path, list[str], str]:
    """Release the modules and submit a cohort with varied answers (aligned, none, partial, missing)."""
    from course.core.pack import load_case

    real = module_ids(ROOT / "notebooks")
    if real:
        notebooks, which = ROOT / "notebooks", "the course's modules"
    else:
        os.environ["COURSE_DATA"] = str(gs.FIXTURE_PACK)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(gs.STANDIN_DIR), os.environ.get("PYTHONPATH")) if p)
        notebooks = base / "notebooks"
        gs.write_source_course(load_case(gs.FIXTURE_PACK), notebooks)
        which = "the fictional test course (notebooks/ has no module notebooks yet)"
    case = load_case()
    course = base / "grading"
    modules = [r.module for r in release(course, notebooks, validate=False, log=lambda *_: None)]
    for n in range(trainees):
        for mid in modules:
            choices = {}
            for d in case.decisions_in(mid):
                ranked = sorted(d.options, key=lambda o: -o.points)
                pick = ranked[n % len(ranked)]
                choices[d.id] = [pick.id] if d.multiple else pick.id
            gs.submit(course, f"trainee{n:02d}", mid, gs.answers_doc(case, choices) if n % 7 else None)
    return course, modules, which


def _trivial_course(base: Path, trainees: int, assignments: int) -> Path:
    course = base / "trivial"
    (course / "source").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'bench'\nc.CourseDirectory.root = {str(course)!r}\n"
    )
    cell = nbformat.v4.new_code_cell("answer = 1 + 1")
    cell.metadata = {
        "nbgrader": {
            "schema_version": 3,
            "grade": True,
            "solution": False,
            "task": False,
            "locked": True,
            "grade_id": "trivial",
            "points": 1,
        }
    }
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    env = _env()
    for a in range(assignments):
        aid = f"a{a}"
        (course / "source" / aid).mkdir()
        nbformat.write(nb, course / "source" / aid / f"{aid}.ipynb")
        subprocess.run(
            [*_nbgrader(), "generate_assignment", aid, "--force"], cwd=course, env=env, check=True, capture_output=True
        )
        for t in range(trainees):
            folder = course / "submitted" / f"trainee{t:02d}" / aid
            folder.mkdir(parents=True)
            shutil.copy(course / "release" / aid / f"{aid}.ipynb", folder)
    return course


def _nbgrader() -> list[str]:
    return [sys.executable, "-m", "nbgrader"]


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run(quick: bool) -> list[dict]:
    trainees = 4 if quick else 30
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Path(tmp)
        course, modules, which = _cohort_course(base, trainees)
        n = trainees * len(modules)
        trivial = _trivial_course(base, trainees, len(modules))

        t0 = time.monotonic()
        for a in range(len(modules)):  # bare nbgrader, serially: one `autograde` per assignment, all students
            out = subprocess.run(
                [*_nbgrader(), "autograde", f"a{a}", "--force"], cwd=trivial, env=_env(), capture_output=True, text=True
            )
            if out.returncode:
                raise RuntimeError(f"baseline autograde failed:\n{out.stderr[-3000:]}")
        baseline = time.monotonic() - t0

        t0 = time.monotonic()
        result = grade(course, progress=False, log=lambda *_: None)
        export(course, log=lambda *_: None)
        ours = time.monotonic() - t0
        failed = len(result.failed)
        workers = min(os.cpu_count() or 1, trainees)
    common = (
        f"{trainees} trainees x {len(modules)} modules = {n} submissions of {which}; "
        f"{workers} workers on {os.cpu_count()} cores; {failed} failed"
    )
    return [
        {
            "name": "course grade (cohort, parallel)",
            "median_s": ours,
            "baseline": f"nbgrader autograde, serial, {n} trivial notebooks",
            "baseline_median_s": baseline,
            "ratio": ours / baseline,
            "target": "ratio <= 0.7",
            "notes": common + "; includes the CSV/summary export",
        },
        {
            "name": "course grade: peak memory per worker (MB, in median_s)",
            "median_s": result.peak_rss_mb,
            "baseline": "400 MB budget",
            "baseline_median_s": 400.0,
            "ratio": result.peak_rss_mb / 400.0,
            "target": "<= 400 MB (ratio <= 1.0)",
            "notes": "worker process plus its notebook kernel, sampled about once a second; " + common,
        },
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
