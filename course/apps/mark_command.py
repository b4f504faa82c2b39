"""`course mark`: check the course folder, then serve the marking page (course.apps.mark) from a Jupyter server on
127.0.0.1 with a fresh token, and open it in the browser, until Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..core.contract import writable_env
from ..grading.comment_bank import load_bank
from ..grading.config import GradingError, last_lines
from ..grading.export import _gradebook_url
from ..grading.marking import MarkingSession
from .mark import PREFIX
from .server import PortError, check_port, free_port, stop, stop_on_sigterm, wait_until_answering

# Server extensions a marking server has no use for: each costs start-up time and memory.
NOT_NEEDED = (
    "jupyterlab",
    "notebook",
    "notebook_shim",
    "voila",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.validate_assignment",
)


def check_course(session: MarkingSession) -> list[dict]:
    """What `course mark` checks before it starts a server: a gradebook, reflections to mark, a usable comment
    bank. GradingError, naming what is missing and what to run, otherwise."""
    _gradebook_url(session.course_dir)
    queue = session.queue()
    if not queue:
        what = "in the moderation sample" if session.moderate else "autograded"
        raise GradingError(
            f"{session.course_dir}: no reflection {what} yet. Collect the submissions, then run `course grade`."
        )
    load_bank(session.course_dir, session.pack_dir)
    return queue


def server_config(session: MarkingSession) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"course.apps.mark": True, **dict.fromkeys(NOT_NEEDED, False)}},
        "CourseMark": {"course_dir": str(session.course_dir), "marker": session.marker, "moderate": session.moderate},
    }


def server_command(root: Path, port: int) -> list[str]:
    """The server's command line: everyone on the machine can read it, so it holds no secret (the token is in
    the environment)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--ServerApp.default_url=/{PREFIX}/",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def start_marking(session: MarkingSession, port: int = 0) -> tuple[subprocess.Popen, str, Path]:
    """Start the marking server; returns the process, the page's address with its token, and its private folder
    (configuration and log, the owner's alone; removed by the caller)."""
    chosen = port or free_port()
    token = secrets.token_hex(16)
    private = Path(tempfile.mkdtemp(prefix="course-mark-"))  # mode 0700
    (private / "jupyter_server_config.json").write_text(json.dumps(server_config(session), indent=2))
    env = writable_env()
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (str(private), env.get("JUPYTER_CONFIG_PATH", "")) if p)
    env["JUPYTER_RUNTIME_DIR"] = str(private / "runtime")
    env.pop("JUPYTER_TOKEN_FILE", None)
    env["JUPYTER_TOKEN"] = token
    log_path = private / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            server_command(session.course_dir, chosen),
            env=env,
            cwd=str(session.course_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if not wait_until_answering(f"http://127.0.0.1:{chosen}/api/status?token={token}", proc):
        stop(proc)
        text = log_path.read_text(errors="replace")
        shutil.rmtree(private, ignore_errors=True)
        raise GradingError("The marking page's server did not start. Its log:\n" + last_lines(text))
    return proc, f"http://127.0.0.1:{chosen}/{PREFIX}/?token={token}", private


def open_marking(
    course_dir: Path, marker: str, moderate: bool = False, no_browser: bool = False, port: int | None = None
) -> int:
    try:
        if port:
            check_port(port)
        session = MarkingSession(course_dir, marker, moderate)
        queue = check_course(session)
    except (GradingError, PortError) as e:
        print(f"course mark: {e}", file=sys.stderr)
        return 1
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix and not moderate:
        # On the multi-user server a page served here on 127.0.0.1 would be out of the trainer's browser's reach;
        # the trainer's own server carries the marking page (deploy/jupyterhub enables it for trainers).
        print(
            f"On the multi-user server the marking page is part of your own server: open {prefix}{PREFIX}/ "
            "(your JupyterLab address with /lab replaced by /course-mark/)."
        )
        return 0
    to_mark = sum(q["status"] != "marked" for q in queue)
    stop_on_sigterm()
    proc, url, private = start_marking(session, port or 0)
    try:
        if not no_browser:
            import webbrowser

            webbrowser.open(url)
        role = "moderating (blind second marks of the moderation sample)" if moderate else "marking"
        print(f"{session.marker}, {role}: {len(queue)} reflection(s), {to_mark} still to mark.")
        print(
            f"The marking page is running. Open this address in your browser:\n  {url}"
            if no_browser
            else f"The marking page is open in your browser. If it is not, use this address:\n  {url}"
        )
        print("Press Ctrl-C here to stop it (each mark is saved as you give it).", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            proc.wait()
    finally:
        stop(proc)
        shutil.rmtree(private, ignore_errors=True)
    return 0
