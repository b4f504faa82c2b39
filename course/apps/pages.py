"""The trainee's pages: the course home and each module as a page that runs itself (Voila, served by the same
Jupyter server as JupyterLab, with its token), with no code, cell numbers, menus or editing commands.

The module notebooks stay the nbgrader assignments; Voila shows them with the `course-trainee` template
(course/apps/voila_templates.py). The home is a small notebook written at the workspace's root each launch.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from .voila_templates import EXTENSION_DENYLIST, TRAINEE, write_templates

HOME = "home.ipynb"
KERNEL_IDLE_S = 900  # a left page's kernel is shut down after 15 minutes without a connection or work
# How long a page waits for its kernel to start before it shows an error instead (Voila's default is 60 s): when a
# room logs in at once, thirty servers and their kernels start on a few cores together (docs/deploy.md).
KERNEL_STARTUP_S = 180
HOME_PAGE = f"voila/render/{HOME}"


def write_home(workspace: Path) -> Path:
    """The course home notebook at the workspace's root (it holds no answers), written when it is missing or
    differs: the same bytes every time (a fixed cell id), so a launch leaves an unchanged home untouched. On the
    shared server each trainee's own server writes it as it starts (deploy/jupyterhub/setup.py)."""
    nb = new_notebook(
        cells=[
            new_code_cell(
                "from course.notebook import open_home\n\nopen_home()",
                id="course-home",
                metadata={"jupyter": {"source_hidden": True}, "editable": False, "deletable": False},
            )
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "title": "Course home",
        },
    )
    path = Path(workspace) / HOME
    text = nbformat.writes(nb) + "\n"
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    tmp = path.with_name(f".{HOME}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


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
