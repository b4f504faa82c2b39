"""`course bench`: run the benchmarks in bench/ and print one table of medians, baselines and ratios.

Each bench/bench_<name>.py exposes run(quick) -> list of result dicts (name, median_s, baseline,
baseline_median_s, ratio, target, notes; optionally p95_s, unit ("MB" or "actions" for values that are not
seconds) and met). Timings are reported, never asserted: the table says whether each target was met.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path

from ..core import paths

BENCH_DIR = paths.BENCH


def discover(bench_dir: Path = BENCH_DIR, only: list[str] | None = None) -> list[Path]:
    """bench_*.py files, filtered by `only` (substrings of the file name, e.g. 'widgets')."""
    files = sorted(bench_dir.glob("bench_*.py"))
    if only:
        files = [f for f in files if any(o in f.stem for o in only)]
    return files


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"course_bench_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_mb(row: dict) -> bool:
    return row.get("unit") == "MB" or "(MB" in str(row.get("name", ""))


def _value(row: dict, key: str) -> str:
    v = row.get(key)
    if not isinstance(v, (int, float)):
        return "-"
    if row.get("unit") == "actions":  # counts (key presses and clicks), not times
        return f"{v:g} actions"
    if _is_mb(row):
        return f"{v:.0f} MB"
    if v < 1:
        return f"{v * 1000:.2f} ms" if v < 0.01 else f"{v * 1000:.1f} ms"
    return f"{v:.2f} s"


def format_table(rows: list[dict]) -> str:
    headers = ["benchmark", "median", "p95", "baseline", "baseline median", "ratio", "target", "met"]
    table = []
    for r in rows:
        ratio = r.get("ratio")
        met = r.get("met")
        table.append(
            [
                str(r.get("name", "?")),
                _value(r, "median_s"),
                _value(r, "p95_s"),
                str(r.get("baseline", "-")),
                _value(r, "baseline_median_s"),
                f"{ratio:.2f}" if isinstance(ratio, (int, float)) else "-",
                str(r.get("target", "-")),
                "-" if met is None else ("yes" if met else "NO"),
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    notes = [f"- {r.get('name')}: {r['notes']}" for r in rows if r.get("notes")]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)


def run_benchmarks(only: list[str] | None = None, quick: bool = False, bench_dir: Path = BENCH_DIR) -> int:
    files = discover(bench_dir, only)
    if not files:
        wanted = f" matching {', '.join(only)}" if only else ""
        print(f"No benchmarks{wanted} in {bench_dir}.", file=sys.stderr)
        return 0
    rows: list[dict] = []
    failed: list[str] = []
    for n, path in enumerate(files, 1):
        print(f"[{n}/{len(files)}] {path.name}{' (quick)' if quick else ''} ...", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        try:
            rows += list(_load(path).run(quick))
        except Exception:  # one broken benchmark must not hide the others' numbers
            failed.append(path.name)
            print(f"{path.name} failed:\n{traceback.format_exc()}", file=sys.stderr)
        print(f"[{n}/{len(files)}] {path.name} done in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    print(format_table(rows))
    if failed:
        print(f"\nFailed to run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
