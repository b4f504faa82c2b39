"""A trainee's pages on a real JupyterHub, for what only a room of servers shows: their kernels talk to their
server over Unix sockets in the trainee's own runtime folder (no TCP port for thirty servers to race for), and
the kernel of a page the trainee has left is shut down once idle (`page_kernel_idle_s` in course-hub.json)."""

from __future__ import annotations

import json
import pwd
import stat
import time
from pathlib import Path

import pytest

from tests.hub import room
from tests.hub.conftest import missing_for_hub, running_hub
from tests.paths import ROOT

_missing = missing_for_hub()
pytestmark = [
    pytest.mark.hub,
    pytest.mark.slow,
    pytest.mark.skipif(_missing is not None, reason=f"JupyterHub test: {_missing}"),
]

IDLE_S = 20  # short, so the test sees the culler act; course/apps/pages.py keeps 15 minutes by default


def test_a_trainee_page_kernel_uses_unix_sockets_and_is_shut_down_once_the_page_is_left():
    with running_hub(
        ROOT / "data", ROOT / "notebooks", trainees=("a",), settings={"page_kernel_idle_s": IDLE_S}
    ) as hub:
        user = hub.users["a"]
        reloads: list[str] = []
        room.log_in_until_home(hub.url, user, timeout_s=300, reloads=reloads)
        home_done = time.monotonic()
        assert reloads == []  # the home came at the first answer, not after an error page
        kernels = hub.server_api(user, "GET", "/api/kernels")
        assert len(kernels) == 1, kernels  # the home's, which Voila ran; the client has left the page

        runtime = Path(pwd.getpwnam(user).pw_dir) / ".local" / "share" / "jupyter" / "runtime"
        connection = json.loads((runtime / f"kernel-{kernels[0]['id']}.json").read_text(encoding="utf-8"))
        assert connection["transport"] == "ipc", connection
        sockets = [Path(f"{connection['ip']}-{connection[p]}") for p in ("shell_port", "iopub_port", "hb_port")]
        for sock in sockets:
            assert sock.parent == runtime and stat.S_ISSOCK(sock.stat().st_mode), sock
        # Only the trainee can reach their kernels' sockets: the runtime folder is theirs alone.
        assert stat.S_IMODE(runtime.stat().st_mode) & 0o077 == 0, oct(runtime.stat().st_mode)
        assert runtime.stat().st_uid == pwd.getpwnam(user).pw_uid

        # The left page's kernel is shut down by the trainee's server once idle, and not before.
        deadline = home_done + IDLE_S + 60
        while hub.server_api(user, "GET", "/api/kernels"):
            assert time.monotonic() < deadline, f"the home's kernel still runs {IDLE_S + 60} s after it was left"
            time.sleep(1)
        assert time.monotonic() - home_done >= IDLE_S - 2  # culled for being idle, not at once
        assert not any(s.exists() for s in sockets)  # and its sockets are gone with it
