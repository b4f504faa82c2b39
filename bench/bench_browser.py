"""Benchmark: Run All to every widget rendered, per module, in JupyterLab in Debian's Chromium.

The trainee workspace is built by `course lab --build-only`; a one-widget notebook (a single IntSlider) is
added beside the modules and measured in the same run, in the same server and browser, as the baseline.
Each measurement opens the notebook in a fresh browser context (fresh kernel), presses Run > Run All Cells
and stops the clock, in the page, when the kernel has gone idle for the last time and every widget view is
rendered (no "Loading widget..." left, as many views as the saved notebook holds).

Target: each module at most 1.5x the one-widget notebook. Returns no rows (and says why) when Chromium,
Playwright or axe-core is missing.

What the time is made of (measured on the 2-core machine, 2026-11-26; m04 against the one-widget notebook):
- both include about 0.13 s from the click to the first execute request, and 0.15 s at the end while
  JupyterLab's execution indicator waits before it shows idle (ExecutionIndicator._scheduleSwitchToIdle);
- CPU per Run All: browser renderer 0.49 s against 0.24 s, kernel 0.16 s against 0.05 s, server 0.05 s
  against 0.03 s; the renderer is the bottleneck (widget model and view promise chains 0.30 s, style and
  layout 0.15 s, of which 0.05 s is JupyterLab measuring each output as it changes);
- the same module without its four decisions is 1.15-1.29x; with every view in one cell 1.58x; with each
  decision as a single custom widget (an anywidget prototype, not adopted) and no separate graded cells
  1.40-1.51x.

The floor (measured here since 2026-11-26, in every run): each module is also run as `floor.ipynb`, the same
notebook (the same markdown, the same code cells) with every code cell replaced by a trivial output of the
same kind (`floor_notebook`). That is what a notebook of the module's shape costs in JupyterLab whatever its
views are. Over four full runs on 2026-11-26 the floors were 1.00-1.54x the one-widget notebook (the same
floor moved by up to 0.1 s between runs), and the modules 1.21-1.45x their floor. Each cell that shows an
output costs JupyterLab 10-25 ms of renderer time (laying out and painting the notebook again), more the
longer the notebook: 11 cells that print "x" after the one widget added 0.15 s, 11 cells of `pass` 0.04 s.
So the target holds only if a module's views cost almost nothing above trivial widgets. 'About this module'
is markdown since that day (one output fewer: about 0.02-0.03 s).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course.core.paths import PROJECT

ROOT = PROJECT
sys.path.insert(0, str(ROOT))

BASELINE = "baseline/one-widget.ipynb"

# What each kind of module code cell shows, and the trivial stand-in of the same kind in the floor notebook.
_FLOOR_CELL = {
    "html": 'from IPython.display import HTML\nHTML("x")',  # m.intro(): a rich HTML display, no widget
    "text": 'print("x")',  # m.recorded(...): printed text
    "widget": 'w.HTML("x")',  # m.lens(), m.timeline(), m.decision(...), m.summary(): one widget view
    "none": "",  # m = open_module(...): shows nothing
}


def _cell_kind(source: str) -> str:
    shown = source.split("### BEGIN HIDDEN TESTS")[0].strip()  # what the trainee's copy runs
    last = shown.splitlines()[-1] if shown else ""
    if last.startswith("m.recorded("):
        return "text"
    if last.startswith(("m.intro(", "m.key_points(")):
        return "html"
    if re.match(r"m\.\w+\(", last):
        return "widget"
    return "none"


def floor_notebook(nb: dict) -> dict:
    """The module's notebook with every code cell replaced by a trivial one that shows the same kind of output
    (a one-model HTML widget where the module shows a view, printed text where it prints, an HTML display
    where it shows HTML, nothing where it shows nothing); markdown and cell metadata are kept. Run All on it is what a module of this shape
    costs in JupyterLab whatever its views are: the floor that no implementation of the views can go under."""
    import copy

    out = copy.deepcopy(nb)
    first = True
    for cell in out["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        body = _FLOOR_CELL[_cell_kind(src)]
        cell["source"] = "\n".join(filter(None, ["import ipywidgets as w" if first else "", body])) or "pass"
        cell["outputs"], cell["execution_count"] = [], None
        first = False
    return out


_STATE_JS = """() => {
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const placeholders = [...document.querySelectorAll('.jp-OutputArea-output')]
      .filter(o => /^(Loading widget|Error displaying widget)/.test((o.textContent || '').trim())).length;
  const views = [...document.querySelectorAll('.jp-OutputArea-output')]
      .filter(o => o.querySelector(':scope > .jupyter-widgets')).length;
  return {busySeen: (window.__courseStatuses || []).includes('busy'),
          idle: !!ind && ind.getAttribute('data-status') === 'idle',
          placeholders, views, t: (performance.now() - window.__courseClickAt) / 1000};
}"""


def _measure(h, browser, lab, rel: str, expected_views: int | None, timeout_s: float = 180) -> tuple[float, int]:
    """Seconds from the Run All click to every widget rendered; and the number of widget views seen."""
    with browser.tab() as tab:
        h.open_notebook(tab, lab, rel)
        page = tab.page
        page.evaluate(h._WATCH_STATUS_JS)
        h.menu(tab, "Run", "runmenu:run-all")
        deadline = time.monotonic() + timeout_s
        while True:
            s = page.evaluate(_STATE_JS)
            done = s["busySeen"] and s["idle"] and not s["placeholders"] and s["views"] > 0
            if done and (expected_views is None or s["views"] >= expected_views):
                if expected_views is None:  # warm-up: wait out the idle dips, then count
                    page.wait_for_timeout(1500)
                    s = page.evaluate(_STATE_JS)
                    if not (s["idle"] and not s["placeholders"]):
                        continue
                elapsed = s["t"]
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{rel}: widgets not rendered after {timeout_s:.0f} s: {s}")
            page.wait_for_timeout(50)
        errors = tab.js_errors()
        if errors:
            raise AssertionError(f"{rel}: JavaScript errors: {errors[:3]}")
    h.shutdown_kernels(lab)
    return elapsed, s["views"]


def run(quick: bool) -> list[dict]:
    from tests.browser import harness as h

    missing = h.missing_requirements()
    if missing:
        print("bench_browser: not run: needs " + "; ".join(missing), file=sys.stderr)
        return []
    reps = 1 if quick else 6  # 3 gave medians that moved by 0.3x between runs
    with tempfile.TemporaryDirectory(prefix="course-bench-browser-") as tmp:
        tmp = Path(tmp)
        ws = tmp / "workspace"
        out = subprocess.run(
            [str(h.VENV_BIN / "course"), "lab", "--build-only", "--workspace", str(ws)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
            env=h.server_env(tmp / "build"),
        )
        if out.returncode != 0:
            raise RuntimeError(f"course lab --build-only failed:\n{out.stdout}\n{out.stderr}")
        h.write_notebook(ws / BASELINE, h.ONE_WIDGET_CELLS, hide_code=True)
        modules = [m for m in h.MODULE_IDS if (ws / m / f"{m}.ipynb").exists()]
        import json

        for m in modules:  # beside the module, so that it opens with the same kernel and settings
            nb = json.loads((ws / m / f"{m}.ipynb").read_text(encoding="utf-8"))
            (ws / m / "floor.ipynb").write_text(json.dumps(floor_notebook(nb), indent=1), encoding="utf-8")
        from course.apps import lab as ws_mod

        extra = {"JUPYTER_CONFIG_PATH": ws_mod.lab_environment(ws)["JUPYTER_CONFIG_PATH"]}
        lab = h.start_lab(ws, tmp / "home", extra)
        browser = h.Browser()
        try:
            paths = {
                "one-widget": BASELINE,
                **{m: f"{m}/{m}.ipynb" for m in modules},
                **{f"floor {m}": f"{m}/floor.ipynb" for m in modules},
            }
            expected = {name: _measure(h, browser, lab, rel, None)[1] for name, rel in paths.items()}  # warm-up
            times: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(reps):
                for name, rel in paths.items():  # interleaved, so drift in machine load hits all alike
                    times[name].append(_measure(h, browser, lab, rel, expected[name])[0])
        finally:
            browser.close()
            lab.stop()
    base = statistics.median(times["one-widget"])
    rows = []
    for m in modules:
        med = statistics.median(times[m])
        floor = statistics.median(times[f"floor {m}"])
        rows.append(
            {
                "name": f"browser: {m} Run All to every widget rendered (JupyterLab, Chromium)",
                "median_s": round(med, 3),
                "p95_s": round(max(times[m]), 3),
                "baseline": "one-widget notebook (one IntSlider), same server and browser, same run",
                "baseline_median_s": round(base, 3),
                "ratio": round(med / base, 2),
                "target": "<= 1.5",
                "met": med / base <= 1.5,
                "floor_median_s": round(floor, 3),
                "floor_ratio": round(floor / base, 2),
                "ratio_to_floor": round(med / floor, 2),
                "notes": (
                    f"{expected[m]} widget views; {reps} run(s) each, fresh kernel per run; times "
                    + ", ".join(f"{t:.2f}" for t in times[m])
                    + " s; baseline runs "
                    + ", ".join(f"{t:.2f}" for t in times["one-widget"])
                    + " s; floor (the same notebook, "
                    f"each code cell a trivial output of the same kind) {floor:.3f} s = {floor / base:.2f}x, runs "
                    + ", ".join(f"{t:.2f}" for t in times[f"floor {m}"])
                    + f" s; module / floor {med / floor:.2f}"
                ),
            }
        )
    return rows


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
