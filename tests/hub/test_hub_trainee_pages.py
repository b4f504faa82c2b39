"""A trainee's pages on a real JupyterHub, for what a room of servers needs: the course home is made without a
kernel; page kernels talk to their server over Unix sockets in the trainee's own runtime folder (no TCP port for
thirty servers to race for); the kernel of a page the trainee has left is shut down once idle
(`page_kernel_idle_s` in course-hub.json); and the administrator starts every trainee's server before a session
(`setup.py start-servers`)."""

from __future__ import annotations

import json
import os
import pwd
import re
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.hub import room
from tests.hub.conftest import SETUP, missing_for_hub, running_hub
from tests.paths import ROOT

_missing = missing_for_hub()
pytestmark = [
    pytest.mark.hub,
    pytest.mark.slow,
    pytest.mark.skipif(_missing is not None, reason=f"JupyterHub test: {_missing}"),
]

IDLE_S = 20  # short, so the test sees the culler act; course/apps/pages.py keeps 15 minutes by default


@pytest.fixture(scope="module")
def hub():
    with running_hub(
        ROOT / "data", ROOT / "notebooks", trainees=("a", "b", "c"), settings={"page_kernel_idle_s": IDLE_S}
    ) as running:
        yield running


def test_the_home_needs_no_kernel_and_a_page_kernel_uses_unix_sockets_and_is_shut_down_once_left(hub):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    user = hub.users["a"]
    reloads: list[str] = []
    room.log_in_until_home(hub.url, user, timeout_s=300, reloads=reloads)
    assert reloads == []  # the home came at the first answer, not after an error page
    assert hub.server_api(user, "GET", "/api/kernels") == []  # the course home is made without a kernel
    # With one module in the trainee's folder, the home links to its page under the trainee's own server.
    owner = pwd.getpwnam(user)
    module = Path(owner.pw_dir) / "m00-welcome"
    module.mkdir()
    (module / "m00-welcome.ipynb").write_text("{}", encoding="utf-8")
    for made in (module, module / "m00-welcome.ipynb"):
        os.chown(made, owner.pw_uid, owner.pw_gid)
    asked = urllib.request.Request(
        f"{hub.url}/user/{user}/course/home", headers={"Authorization": f"token {hub.token}"}
    )
    with urllib.request.urlopen(asked, timeout=60) as reply:
        policy, body = reply.headers["Content-Security-Policy"], reply.read().decode()
    assert "default-src 'none'" in policy and "script-src" not in policy and "<script" not in body
    assert f'href="/user/{user}/voila/render/m00-welcome/m00-welcome.ipynb"' in body, body

    # A page of the trainee's (Voila, as a module page is), opened and left.
    page = Path(owner.pw_dir) / "left-page.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("print('this page ran')")]), page)
    os.chown(page, owner.pw_uid, owner.pw_gid)
    assert "this page ran" in hub.text_of(user, "/voila/render/left-page.ipynb")
    left = time.monotonic()
    kernels = hub.server_api(user, "GET", "/api/kernels")
    assert len(kernels) == 1, kernels  # the page's, which Voila ran; nothing is connected to it now

    runtime = Path(owner.pw_dir) / ".local" / "share" / "jupyter" / "runtime"
    connection = json.loads((runtime / f"kernel-{kernels[0]['id']}.json").read_text(encoding="utf-8"))
    assert connection["transport"] == "ipc", connection
    sockets = [Path(f"{connection['ip']}-{connection[p]}") for p in ("shell_port", "iopub_port", "hb_port")]
    for sock in sockets:
        assert sock.parent == runtime and stat.S_ISSOCK(sock.stat().st_mode), sock
    # Only the trainee can reach their kernels' sockets: the runtime folder is theirs alone.
    assert stat.S_IMODE(runtime.stat().st_mode) & 0o077 == 0, oct(runtime.stat().st_mode)
    assert runtime.stat().st_uid == owner.pw_uid

    # The left page's kernel is shut down by the trainee's server once idle, and not before.
    deadline = left + IDLE_S + 60
    while hub.server_api(user, "GET", "/api/kernels"):
        assert time.monotonic() < deadline, f"the page's kernel still runs {IDLE_S + 60} s after it was left"
        time.sleep(1)
    assert time.monotonic() - left >= IDLE_S - 2  # culled for being idle, not at once
    assert not any(s.exists() for s in sockets)  # and its sockets are gone with it


def setup_py(hub, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/usr/bin/python3", str(SETUP), "--prefix", str(hub.prefix), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_start_servers_starts_every_trainees_server_before_a_session_and_leaves_running_ones(hub):
    users = hub.users
    if not (hub.api("GET", f"/users/{users['a']}").get("servers") or {}):
        hub.spawn(users["a"])  # a trainee already in (the test above left a's server running)
    a_server = hub.server_process(users["a"]).pid
    # A name that is not registered is refused, naming it, before anything is started.
    wrong = setup_py(hub, "start-servers", users["b"], "nobody-here")
    assert wrong.returncode != 0 and "nobody-here" in wrong.stderr + wrong.stdout
    assert not (hub.api("GET", f"/users/{users['b']}").get("servers") or {})

    done = setup_py(hub, "start-servers")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "asked the hub to start 2 servers (1 already running)" in done.stdout, done.stdout
    assert "3 of 3 servers ready" in done.stdout and "all 3 servers ready" in done.stdout, done.stdout
    for who in ("a", "b", "c"):
        assert hub.api("GET", f"/users/{users[who]}")["servers"][""]["ready"] is True
    assert hub.server_process(users["a"]).pid == a_server  # left as it was
    assert not (hub.api("GET", f"/users/{users['trainer']}").get("servers") or {})  # trainees only

    # Its token is the hub's and root's alone; a second run finds everything running.
    state = hub.prefix / "state" / "start-servers.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600 and state.stat().st_uid == 0
    again = setup_py(hub, "start-servers")
    assert again.returncode == 0 and "start 0 servers (3 already running)" in again.stdout, again.stdout

    # A server the hub cannot start and a name the hub does not know: each named with its reason, and the others
    # still started and waited for.
    hub.api("DELETE", f"/users/{users['c']}/server", accept=(202, 204))
    hub.wait_stopped([users["c"]])
    broken, unknown = f"{hub.tag}gh1", f"{hub.tag}gh2"  # no system user; the hub has never heard of the second
    registry = hub.prefix / "etc" / "users.csv"
    kept = registry.read_text(encoding="utf-8")
    registry.write_text(kept + f"{broken},trainee,Ghost One\n{unknown},trainee,Ghost Two\n", encoding="utf-8")
    hub.api("POST", f"/users/{broken}", accept=(201,))
    try:
        partly = setup_py(hub, "start-servers")
    finally:
        registry.write_text(kept, encoding="utf-8")
        hub.api("DELETE", f"/users/{broken}", accept=(204, 404))
    said = partly.stdout + partly.stderr
    assert partly.returncode != 0, said
    assert "3 of 5 servers ready; these did not start" in said, said
    assert f"{unknown}: unknown to the hub (restart the hub after add-users)" in said, said
    assert re.search(rf"{broken}: (did not start|failed \(5\d\d)", said), said
    assert hub.api("GET", f"/users/{users['c']}")["servers"][""]["ready"] is True
