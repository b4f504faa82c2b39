"""Benchmark: `course workshop` for a room of 30 trainees who answered every module of the real case pack
(papermill executes the report notebook, nbconvert writes the HTML), against the same reading, aggregation
and HTML built in-process without a notebook, interleaved in the same run. The ratio is the price of the
papermill/nbconvert route (a fresh kernel, charts rendered in it, the export).

Target: the whole report in at most 30 s, so that a facilitator can run it during a 15-minute break.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from course.core.paths import PROJECT

ROOT = PROJECT
sys.path.insert(0, str(ROOT))

TARGET_S = 30.0
TRAINEES = 30


def _submissions(case, folder: Path, trainees: int = TRAINEES) -> Path:
    rng = random.Random(7)
    for i in range(trainees):
        for m in case.modules:
            decisions = {}
            for d in case.decisions_in(m.id):
                ids = [o.id for o in d.options]
                choice = sorted(rng.sample(ids, rng.randint(1, len(ids)))) if d.multiple else rng.choice(ids)
                decisions[d.id] = {
                    "first": {
                        "choice": choice,
                        "rationale": "bench",
                        "confidence": rng.randint(1, 5),
                        "submitted_at": "2026-03-01T09:30:00Z",
                        "revealed_at": "2026-03-01T09:30:00Z",
                    },
                    "revisions": [],
                }
            if decisions:
                p = folder / f"trainee{i:02d}" / m.id / "answers.json"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(
                    json.dumps(
                        {
                            "schema": 1,
                            "course": case.id,
                            "course_version": case.version,
                            "decisions": decisions,
                            "activity": {},
                        }
                    ),
                    encoding="utf-8",
                )
    return folder


def run(quick: bool = False) -> list[dict]:
    from course.core.pack import load_case
    from course.workshop.analysis import build_report
    from course.workshop.collect import collect
    from course.workshop.report_html import report_sections
    from course.workshop.run import run_report

    case = load_case(ROOT / "data")
    repeats = 1 if quick else 3
    full, inproc = [], []
    with tempfile.TemporaryDirectory(prefix="bench-workshop-") as tmp:
        folder = _submissions(case, Path(tmp) / "submitted")
        for n in range(repeats):
            start = time.perf_counter()
            run_report(folder, Path(tmp) / f"report{n}.html", case, group="Bench", progress=False)
            full.append(time.perf_counter() - start)
            start = time.perf_counter()
            "".join(report_sections(build_report(case, collect(folder, case), group="Bench")))
            inproc.append(time.perf_counter() - start)
        size = (Path(tmp) / "report0.html").stat().st_size
    median, baseline = statistics.median(full), statistics.median(inproc)
    return [
        {
            "name": f"workshop report, {TRAINEES} trainees x {len(case.decisions)} decisions (papermill + HTML)",
            "median_s": median,
            "baseline": "same reading, aggregation, charts and HTML in-process, no notebook",
            "baseline_median_s": baseline,
            "ratio": median / baseline,
            "target": f"median <= {TARGET_S:.0f} s",
            "met": median <= TARGET_S,
            "notes": f"{repeats} run(s); report {size / 1e6:.1f} MB, self-contained",
        }
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
