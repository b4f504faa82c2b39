"""SharedKernelExecute: nbgrader's Execute, with one kernel reused across submissions inside `course grade`
workers, and the module's interactive views skipped at autograde (scores come from answers.json alone)."""

from __future__ import annotations

import contextlib
import os
import re

from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

from ..kernel_setup import share_case_between_submissions
from .cells import _nbgrader_meta
from .submitted_files import keep_only_graded_files

__all__ = ["SharedKernelExecute", "share_case_between_submissions", "shutdown_shared_kernel"]

# A cell that only draws one of the module's views (contract: `m.lens()`, `m.decision("d-x")`, ...).
VIEW_CALL = re.compile(r"^\s*m\.(intro|lens|timeline|decision|summary|key_points|submit|reflection)\([^\n]*\)\s*$")


# Before a submission's cells, in the kernel: a reused kernel is reset (names cleared, figures and widgets closed);
# then course.grading.kernel_setup makes only installed code importable and moves into the submission's folder.
ENTER_SUBMISSION = """
import os as _os, sys as _sys
_sys.path[:] = [_p for _p in _sys.path if _p and _os.path.isabs(_p)]
_os.chdir({neutral!r})
del _os, _sys
{reset}
import course.grading.kernel_setup as _ks
_ks.enter_submission({path!r}, share_case={share!r})
del _ks
get_ipython().execution_count = 1
"""
RESET = """
get_ipython().run_line_magic("reset", "-f")
import sys as _sys
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
if "ipywidgets" in _sys.modules:
    _sys.modules["ipywidgets"].Widget.close_all()
del _sys
"""
_NEUTRAL: list[str] = []


def neutral_folder() -> str:
    """An empty folder of this process's own for grading kernels to start in (never a trainee's folder)."""
    if not _NEUTRAL or not os.path.isdir(_NEUTRAL[0]):
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="course-grading-kernel-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _NEUTRAL[:] = [folder]
    return _NEUTRAL[0]


def kernel_start_options() -> dict:
    """How a grading kernel is started: in an empty folder, never adding its working folder to sys.path."""
    return {"cwd": neutral_folder(), "env": {**os.environ, "PYTHONSAFEPATH": "1"}}


class SharedKernelExecute(Execute):
    """nbgrader's Execute, but with reuse_kernel (set for `course grade` workers) one kernel per worker is
    reused across submissions: between notebooks the namespace is reset, figures and widgets are closed,
    the kernel moves to the submission's folder and the case pack is loaded once. This saves the kernel
    start, the heavy imports (ipywidgets, matplotlib) and the case check per submission. Only course code
    runs (DropAddedCode) and the course's modules keep no state between calls, so one trainee's notebook
    cannot reach another's. Elsewhere (plain `nbgrader autograde`) every notebook gets a fresh kernel.
    """

    _shared_km = None
    _uses = 0
    # A fresh kernel after this many submissions keeps a worker's memory bounded however big the cohort
    # (measured: about 280 MB after 20 submissions, 350 MB after 90, growing slowly).
    reuse_limit = Integer(30, help="Submissions graded in one kernel before a fresh one is started.").tag(config=True)

    skip_views = Bool(
        True,
        help=(
            "Do not draw the module's interactive views (lens, timeline, decision widgets, summary) at autograde: "
            "scores come from answers.json alone, and widget output cannot be shown in formgrader or feedback "
            "(nbgrader keeps no widget state), so drawing them only costs time."
        ),
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if (
            self.skip_views
            and cell.cell_type == "code"
            and not _nbgrader_meta(cell).get("grade")
            and VIEW_CALL.match(cell.source)
        ):
            cell.outputs = []
            cell.execution_count = None
            return cell, resources
        return super().preprocess_cell(cell, resources, index)

    reuse_kernel = Bool(
        False,
        help=(
            "Reuse one kernel for the notebooks this process grades (set by `course grade` for its workers). "
            "Elsewhere, as in plain `nbgrader autograde`, every notebook gets a fresh kernel."
        ),
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        """Execute the notebook in a kernel that started in an empty folder of its own, after only installed
        code was made importable and the kernel moved into the submission's folder (course.grading.kernel_setup):
        a `course/`, `sitecustomize.py` or `ipykernel_launcher.py` in a submission is never imported. The
        autograded folder keeps only the notebook, answers.json and timestamp.txt (submitted_files)."""
        from nbclient import NotebookClient

        resources = resources if resources is not None else {}
        path = os.path.abspath(resources.get("metadata", {}).get("path") or os.getcwd())
        keep_only_graded_files(self, path, resources)
        cls = SharedKernelExecute
        if self.reuse_kernel:
            if cls._shared_km is not None and (not cls._shared_km.has_kernel or cls._uses >= self.reuse_limit):
                shutdown_shared_kernel()
            cls._uses += 1
            km = cls._shared_km
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        start = kernel_start_options()
        if self.reuse_kernel:
            if cls._shared_km is None:  # first notebook of this worker: start the kernel it will keep
                self.km = self.create_kernel_manager()
                self.start_new_kernel(**start)
                cls._shared_km = self.km
            self.owns_km = False  # so nbclient neither shuts it down nor stops it after this notebook
        try:
            with self.setup_kernel(**start):
                info = self.wait_for_reply(self.kc.kernel_info())  # type: ignore[has-type]
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                code = ENTER_SUBMISSION.format(
                    neutral=start["cwd"], reset=RESET if self.reuse_kernel else "", path=path, share=self.reuse_kernel
                )
                reply = self.wait_for_reply(
                    self.kc.execute(code, silent=True, store_history=False)  # type: ignore[has-type]
                )
                if not reply or reply["content"]["status"] != "ok":
                    content = (reply or {}).get("content", {})
                    raise RuntimeError(f"the grading kernel could not be prepared: {content.get('evalue')}")
                for index, cell in enumerate(self.nb.cells):
                    self.preprocess_cell(cell, resources, index)
        except Exception:
            if self.reuse_kernel:
                shutdown_shared_kernel()  # never carry a kernel in an unknown state to the next trainee
            raise
        finally:
            if self.reuse_kernel and self.kc is not None:  # type: ignore[has-type]
                self.kc.stop_channels()  # type: ignore[has-type]
                self.kc = None
        self.set_widgets_metadata()
        return self.nb, self.resources


def shutdown_shared_kernel() -> None:
    km = SharedKernelExecute._shared_km
    SharedKernelExecute._shared_km = None
    SharedKernelExecute._uses = 0
    if km is not None:
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):  # the worker is ending or the kernel is already gone
            run_sync(km.shutdown_kernel)(now=True)
