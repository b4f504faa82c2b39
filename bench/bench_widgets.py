"""Benchmark: one date-slider step to an updated agency lens and swimlane timeline, in a real Jupyter kernel,
against a bare ipywidgets Output update measured in the same kernel; and the kernel's memory once a module's
views (intro, lens, timeline, every decision point, summary) are built.

Targets: median step at most 30 ms; kernel RSS at most 250 MB.
Uses the course's case pack when it loads (its module with the most lanes and slider stops), else the
fictional test case (said in notes). The kernel is a fresh process, so its memory is not the harness's.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import textwrap
import time

from course.core.paths import PROJECT

ROOT = PROJECT
sys.path.insert(0, str(ROOT))

RSS_BUDGET_MB = 250.0
STEP_TARGET_S = 0.030

KERNEL_CODE = textwrap.dedent("""
    import gc, json, statistics, sys, time
    import psutil
    import ipywidgets as widgets
    from IPython.display import display
    from course.notebook import open_module

    def _progress(text):
        print("PROGRESS " + text, file=sys.stderr, flush=True)

    m = open_module(MODULE, case=PACK)
    display(m.intro())
    lens = m.lens()
    timeline = m.timeline()
    display(lens, timeline)
    for d in m.case.decisions_in(MODULE):
        display(m.decision(d.id))
    display(m.summary(), m.key_points())
    gc.collect()
    rss_mb = psutil.Process().memory_info().rss / 2**20
    _progress(f"views built; kernel RSS {rss_mb:.0f} MB")

    days = [s.day for s in m.stops]
    # Ping-pong across the stops so that every step is a real change of date.
    order = list(range(len(days))) + list(range(len(days) - 2, 0, -1)) if len(days) > 1 else [0]
    steps = []
    for i in range(STEPS):
        day = days[order[(i + 1) % len(order)]]
        t = time.perf_counter()
        lens.slider.value = day
        steps.append(time.perf_counter() - t)
        if (i + 1) % 50 == 0:
            _progress(f"slider step {i + 1}/{STEPS}")
    assert timeline.slider.value == lens.slider.value

    agencies = [v for _, v in lens.agency.options]
    cold, warm = [], []
    for i in range(max(2 * len(agencies), STEPS // 10)):
        renders = timeline.chart.background_renders
        t = time.perf_counter()
        lens.agency.value = agencies[(agencies.index(lens.agency.value) + 1) % len(agencies)]
        took = time.perf_counter() - t
        (cold if timeline.chart.background_renders > renders else warm).append(took)
    background_renders = timeline.chart.background_renders

    out = widgets.Output()
    display(out)
    base = []
    for i in range(STEPS):
        t = time.perf_counter()
        with out:
            out.clear_output(wait=True)
            print(f"step {i}")
        base.append(time.perf_counter() - t)

    def p95(xs):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]

    # For the end-to-end measure: a bare slider driving a bare Output, both reached by comm messages.
    base_slider = widgets.IntSlider(value=0, min=0, max=10**6)
    base_out = widgets.Output()

    def _bare(change):
        with base_out:
            base_out.clear_output(wait=True)
            print(f"step {change['new']}")

    base_slider.observe(_bare, names="value")
    display(base_slider, base_out)

    print("RESULT " + json.dumps({
        "lens_slider": lens.slider.model_id, "base_slider": base_slider.model_id,
        "median": statistics.median(steps), "p95": p95(steps), "base_median": statistics.median(base),
        "base_p95": p95(base), "rss_mb": rss_mb, "stops": len(days), "lanes": len(timeline.chart.data.lanes),
        "events": len(m.case.events), "image_bytes": len(timeline.image.value),
        "agency_cold": statistics.median(cold) if cold else None, "agency_warm": statistics.median(warm) if warm else None,
        "agency_cold_n": len(cold), "agency_warm_n": len(warm),
        "background_renders": background_renders,
    }))
""")


def _choose_case() -> tuple[str, str, str]:
    """(pack folder, module id, description) for the heaviest module of a case that loads."""
    from course.core.entries import CaseError
    from course.core.pack import load_case
    from course.render.lens import slider_stops
    from course.render.timeline import timeline_data

    try:
        case, which = load_case(), "the course's case pack"
    except CaseError:
        case, which = load_case(ROOT / "tests" / "fixtures" / "case"), "the fictional test case (data/ does not load)"
    best = max(case.modules, key=lambda m: (len(timeline_data(case, m).lanes) * len(slider_stops(case, m)), m.order))
    return str(case.pack_dir), best.id, which


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def _comm_step(kc, comm_id: str, state: dict) -> float:
    msg = kc.session.msg(
        "comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}}
    )
    t = time.perf_counter()
    kc.shell_channel.send(msg)
    while True:
        reply = kc.get_iopub_msg(timeout=60)
        if (
            reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]
            and reply["msg_type"] == "status"
            and reply["content"]["execution_state"] == "idle"
        ):
            return time.perf_counter() - t


def _run_in_kernel(pack: str, module: str, steps: int) -> dict:
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    env.pop("NBGRADER_EXECUTION", None)
    env["COURSE_READ_ONLY"] = "1"  # the benchmark answers nothing; make sure it never writes
    with tempfile.TemporaryDirectory(prefix="bench-widgets-") as cwd:
        km, kc = start_new_kernel(kernel_name="python3", cwd=cwd, env=env)
        try:
            result: dict = {}
            errors: list[str] = []

            def hook(msg):
                kind = msg["header"]["msg_type"]
                content = msg["content"]
                if kind == "stream":
                    for line in content["text"].splitlines():
                        if line.startswith("RESULT "):
                            result.update(json.loads(line[len("RESULT ") :]))
                        elif line.startswith("PROGRESS "):
                            print(f"  bench_widgets: {line[len('PROGRESS ') :]}", file=sys.stderr, flush=True)
                elif kind == "error":
                    errors.append("\n".join(content.get("traceback", [])))

            code = f"MODULE = {module!r}\nPACK = {pack!r}\nSTEPS = {steps}\n" + KERNEL_CODE
            kc.execute_interactive(code, output_hook=hook, timeout=600)
            if errors or not result:
                raise RuntimeError("benchmark code failed in the kernel:\n" + "\n".join(errors))
            # End to end, as a browser drives it: a comm 'update' message to the kernel, timed until the kernel
            # is idle again (the handler has run and every resulting widget update has been sent).
            n_stops = result["stops"]
            order = list(range(n_stops)) + list(range(n_stops - 2, 0, -1)) if n_stops > 1 else [0]
            e2e = [_comm_step(kc, result["lens_slider"], {"index": order[(i + 1) % len(order)]}) for i in range(steps)]
            print(f"  bench_widgets: {steps} slider steps sent as comm messages", file=sys.stderr, flush=True)
            bare = [_comm_step(kc, result["base_slider"], {"value": i + 1}) for i in range(steps)]
            result.update(
                e2e_median=statistics.median(e2e),
                e2e_p95=_p95(e2e),
                e2e_base_median=statistics.median(bare),
                e2e_base_p95=_p95(bare),
            )
            return result
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def run(quick: bool) -> list[dict]:
    steps = 40 if quick else 200
    pack, module, which = _choose_case()
    print(f"  bench_widgets: starting a kernel for {module} ({which}), {steps} steps", file=sys.stderr, flush=True)
    r = _run_in_kernel(pack, module, steps)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    common = (
        f"load average {load} on {os.cpu_count()} cores; module {module} of {which}: {r['lanes']} lanes, {r['stops']} slider stops; {steps} steps in a "
        f"fresh ipykernel (comm messages sent), HTML {r['image_bytes'] / 1024:.0f} KB per "
        "step (cached PNG background + SVG date layer)"
    )
    return [
        {
            "name": "date-slider step: lens + timeline (kernel)",
            "median_s": r["median"],
            "p95_s": r["p95"],
            "baseline": "bare ipywidgets Output update",
            "baseline_median_s": r["base_median"],
            "ratio": r["median"] / r["base_median"] if r["base_median"] else float("inf"),
            "target": f"median <= {STEP_TARGET_S * 1000:.0f} ms",
            "met": r["median"] <= STEP_TARGET_S,
            "notes": f"{common}; p95 {r['p95'] * 1000:.1f} ms (baseline p95 {r['base_p95'] * 1000:.2f} ms)",
        },
        {
            "name": "date-slider step, end to end (comm message -> kernel idle)",
            "median_s": r["e2e_median"],
            "p95_s": r["e2e_p95"],
            "baseline": "bare IntSlider -> Output update, same path",
            "baseline_median_s": r["e2e_base_median"],
            "ratio": r["e2e_median"] / r["e2e_base_median"] if r["e2e_base_median"] else float("inf"),
            "target": f"median <= {STEP_TARGET_S * 1000:.0f} ms",
            "met": r["e2e_median"] <= STEP_TARGET_S,
            "notes": "a client sends the slider's comm 'update' message as a browser would and waits for the kernel to "
            f"go idle (handler run, lens and timeline updates sent); baseline p95 {r['e2e_base_p95'] * 1000:.1f} ms",
        },
        {
            "name": "agency change, first time: chart background redrawn (kernel)",
            "median_s": r["agency_cold"],
            "baseline": "bare ipywidgets Output update",
            "baseline_median_s": r["base_median"],
            "ratio": r["agency_cold"] / r["base_median"] if r["agency_cold"] and r["base_median"] else None,
            "target": "(no target; reported)",
            "notes": f"{r['agency_cold_n']} first changes to an agency: the highlighted lane is drawn and the chart "
            f"background re-encoded once; {r['background_renders']} background encodes in the whole run",
        },
        {
            "name": "agency change, seen before: kept background (kernel)",
            "median_s": r["agency_warm"],
            "baseline": "bare ipywidgets Output update",
            "baseline_median_s": r["base_median"],
            "ratio": r["agency_warm"] / r["base_median"] if r["agency_warm"] and r["base_median"] else None,
            "target": "(no target; reported)",
            "notes": f"{r['agency_warm_n']} changes back to an agency already drawn",
        },
        {
            "name": "kernel RSS after a module's views are built",
            "median_s": r["rss_mb"],
            "unit": "MB",
            "baseline": f"{RSS_BUDGET_MB:.0f} MB budget",
            "baseline_median_s": RSS_BUDGET_MB,
            "ratio": r["rss_mb"] / RSS_BUDGET_MB,
            "target": f"<= {RSS_BUDGET_MB:.0f} MB",
            "met": r["rss_mb"] <= RSS_BUDGET_MB,
            "notes": f"intro, lens, timeline, every decision point and the summary of {module}, displayed; after gc",
        },
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
