"""Benchmark: loading and validating the real case pack (course.core.pack.load_case on data/), against the same
load with PyYAML's pure-Python safe loader and the source text re-normalised on every use (how the loader
worked before it used libyaml and cached Source.text), interleaved in the same run.

Target: ratio at most 0.5 (the optimised load at most half the time of the unoptimised one).
"""

from __future__ import annotations

import statistics
import sys
import time

from course.core.paths import PROJECT

ROOT = PROJECT
sys.path.insert(0, str(ROOT))

TARGET = 0.5


def _load_optimised() -> float:
    from course.core.pack import load_case

    start = time.perf_counter()
    load_case(ROOT / "data")
    return time.perf_counter() - start


def _load_unoptimised() -> float:
    import yaml

    from course.core import entries as case_mod
    from course.core import source as source_mod
    from course.core.pack import load_case as _load

    saved_loader = case_mod._YAML_LOADER
    saved_text = source_mod.Source.text
    case_mod._YAML_LOADER = yaml.SafeLoader
    source_mod.Source.text = property(lambda self: source_mod.normalise(self.raw))
    try:
        start = time.perf_counter()
        _load(ROOT / "data")
        return time.perf_counter() - start
    finally:
        case_mod._YAML_LOADER = saved_loader
        source_mod.Source.text = saved_text


def run(quick: bool = False) -> list[dict]:
    repeats = 3 if quick else 9
    fast, slow = [], []
    for _ in range(repeats):  # interleaved, so load on the shared machine hits both alike
        fast.append(_load_optimised())
        slow.append(_load_unoptimised())
    median, baseline = statistics.median(fast), statistics.median(slow)
    ratio = median / baseline
    return [
        {
            "name": "case pack load (data/, 60 events, ~200 quotations verified)",
            "median_s": median,
            "baseline": "same load, pure-Python YAML loader and uncached source text",
            "baseline_median_s": baseline,
            "ratio": ratio,
            "target": f"ratio <= {TARGET}",
            "met": ratio <= TARGET,
            "notes": f"{repeats} interleaved repetitions",
        }
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
