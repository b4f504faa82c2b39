"""Benchmark: a room arriving at once on the JupyterHub of deploy/jupyterhub (real hub, system users).

Starts the hub exactly as tests/hub does (setup.py into a temporary prefix, unique users, free ports, full
cleanup), spawns the trainer's server alone (the baseline), then asks for N trainees' servers at the same
time and measures the time until the last is ready, and each server's memory (RSS and PSS) and start-up CPU.

Target: the room is ready within N x (one server alone) / cores, i.e. starting is CPU-bound and parallel
(ratio <= N / cores). Needs root, node and configurable-http-proxy; returns no rows (and says why) elsewhere.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from course.core.paths import PROJECT

ROOT = PROJECT
sys.path.insert(0, str(ROOT))


def run(quick: bool) -> list[dict]:
    from tests.hub.conftest import missing_for_hub, running_hub

    why = missing_for_hub()
    if why:
        print(f"bench_hub: not run: {why}", file=sys.stderr)
        return []
    n = 4 if quick else 10
    trainees = tuple(f"t{i:02d}" for i in range(1, n + 1))
    with running_hub(ROOT / "data", ROOT / "notebooks", trainees) as hub:
        single = hub.spawn(hub.users["trainer"])
        names = [hub.users[t] for t in trainees]
        t0 = time.monotonic()
        ready = hub.spawn_all(names, timeout=60 + 30 * n)
        room = time.monotonic() - t0
        procs = [hub.server_process(u) for u in names]
        rss = [p.memory_info().rss / 2**20 for p in procs]
        pss = [p.memory_full_info().pss / 2**20 for p in procs]
        cpu = [sum(p.cpu_times()[:2]) for p in procs]
        hub_rss = hub.hub_and_proxy_rss_mb()
    cores = os.cpu_count() or 1
    return [
        {
            "name": f"hub: {n} trainees' servers requested at once, until all ready",
            "median_s": round(room, 2),
            "baseline": "one server alone (the trainer's), same hub",
            "baseline_median_s": round(single, 2),
            "ratio": round(room / single, 2),
            "target": f"<= {n}/{cores} cores = {n / cores:.1f} (start-up is CPU-bound and runs in parallel)",
            "met": room / single <= n / cores,
            "notes": (
                f"ready after {statistics.median(ready.values()):.1f} s median, {max(ready.values()):.1f} s last; "
                f"per idle server RSS {statistics.median(rss):.0f} MB, PSS {statistics.median(pss):.0f} MB "
                f"(median), start-up CPU {statistics.median(cpu):.1f} s; hub {hub_rss.get('hub')} MB, "
                f"proxy {hub_rss.get('proxy')} MB RSS"
            ),
        }
    ]


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=1))
