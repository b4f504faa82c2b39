"""The trainee's pages: the course home and each module as a page that runs itself (Voila, served by the same
Jupyter server as JupyterLab, with its token), with no code, cell numbers, menus or editing commands.

The module notebooks stay the nbgrader assignments; Voila shows them with the `course-trainee` template
(course/apps/voila_templates.py). The home is served by the server itself (course/apps/home_page.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from .voila_templates import EXTENSION_DENYLIST, TRAINEE, write_templates

KERNEL_IDLE_S = 900  # a left page's kernel is shut down after 15 minutes without a connection or work
# How long a page waits for its kernel to start before it shows an error instead (Voila's default is 60 s): when a
# room logs in at once, thirty servers and their kernels start on a few cores together (docs/deploy.md).
KERNEL_STARTUP_S = 180
# The course home, a page of the server itself with no kernel (course/apps/home_page.py); the module pages are
# Voila's, under voila/render/.
HOME_PAGE = "course/home"
SERVER_EXTENSION = "course.apps.home_page"


OLD_HOME = "home.ipynb"  # the course home until 2026-12: a notebook Voila ran, written at the workspace's root
OLD_HOME_SOURCE = "from course.notebook import open_home\n\nopen_home()"


def remove_old_home(workspace: Path) -> bool:
    """Remove the home notebook earlier versions wrote at the workspace's root, when it is still exactly the one
    the course wrote (one cell, `course-home`, calling open_home); anything else by that name is left alone."""
    path = Path(workspace) / OLD_HOME
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb.get("cells") if isinstance(nb, dict) else None
        ours = (
            isinstance(cells, list)
            and len(cells) == 1
            and isinstance(cells[0], dict)
            and cells[0].get("id") == "course-home"
            and "".join(cells[0].get("source") or []) == OLD_HOME_SOURCE
        )
        if ours:
            path.unlink()
        return bool(ours)
    except (OSError, ValueError, TypeError):
        return False


def pages_config(config_dir: Path) -> dict:
    """Server configuration for the trainee pages (Voila's server extension), with the templates installed
    under `config_dir`/share (course.apps.lab puts that folder on JUPYTER_PATH)."""
    write_templates(Path(config_dir) / "share" / "jupyter")
    return {
        "VoilaConfiguration": {
            "template": TRAINEE,
            "theme": "light",
            "strip_sources": True,
            "show_tracebacks": False,
            "extension_denylist": EXTENSION_DENYLIST,
        },
        "VoilaExecutor": {"startup_timeout": KERNEL_STARTUP_S},
        # Voila asks the server to shut a page's kernel down when the page is left, and the server refuses it
        # (no XSRF token: tests/browser/pages_support.py): without culling, every page a trainee opened would keep
        # its kernel (about 100 MB for a module) until the server stops. A kernel no page is connected to is shut
        # down after this long idle; an open page keeps its own.
        "MappingKernelManager": {"cull_idle_timeout": KERNEL_IDLE_S, "cull_interval": 60, "cull_connected": False},
    }
