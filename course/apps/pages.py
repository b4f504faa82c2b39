"""The trainee's pages: the course home and each module as a page that runs itself (Voila, served by the same
Jupyter server as JupyterLab, with its token), with no code, cell numbers, menus or editing commands.

The module notebooks stay the nbgrader assignments; Voila shows them with the `course-trainee` template
(course/apps/voila_templates.py). The home is served by the server itself (course/apps/home_page.py).
"""

from __future__ import annotations

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
