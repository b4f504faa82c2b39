"""Benchmark: opening a module as a trainee page (Voila, what `course open` serves) until every view is
interactive, against the same module opened in JupyterLab and Run All, in the same server and browser, same run.

Both are timed in the page from the navigation's start (performance.now()):
- trainee page: until Voila has run every cell and every widget view is drawn (no "Loading widget..." left, as
  many views as the warm-up counted);
- JupyterLab: until the kernel is idle (Run All pressed before that is dropped, harness.wait_kernel_idle), plus
  from pressing Run > Run All Cells until the kernel is idle again and every widget view is drawn. The moment
  between the two, when a person would reach for the menu, is not counted.
Each measurement opens a fresh browser context with a fresh kernel (every kernel is shut down after it).

Target: each module's page at most 1.0x JupyterLab (the page must not be slower than what it replaces). Returns
no rows (and says why) when Chromium, Playwright or axe-core is missing. Not part of `make test`: `course bench
--only pages` (about 4 minutes; --quick about 1).

Measured 2026-12-04 on the 2-core machine (other work running), 3 runs each: every module's page was
interactive in 2.6-3.2 s against 5.8-6.9 s in JupyterLab: 0.44-0.52x (m00 0.46, m01 0.47, m02 0.44, m03 0.52,
m04 0.45, m05 0.45). JupyterLab loads its whole application before the kernel starts; the page runs the
notebook on the server while it streams, and draws only the outputs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course.core.paths import PROJECT

ROOT = PROJECT
sys.path.insert(0, str(ROOT))

_VIEWS_JS = """() => {
  const outs = [...document.querySelectorAll('.jp-OutputArea-output')];
  const placeholders = outs.filter(o => /^(Loading widget|Error displaying widget)/.test((o.textContent || '').trim())).length;
  const views = outs.filter(o => o.querySelector(':scope > .jupyter-widgets, :scope > .lm-Widget.jupyter-widgets')
                                 || (o.classList.contains('jupyter-widgets') && o.children.length)).length;
  const r = document.getElementById('rendered_cells'), l = document.getElementById('loading');
  const voilaDone = !!r && r.style.display !== 'none' && (!l || l.style.display === 'none');
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {placeholders, views, voilaDone, t: performance.now() / 1000,
          busySeen: (window.__courseStatuses || []).includes('busy'),
          idle: !!ind && ind.getAttribute('data-status') === 'idle'};
}"""


def _wait(page, done, timeout_s: float, what: str) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        s = page.evaluate(_VIEWS_JS)
        if done(s):
            return s
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not interactive after {timeout_s:.0f} s: {s}")
        page.wait_for_timeout(50)


def measure_page(h, ps, browser, lab, module: str, expected: int | None, timeout_s: float = 180) -> tuple[float, int]:
    """Seconds from navigating to the module's page to every view drawn; and how many views."""
    with browser.tab() as tab:
        page = tab.page
        page.goto(ps.voila_url(lab, f"{module}/{module}.ipynb"), wait_until="commit", timeout=90_000)
        s = _wait(
            page,
            lambda s: s["voilaDone"] and not s["placeholders"] and s["views"] >= (expected or 1),
            timeout_s,
            f"{module} page",
        )
        if expected is None:  # warm-up: let every view arrive, then count
            page.wait_for_timeout(1500)
            s = page.evaluate(_VIEWS_JS)
        errors = ps.page_errors(tab)
        if errors:
            raise AssertionError(f"{module} page: JavaScript errors: {errors[:3]}")
    h.shutdown_kernels(lab)
    return s["t"], s["views"]


def measure_lab(h, browser, lab, module: str, expected: int | None, timeout_s: float = 180) -> tuple[float, int]:
    """Seconds from navigating to the notebook in JupyterLab to its kernel idle, plus from Run All to every view
    drawn; and how many views."""
    with browser.tab() as tab:
        page = tab.page
        h.open_notebook(tab, lab, f"{module}/{module}.ipynb")
        opened = page.evaluate("() => performance.now() / 1000")
        page.evaluate(h._WATCH_STATUS_JS)
        h.menu(tab, "Run", "runmenu:run-all")
        clicked = page.evaluate("() => window.__courseClickAt / 1000")
        s = _wait(
            page,
            lambda s: s["busySeen"] and s["idle"] and not s["placeholders"] and s["views"] >= (expected or 1),
            timeout_s,
            f"{module} in JupyterLab",
        )
        if expected is None:
            page.wait_for_timeout(1500)
            s = page.evaluate(_VIEWS_JS)
    h.shutdown_kernels(lab)
    return opened + (s["t"] - clicked), s["views"]


def run(quick: bool) -> list[dict]:
    from tests.browser import harness as h
    from tests.browser import pages_support as ps

    missing = h.missing_requirements()
    if missing:
        print("bench_pages: not run: needs " + "; ".join(missing), file=sys.stderr)
        return []
    reps = 1 if quick else 3
    modules = ["m01-early-years"] if quick else list(h.MODULE_IDS)
    with tempfile.TemporaryDirectory(prefix="course-bench-pages-") as tmp:
        tmp = Path(tmp)
        built = tmp / "built"
        out = subprocess.run(
            [str(h.VENV_BIN / "course"), "lab", "--build-only", "--workspace", str(built)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
            env=h.server_env(tmp / "build"),
        )
        if out.returncode != 0:
            raise RuntimeError(f"course lab --build-only failed:\n{out.stdout}\n{out.stderr}")
        ws = ps.copy_workspace(built, tmp / "workspace")
        lab = ps.serve(ws, tmp / "home")
        browser = h.Browser()
        try:
            views = {}
            for m in modules:  # warm-up (and the number of views each way)
                views[m] = (measure_page(h, ps, browser, lab, m, None)[1], measure_lab(h, browser, lab, m, None)[1])
            times: dict[str, dict[str, list[float]]] = {m: {"page": [], "lab": []} for m in modules}
            for _ in range(reps):
                for m in modules:  # interleaved, so drift in machine load hits both alike
                    times[m]["page"].append(measure_page(h, ps, browser, lab, m, views[m][0])[0])
                    times[m]["lab"].append(measure_lab(h, browser, lab, m, views[m][1])[0])
        finally:
            browser.close()
            lab.stop()
    rows = []
    for m in modules:
        page, labt = statistics.median(times[m]["page"]), statistics.median(times[m]["lab"])
        rows.append(
            {
                "name": f"pages: {m} opened as a trainee page until every view is interactive (Voila, Chromium)",
                "median_s": round(page, 3),
                "p95_s": round(max(times[m]["page"]), 3),
                "baseline": "the same module in JupyterLab: open, kernel ready, Run All, every view drawn",
                "baseline_median_s": round(labt, 3),
                "ratio": round(page / labt, 2),
                "target": "<= 1.0",
                "met": page / labt <= 1.0,
                "notes": (
                    f"{views[m][0]} views on the page, {views[m][1]} in JupyterLab; {reps} run(s) each, fresh kernel "
                    "per run; page "
                    + ", ".join(f"{t:.2f}" for t in times[m]["page"])
                    + " s; JupyterLab "
                    + ", ".join(f"{t:.2f}" for t in times[m]["lab"])
                    + " s"
                ),
            }
        )
    return rows


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
