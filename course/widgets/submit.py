"""Submit the module to the trainer from the page: on the multi-user server it runs nbgrader's exchange submit
as the trainee (from the folder that holds the module) and says what was submitted and when; a trainee may
submit again, and the trainer collects the latest. On a single computer it says where the work is kept.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets

from ..render.decision import when_text
from ..render.style import esc, problem_html, status_html
from .settle import SettledClick
from .shared import make, shared_layout, style_carrier

SUBMIT = "Submit this module to your trainer"
RESUBMIT = "Submit it again (your trainer collects the latest)"


def on_shared_server() -> bool:
    """Whether this page runs on the course's multi-user server (JupyterHub starts every trainee's server with
    these set), where nbgrader's exchange carries submissions to the trainer."""
    return bool(os.environ.get("JUPYTERHUB_USER") and os.environ.get("JUPYTERHUB_API_TOKEN"))


@dataclass(frozen=True)
class Submitted:
    ok: bool
    message: str  # plain words for the trainee
    at: str = ""  # ISO time of the submission, when it worked


def _nbgrader() -> str:
    found = Path(sys.executable).with_name("nbgrader")
    return str(found) if found.exists() else (shutil.which("nbgrader") or "nbgrader")


def submit_module(module_id: str, module_folder: Path) -> Submitted:
    """`nbgrader submit <module>` run from the folder that holds the module's folder, as nbgrader expects."""
    folder = Path(module_folder).resolve()
    try:
        out = subprocess.run(
            [_nbgrader(), "submit", module_id],
            cwd=folder.parent,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return Submitted(False, f"The module could not be submitted ({e}). Please try again, or tell your trainer.")
    if out.returncode != 0:
        lines = [ln for ln in (out.stderr + out.stdout).splitlines() if "ERROR" in ln or "rror" in ln]
        why = lines[-1].split("|")[-1].strip() if lines else "nbgrader gave no reason"
        return Submitted(False, f"The module was not submitted: {why}. Please tell your trainer.")
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return Submitted(True, f"Submitted {when_text(now)}: this module's page, your decisions and your reflection.", now)


class SubmitView(widgets.VBox):
    """The button at the end of a module page (or, on a single computer, where the work is kept)."""

    def __init__(self, module_id: str, module_folder: Path, before_submit=None):
        self.module_id = module_id
        self.before_submit = before_submit  # e.g. save the reflection still being typed
        self.folder = Path(module_folder)
        self.status = make(widgets.HTML)  # a live region: present from the start
        children: list[widgets.Widget] = [style_carrier()]
        if on_shared_server():
            self.button: widgets.Button | None = make(
                widgets.Button,
                description=SUBMIT,
                button_style="primary",
                layout=dict(width="auto"),
                tooltip="Sends this module (decisions and reflection) to your trainer; you can submit again later",
            )
            # Acts once the page has sent its last changes (the reflection's last keys: course/widgets/settle.py).
            self.settled = SettledClick(self.submit)
            self.button.on_click(self.settled.click)
            children.append(self.button)
        else:
            self.button = None
            self.status.value = status_html(
                f"On this computer your work is kept in the folder {self.folder.resolve()}: your decisions and "
                "your reflection are saved there as you go (answers.json). Your trainer will tell you how to hand "
                "it in."
            )
        children.append(self.status)
        super().__init__(children, layout=shared_layout())

    def submit(self) -> Submitted | None:
        if self.button is None:
            return None
        self.button.disabled = True
        try:
            if self.before_submit is not None:
                self.before_submit()
            result = submit_module(self.module_id, self.folder)
        finally:
            self.button.disabled = False
        self.status.value = status_html(result.message) if result.ok else problem_html(result.message)
        if result.ok:
            self.button.description = RESUBMIT
        return result

    def __repr__(self) -> str:
        return f"Submit {self.module_id} ({'shared server' if self.button else esc('single computer')})"
