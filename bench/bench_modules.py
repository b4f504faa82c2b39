"""Benchmark: the six module notebooks executed headless (papermill, fresh kernel each, COURSE_READ_ONLY=1),
against the same number of trivial one-cell notebooks executed the same way, interleaved in the same run.
A second row does the same with nbclient, the executor nbgrader's autograde and Validator use.

Target: ratio at most 1.5 (what the course's views add on top of starting a kernel).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 1.5


def _module_ids() -> list[str]:
    from course.case import load_case

    return [m.id for m in load_case(ROOT / "data").modules]


def _papermill(path: Path) -> float:
    import papermill

    start = time.perf_counter()
    papermill.execute_notebook(str(path), str(path.with_suffix(".out.ipynb")), cwd=str(path.parent),
                               kernel_name="python3", progress_bar=False, log_output=False)
    return time.perf_counter() - start


def _nbclient(path: Path) -> float:
    from nbclient import NotebookClient

    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


EXECUTORS = {"papermill": _papermill, "nbclient": _nbclient}


def run(quick: bool = False) -> list[dict]:
    rows = _run("papermill", quick, detail=True)
    rows[1:1] = _run("nbclient", quick, detail=False)
    return rows


def _run(executor: str, quick: bool, detail: bool) -> list[dict]:
    os.environ["COURSE_READ_ONLY"] = "1"  # a benchmark must never write an answers file
    os.environ.pop("COURSE_DATA", None)
    _execute = EXECUTORS[executor]
    repeats = 1 if quick else 3
    modules = _module_ids()
    per_module: dict[str, list[float]] = {m: [] for m in modules}
    per_trivial: list[float] = []
    totals, trivial_totals = [], []
    with tempfile.TemporaryDirectory(prefix="bench-modules-") as tmp:
        base = Path(tmp)
        for mid in modules:
            shutil.copytree(ROOT / "notebooks" / mid, base / mid)
        trivial = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        trivial.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        for n in range(len(modules)):
            (base / f"trivial{n}").mkdir()
            nbformat.write(trivial, base / f"trivial{n}" / f"trivial{n}.ipynb")
        for _ in range(repeats):
            total = trivial_total = 0.0
            for n, mid in enumerate(modules):  # interleaved, so load on the shared machine hits both alike
                s = _execute(base / mid / f"{mid}.ipynb")
                per_module[mid].append(s)
                total += s
                t = _execute(base / f"trivial{n}" / f"trivial{n}.ipynb")
                per_trivial.append(t)
                trivial_total += t
            totals.append(total)
            trivial_totals.append(trivial_total)
        leaked = sorted(str(p) for p in base.rglob("answers.json*"))
    median, baseline = statistics.median(totals), statistics.median(trivial_totals)
    trivial_one = statistics.median(per_trivial)
    notes = f"{repeats} run(s); {executor}, fresh kernel per notebook; " + (
        "no answers file written" if not leaked else f"ANSWERS FILES WRITTEN: {leaked}")
    rows = [{
        "name": f"modules: all {len(modules)} executed headless ({executor})",
        "median_s": round(median, 3),
        "baseline": f"{len(modules)} trivial one-cell notebooks, {executor}",
        "baseline_median_s": round(baseline, 3),
        "ratio": round(median / baseline, 3),
        "target": f"ratio <= {TARGET}",
        "notes": notes,
    }]
    for mid in modules if detail else ():
        m = statistics.median(per_module[mid])
        rows.append({
            "name": f"modules: {mid} executed headless ({executor})",
            "median_s": round(m, 3),
            "baseline": "one trivial one-cell notebook",
            "baseline_median_s": round(trivial_one, 3),
            "ratio": round(m / trivial_one, 3),
            "target": f"ratio <= {TARGET} (for the six together)",
            "notes": f"{len(nbformat.read(ROOT / 'notebooks' / mid / f'{mid}.ipynb', as_version=4).cells)} cells",
        })
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
