"""`course bench`: discovers bench/bench_*.py, runs each, prints one table; never asserts timings."""

from __future__ import annotations

import textwrap

from course.apps.bench import discover, format_table, run_benchmarks
from tests.paths import NOTEBOOKS


def _write(folder, name, body):
    (folder / f"bench_{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")


GOOD = """
    def run(quick):
        return [{"name": "fast thing", "median_s": 0.0123, "p95_s": 0.02, "baseline": "bare", "baseline_median_s": 0.001,
                 "ratio": 12.3, "target": "median <= 30 ms", "met": True, "notes": "quick=%s" % quick},
                {"name": "memory", "median_s": 110.0, "unit": "MB", "baseline": "250 MB budget",
                 "baseline_median_s": 250.0, "ratio": 0.44, "target": "<= 250 MB", "notes": ""}]
"""


def test_bench_prints_one_table_with_medians_baselines_ratios_and_targets(tmp_path, capsys):
    _write(tmp_path, "alpha", GOOD)
    _write(tmp_path, "beta", "def run(quick):\n    return []\n")
    assert [p.stem for p in discover(tmp_path)] == ["bench_alpha", "bench_beta"]
    assert run_benchmarks(quick=True, bench_dir=tmp_path) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].split()[:3] == ["benchmark", "median", "p95"]
    assert "fast thing" in out.out and "12.3 ms" in out.out and "12.30" in out.out and "median <= 30 ms" in out.out
    assert "110 MB" in out.out and "quick=True" in out.out
    assert "[1/2] bench_alpha.py" in out.err and "[2/2] bench_beta.py" in out.err


def test_bench_only_filters_by_name_and_a_broken_benchmark_is_reported(tmp_path, capsys):
    _write(tmp_path, "alpha", GOOD)
    _write(tmp_path, "broken", "def run(quick):\n    raise RuntimeError('boom')\n")
    assert [p.stem for p in discover(tmp_path, ["alp"])] == ["bench_alpha"]
    assert run_benchmarks(only=["alpha"], bench_dir=tmp_path) == 0
    assert run_benchmarks(bench_dir=tmp_path) == 1
    err = capsys.readouterr().err
    assert "boom" in err and "Failed to run: bench_broken.py" in err


def test_rows_naming_megabytes_are_shown_in_megabytes():
    table = format_table(
        [
            {
                "name": "peak memory per worker (MB, in median_s)",
                "median_s": 312.4,
                "baseline": "400 MB budget",
                "baseline_median_s": 400.0,
                "ratio": 0.78,
                "target": "<= 400",
            }
        ]
    )
    assert "312 MB" in table and "400 MB" in table and "0.78" in table


def test_rows_counting_actions_are_shown_as_counts_not_times():
    row = {"name": "marking", "median_s": 7, "baseline": "formgrader", "baseline_median_s": 14.5, "unit": "actions"}
    table = format_table([{**row, "ratio": 0.48, "target": "<= 0.5x"}])
    assert "7 actions" in table and "14.5 actions" in table and " s " not in table


def test_format_table_with_no_rows_still_has_headers():
    assert format_table([]).startswith("benchmark")


def test_the_browser_benchmarks_floor_notebook_has_the_modules_shape_with_trivial_outputs():
    import json

    import nbformat

    from bench.bench_browser import _cell_kind, floor_notebook

    path = NOTEBOOKS / "m04-school" / "m04-school.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    floor = floor_notebook(nb)
    nbformat.validate(nbformat.from_dict(floor))
    assert [c["cell_type"] for c in floor["cells"]] == [c["cell_type"] for c in nb["cells"]]
    assert [c["source"] for c in floor["cells"] if c["cell_type"] == "markdown"] == [
        c["source"] for c in nb["cells"] if c["cell_type"] == "markdown"
    ]
    code = [
        (("".join(c["source"])), ("".join(f["source"])))
        for c, f in zip(nb["cells"], floor["cells"], strict=True)
        if c["cell_type"] == "code"
    ]
    assert code[0][0].endswith('m = open_module("m04-school")') and code[0][1] == "import ipywidgets as w"  # no output
    views = [f for src, f in code if src.startswith(("m.lens(", "m.timeline(", "m.decision(", "m.summary("))]
    assert len(views) == 11 and set(views) == {'w.HTML("x")'}  # lens, timeline, 8 decisions, summary
    recorded = [f for src, f in code if src.startswith("m.recorded(")]
    assert len(recorded) == 8 and set(recorded) == {'print("x")'}
    assert json.loads(path.read_text(encoding="utf-8")) == nb  # the module itself is left as it was
    assert [_cell_kind(s) for s in ("m.intro()", "m.key_points()", "m.summary()", 'm = open_module("x")', "")] == [
        "html",
        "html",
        "widget",
        "none",
        "none",
    ]


def test_the_trainee_page_and_hub_room_benchmarks_are_found_by_course_bench():
    """bench_pages (a module as a trainee page against JupyterLab's Run All) and bench_hub_room (30 trainees
    logging in at once) run with `course bench`, never in the tests (they take minutes); here only that they are
    found and load."""
    from course.apps.bench import _load

    found = {p.stem: p for p in discover(only=["pages", "hub_room"])}
    assert set(found) == {"bench_pages", "bench_hub_room"}
    for path in found.values():
        assert callable(_load(path).run)
