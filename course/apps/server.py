"""What the two launchers (JupyterLab for `course lab`, Voila for `course present`) share: a port checked
before starting (or a free one), waiting until a server answers, and stopping it (and its kernels) however the launcher itself is stopped."""

from __future__ import annotations

import contextlib
import errno
import signal
import socket
import subprocess
import threading
import time
import urllib.request


class PortError(ValueError):
    """A port that cannot be served on; the message says which and why."""


def check_port(port: int) -> int:
    """A port someone chose (`--port`): a number from 1 to 65535, free on 127.0.0.1 now. Checked before a
    server starts, so that it never serves on another port than the one it prints."""
    if not 1 <= port <= 65535:
        raise PortError(f"port {port} is not a port number (1 to 65535); leave out --port, or give 0, for a free one")
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: a closed port is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            why = "is in use (another server?)" if e.errno == errno.EADDRINUSE else f"cannot be used ({e.strerror})"
            raise PortError(
                f"port {port} {why} on 127.0.0.1; choose another, or leave out --port for a free one"
            ) from None
    return port


def free_port(preferred: int = 0) -> int:
    """`preferred` if it is free on 127.0.0.1, else any free port."""
    for candidate in (preferred, 0) if preferred else (0,):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port")


def wait_until_answering(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> bool:
    """True once `url` answers 200; False if the server stopped or did not answer within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                return True
        time.sleep(0.3)
    return False


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate the server, and kill it if it has not stopped within `grace` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that the launcher's `finally` stops its server instead of orphaning it."""
    if threading.current_thread() is threading.main_thread():

        def _exit(signum, frame):
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, _exit)
