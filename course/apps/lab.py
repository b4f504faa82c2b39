"""A trainee's workspace: the released modules (never the source notebooks) and JupyterLab opened on them.

Rebuilding adds modules that are new and leaves every module the trainee already has exactly as it is,
answers.json and edits included. Trainer-only nbgrader tools are switched off for this launch only.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..charts.warm import warm_cache
from ..core import paths
from ..core.cached import load_case_cached
from ..core.contract import writable_env
from ..grading.config import GradingError, last_lines, module_ids
from ..grading.release import release
from .pages import HOME_PAGE, SERVER_EXTENSION, pages_config, remove_old_home
from .server import PortError, check_port, free_port, stop, wait_until_answering

SAVE_HOOK = "course.apps.save_hook.strip_widget_views"
CONFIG_DIR = ".jupyter-course"  # inside the workspace: Jupyter config used only when `course lab` launches it
TRAINER_ONLY_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
TRAINER_ONLY_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)


@dataclass
class WorkspaceBuild:
    workspace: Path
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def build_workspace(
    workspace: Path, notebooks_dir: Path | None = None, modules: list[str] | None = None, log=print
) -> WorkspaceBuild:
    """Copy the release version of each module the workspace does not have yet; keep the trainee's own."""
    workspace = Path(workspace).resolve()
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else paths.default_notebooks()
    modules = modules or module_ids(notebooks_dir)
    if not modules:
        raise GradingError(f"{notebooks_dir}: no module notebooks found, so there is nothing to open yet.")
    workspace.mkdir(parents=True, exist_ok=True)
    build = WorkspaceBuild(workspace)
    new = [m for m in modules if not (workspace / m / f"{m}.ipynb").exists()]
    build.kept = [m for m in modules if m not in new]
    if new:
        # A private, throw-away nbgrader course: the trainer's gradebook is never touched from here.
        with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
            results = release(Path(tmp) / "grading", notebooks_dir, new, validate=False, log=lambda *_: None)
            for r in results:
                if r.problems:
                    raise GradingError(
                        "The trainee version of a module is not safe to open:\n"
                        + "\n".join(f"  - {p}" for p in r.problems)
                    )
                _copy_missing(r.notebook.parent, workspace / r.module)
                build.added.append(r.module)
        _warm_chart_cache(build.added)
    write_lab_config(workspace)
    for m in build.added:
        log(f"Added {m}.")
    if build.kept:
        log(f"Kept your own copy of {', '.join(build.kept)}: your answers and notes there are untouched.")
    log(f"Your workspace is {workspace}.")
    return build


def _warm_chart_cache(modules: list[str]) -> None:
    """Draw the charts the new modules open with into the trainee's own cache (course/core/cache.py), so the
    notebooks open without drawing. Best effort: a problem here must never stop the workspace."""
    with contextlib.suppress(Exception):  # the notebooks draw the charts themselves then
        warm_cache(load_case_cached(), modules=modules)


def _copy_missing(src: Path, dest: Path) -> None:
    """Copy files from src that dest does not have; never replace one (an answers.json, an edited notebook)."""
    for path in sorted(src.rglob("*")):
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


# In JupyterLab's command mode, a notebook's one-key shortcuts act whenever the focus is on anything that is
# not a text field: an option button or a drop-down in a widget included (ipywidgets#3912). ArrowDown on the
# confidence drop-down moved to the next cell; "a" on it inserted a cell; "d d" would delete one. So for
# trainees each such shortcut (no Ctrl, Alt or Accel) is switched off where the focus is inside a cell's
# output, where the course's widgets are, and kept everywhere else.
COMMAND_MODE_FOCUS = ".jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus"
OUTSIDE_OUTPUTS = ":not(.jp-OutputArea-output *)"
_HELD_KEYS = ("Accel", "Ctrl", "Alt", "Cmd", "Meta")


def _lab_schema_dirs() -> list[Path]:
    share = Path(sys.prefix) / "share" / "jupyter"
    return [share / "lab" / "schemas", *sorted((share / "labextensions").glob("**/schemas"))]


def command_mode_key_shortcuts() -> list[dict]:
    """The installed JupyterLab's one-key command-mode shortcuts that act on any focused element."""
    found = []
    for folder in _lab_schema_dirs():
        for schema in sorted(folder.rglob("*.json")):
            try:
                data = json.loads(schema.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for sc in data.get("jupyter.lab.shortcuts", []) if isinstance(data, dict) else []:
                keys = sc.get("keys") or []
                if (
                    sc.get("selector") == COMMAND_MODE_FOCUS
                    and keys
                    and keys[0]
                    and not sc.get("disabled")
                    and not any(k in keys[0].split() for k in _HELD_KEYS)
                ):
                    found.append(
                        {
                            "command": sc["command"],
                            "keys": list(keys),
                            "selector": sc["selector"],
                            **({"args": sc["args"]} if "args" in sc else {}),
                        }
                    )
    return found


def trainee_lab_settings() -> dict:
    shortcuts = command_mode_key_shortcuts()
    return {
        "@jupyterlab/shortcuts-extension:shortcuts": {
            "shortcuts": [
                *({**sc, "disabled": True} for sc in shortcuts),
                *({**sc, "selector": sc["selector"] + OUTSIDE_OUTPUTS} for sc in shortcuts),
            ]
        }
    }


APP_SETTINGS_DIR = "lab-app-settings"


def write_trainee_lab_settings(config_dir: Path) -> dict:
    """JupyterLab default settings for trainees (an overrides.json), and the server config that points
    JupyterLab at them: returned for the caller's jupyter_server_config.json."""
    settings = Path(config_dir) / APP_SETTINGS_DIR
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(trainee_lab_settings(), indent=2) + "\n")
    return {"LabApp": {"app_settings_dir": str(settings.resolve())}}


def write_lab_config(workspace: Path) -> Path:
    """Jupyter config for this workspace's launch: trainer-only nbgrader tools off (server and lab), and the
    save hook that keeps dead widget views out of saved notebooks (course/save_hook.py)."""
    cfg = Path(workspace) / CONFIG_DIR
    (cfg / "labconfig").mkdir(parents=True, exist_ok=True)
    (cfg / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": dict.fromkeys(TRAINER_ONLY_LAB_PLUGINS, True)}, indent=2) + "\n"
    )
    (cfg / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": {
                        **dict.fromkeys(TRAINER_ONLY_SERVER_EXTENSIONS, False),
                        SERVER_EXTENSION: True,
                    }
                },
                # saved widget views would show "model not found" when reopened; a note replaces them on disk
                "ContentsManager": {"pre_save_hook": SAVE_HOOK},
                **write_trainee_lab_settings(cfg),
                **pages_config(cfg),
            },
            indent=2,
        )
        + "\n"
    )
    return cfg


def lab_environment(workspace: Path, token: str | None = None) -> dict:
    """The environment for JupyterLab in this workspace: our config first on JUPYTER_CONFIG_PATH, our Voila
    templates first on JUPYTER_PATH, and the access token. The token goes in the environment (JUPYTER_TOKEN),
    never on the command line: any user of the machine reads every process's command line (/proc/<pid>/cmdline,
    ps), only its owner its environment."""
    env = writable_env()
    cfg = Path(workspace).resolve() / CONFIG_DIR
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (str(cfg), env.get("JUPYTER_CONFIG_PATH", "")) if p)
    share = str(cfg / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (share, env.get("JUPYTER_PATH", "")) if p)
    env.pop("JUPYTER_TOKEN_FILE", None)
    if token is not None:
        env["JUPYTER_TOKEN"] = token
    return env


def lab_command(workspace: Path, port: int, open_browser: bool) -> list[str]:
    """JupyterLab's command line: everyone on the machine can read it, so it holds no secret."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={Path(workspace).resolve()}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.open_browser={open_browser}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def start_lab(
    workspace: Path, port: int = 0, open_browser: bool = False, landing: str = "lab"
) -> tuple[subprocess.Popen, str]:
    """Start JupyterLab on the workspace; returns the process and the address of `landing` (JupyterLab itself,
    or the trainee's course home, HOME_PAGE) with the access token. `port` 0: any free port; otherwise exactly
    that port (JupyterLab stops rather than moving to another)."""
    chosen = port or free_port()
    token = secrets.token_hex(16)
    log_path = Path(workspace) / CONFIG_DIR / "lab.log"  # a file, not a pipe: a full pipe would stall the server
    # The server writes its address, token included, to its log: the log is its owner's alone.
    with contextlib.suppress(FileNotFoundError):
        log_path.unlink()
    with os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as log:
        proc = subprocess.Popen(
            lab_command(workspace, chosen, open_browser),
            env=lab_environment(workspace, token),
            cwd=str(workspace),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{chosen}/{landing}?token={token}"
    if not wait_until_answering(f"http://127.0.0.1:{chosen}/api/status?token={token}", proc):
        stop(proc)
        raise GradingError(
            f"JupyterLab did not start in {workspace}. Its log is {log_path}:\n"
            + last_lines(log_path.read_text(errors="replace"))
        )
    return proc, url


DEFAULT_PORT = 8888


def open_lab(
    workspace: Path,
    no_browser: bool = False,
    build_only: bool = False,
    port: int | None = None,
    notebooks_dir: Path | None = None,
    pages: bool = False,
) -> int:
    """`course lab`: build or refresh the workspace, then open JupyterLab there until Ctrl-C. With `pages`
    (`course open`, what `make course` runs), the browser opens the trainee's course home instead: the
    modules as pages that run themselves, with no code or notebook editor; JupyterLab is still at /lab.

    `port` None: 8888, or any free port if 8888 is taken; 0: any free port; another port given is checked
    first and must be free."""
    workspace = Path(workspace)
    try:
        if port and not build_only:
            check_port(port)
    except PortError as e:
        print(f"course lab: {e}", file=sys.stderr)
        return 2
    if workspace.exists() and not workspace.is_dir():
        print(
            f"course lab: {workspace} is a file, not a folder. Give the folder for your copy of the course "
            "(--workspace FOLDER; it is made if it does not exist).",
            file=sys.stderr,
        )
        return 2
    try:
        build_workspace(workspace, notebooks_dir)
        remove_old_home(workspace)  # the home is a page of the server now (course/apps/home_page.py)
    except GradingError as e:
        print(str(e), file=sys.stderr)
        return 1
    except OSError as e:
        print(
            f"course lab: cannot use {workspace} as your workspace: {e.strerror or e} ({e.filename})", file=sys.stderr
        )
        return 1
    if build_only:
        return 0
    if port is None:
        port = free_port(DEFAULT_PORT)
        if port != DEFAULT_PORT:
            print(f"Port {DEFAULT_PORT} is busy, so JupyterLab uses port {port}.")
    try:
        proc, url = start_lab(
            workspace, port, open_browser=not no_browser and not pages, landing=HOME_PAGE if pages else "lab"
        )
        if pages and not no_browser:
            import webbrowser

            webbrowser.open(url)
    except GradingError as e:
        print(str(e), file=sys.stderr)
        return 1
    what = "The course" if pages else "JupyterLab"
    print(
        f"{what} is running. Open this address in your browser:\n  {url}"
        if no_browser
        else f"{what} is open in your browser. If it is not, use this address:\n  {url}"
    )
    print("Press Ctrl-C here to stop it (your answers are saved as you go).", flush=True)
    try:
        proc.wait()
    except KeyboardInterrupt:
        stop(proc)
    return 0
