"""Benchmark: a room of trainees logging in to the hub at once, until the last one's course home is there.

The hub of deploy/jupyterhub, started exactly as tests/hub does (setup.py into a temporary prefix, unique system
users, free ports, full cleanup). Each trainee is a client of its own (cookies only, threads at once): the hub's
login form, then their own server's address until it answers with the course home (a page of that server, made
without a kernel: course/apps/home_page.py) - what their browser would show. Measured in the same run:

- one trainee alone, logging in with no server running (the baseline);
- N trainees at once with no server running (the room as it arrives);
- the same N at once when their servers were started before the session (`setup.py start-servers`, as an
  administrator runs it a few minutes before: docs/operations.md), until the last course home is there.

Where the CPU went (the hub, its proxy, the servers with their kernels) is reported per trainee beside the times.
Target: the room as a session runs it (servers started beforehand) at most 8x one alone; the room with no server
started is reported beside it (CPU-bound: every server's start-up on the same cores, so about N / cores times one
alone whatever is done per server). Needs root, node and configurable-http-proxy; returns no rows (and says
why) elsewhere. Not part of `make test`: `course bench --only hub_room` (about 5 minutes for 30; --quick: 4).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from course.core.paths import PROJECT

ROOT = PROJECT
sys.path.insert(0, str(ROOT))

from tests.hub.room import log_in_until_home  # noqa: E402  (the repository's root is on the path just above)

# How many times a trainee was sent a page that was not their home (the server's error page), and reloaded: counted per run, reported beside the times.
RELOADS: list[str] = []


def room(hub_url: str, users: list[str]) -> list[float]:
    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(lambda u: log_in_until_home(hub_url, u, reloads=RELOADS), users))


def stop_servers(hub, users: list[str], timeout_s: float = 120) -> None:
    for u in users:
        hub.api("DELETE", f"/users/{u}/server", accept=(202, 204, 400))
    hub.wait_stopped(users, timeout_s)


def cpu_s(pid: int, with_children: bool = False) -> float:
    """CPU-seconds (user + system) a process has used; with its living children's (a server's kernels)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *(proc.children(recursive=True) if with_children else [])]
        return sum(sum(p.cpu_times()[:2]) for p in procs)
    except psutil.Error:
        return 0.0


def machine_cpu(hub, users: list[str]) -> dict[str, float]:
    """Where the CPU went so far: the hub, its proxy, the users' servers and their kernels."""
    proxy = hub.prefix / "state" / "jupyterhub-proxy.pid"
    servers = 0.0
    for u in users:
        with contextlib.suppress(AssertionError):  # no server (stopped)
            servers += cpu_s(hub.server_process(u).pid, with_children=True)
    return {
        "hub": cpu_s(hub.proc.pid),
        "proxy": cpu_s(int(proxy.read_text().strip())) if proxy.exists() else 0.0,
        "servers and kernels": servers,
    }


def spent(before: dict[str, float], after: dict[str, float], n: int) -> str:
    return ", ".join(f"{k} {(after[k] - before.get(k, 0.0)) / n:.2f}" for k in after) + " CPU-s per trainee"


def run(quick: bool) -> list[dict]:
    from tests.hub.conftest import SETUP, missing_for_hub, running_hub

    why = missing_for_hub()
    if why:
        print(f"bench_hub_room: not run: {why}", file=sys.stderr)
        return []
    n = 4 if quick else 30
    trainees = ("alone", *(f"r{i:02d}" for i in range(1, n + 1)))
    measured = False
    try:
        with running_hub(ROOT / "data", ROOT / "notebooks", trainees) as hub:
            alone = log_in_until_home(hub.url, hub.users["alone"])
            names = [hub.users[t] for t in trainees[1:]]
            before = machine_cpu(hub, names)
            t0 = time.monotonic()
            RELOADS.clear()
            cold = room(hub.url, names)
            cold_last = time.monotonic() - t0
            cold_reloads = len(RELOADS)
            cold_cpu = spent(before, machine_cpu(hub, names), n)
            stop_servers(hub, names)
            # Before the session: the administrator's command (docs/operations.md), as written there.
            t0 = time.monotonic()
            started = subprocess.run(
                ["/usr/bin/python3", str(SETUP), "--prefix", str(hub.prefix), "start-servers", *names],
                capture_output=True,
                text=True,
                timeout=120 + 30 * n,
            )
            assert started.returncode == 0, started.stdout + started.stderr
            warming = time.monotonic() - t0
            before = machine_cpu(hub, names)
            t0 = time.monotonic()
            RELOADS.clear()
            warm = room(hub.url, names)
            warm_last = time.monotonic() - t0
            warm_reloads = len(RELOADS)
            warm_cpu = spent(before, machine_cpu(hub, names), n)
            measured = True
    except AssertionError as e:  # the numbers stand when only the clean-up had something to say
        if not (measured and str(e).startswith("cleanup:")):
            raise
        print(f"bench_hub_room: {e}", file=sys.stderr)
    cores = os.cpu_count() or 1
    common = {
        "baseline": "one trainee alone, no server running (login to course home)",
        "baseline_median_s": round(alone, 2),
    }
    # The room as the course runs a session: servers started beforehand (docs/operations.md). A room arriving with
    # no server started is reported beside it: thirty server start-ups on the machine's cores, CPU-bound.
    return [
        {
            "name": f"hub room: {n} trainees log in at once, servers started before the session, until the last home",
            "median_s": round(warm_last, 2),
            **common,
            "ratio": round(warm_last / alone, 2),
            "target": "<= 8",
            "met": warm_last / alone <= 8,
            "notes": (
                f"`setup.py start-servers` beforehand took {warming:.1f} s; {warm_cpu}; each home after "
                f"{statistics.median(warm):.1f} s median, {max(warm):.1f} s last; error pages reloaded: {warm_reloads}"
            ),
        },
        {
            "name": f"hub room: {n} trainees log in at once, no server started beforehand, until the last course home",
            "median_s": round(cold_last, 2),
            **common,
            "ratio": round(cold_last / alone, 2),
            "target": f"reported ({n} server start-ups on {cores} cores)",
            "met": None,
            "notes": (
                f"{cores} cores; each home after {statistics.median(cold):.1f} s median, {max(cold):.1f} s last; "
                f"{cold_cpu}; error pages reloaded instead of a home: {cold_reloads}"
            ),
        },
    ]


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=1))
