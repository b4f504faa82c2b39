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
  1.40-1.51x. The decisions' ipywidgets controls and the graded cells beside them are what is over target.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASELINE = "baseline/one-widget.ipynb"

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
        out = subprocess.run([str(h.VENV_BIN / "course"), "lab", "--build-only", "--workspace", str(ws)],
                             capture_output=True, text=True, timeout=600, cwd=ROOT, env=h.server_env(tmp / "build"))
        if out.returncode != 0:
            raise RuntimeError(f"course lab --build-only failed:\n{out.stdout}\n{out.stderr}")
        h.write_notebook(ws / BASELINE, h.ONE_WIDGET_CELLS, hide_code=True)
        modules = [m for m in h.MODULE_IDS if (ws / m / f"{m}.ipynb").exists()]
        from course import workspace as ws_mod

        extra = {"JUPYTER_CONFIG_PATH": ws_mod.lab_environment(ws)["JUPYTER_CONFIG_PATH"]}
        lab = h.start_lab(ws, tmp / "home", extra)
        browser = h.Browser()
        try:
            paths = {"one-widget": BASELINE, **{m: f"{m}/{m}.ipynb" for m in modules}}
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
        rows.append({
            "name": f"browser: {m} Run All to every widget rendered (JupyterLab, Chromium)",
            "median_s": round(med, 3),
            "p95_s": round(max(times[m]), 3),
            "baseline": "one-widget notebook (one IntSlider), same server and browser, same run",
            "baseline_median_s": round(base, 3),
            "ratio": round(med / base, 2),
            "target": "<= 1.5",
            "met": med / base <= 1.5,
            "notes": (f"{expected[m]} widget views; {reps} run(s) each, fresh kernel per run; times "
                      + ", ".join(f"{t:.2f}" for t in times[m]) + " s; baseline runs "
                      + ", ".join(f"{t:.2f}" for t in times["one-widget"]) + " s"),
        })
    return rows


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
