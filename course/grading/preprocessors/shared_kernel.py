"""SharedKernelExecute: nbgrader's Execute, with one kernel reused across submissions inside `course grade`
workers, and the module's interactive views skipped at autograde (scores come from answers.json alone)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

from .cells import _nbgrader_meta

# A cell that only draws one of the module's views (contract: `m.lens()`, `m.decision("d-x")`, ...).
VIEW_CALL = re.compile(r"^\s*m\.(intro|lens|timeline|decision|summary|key_points|submit|reflection)\([^\n]*\)\s*$")


RESET_KERNEL = """
get_ipython().run_line_magic("reset", "-f")
import os as _os, sys as _sys
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
if "ipywidgets" in _sys.modules:
    _sys.modules["ipywidgets"].Widget.close_all()
_os.chdir({path!r})
get_ipython().execution_count = 1
import course.grading.preprocessors.shared_kernel as _sk
_sk.share_case_between_submissions()
del _os, _sys, _sk
"""


# The case loader before and after sharing (a reset runs once per submission; the memo lives on).
_ORIGINAL_LOAD_CASE: list = []
_SHARED_LOAD_CASE = None


def share_case_between_submissions() -> None:
    """In a reused grading kernel, load each case pack once: its records are frozen, so one copy serves every
    submission (checking every quotation against the source again for each trainee costs about a second).
    A change to any YAML file in the pack loads it afresh."""
    import sys

    from ...core import pack

    global _SHARED_LOAD_CASE
    original = pack.load_case if _SHARED_LOAD_CASE is None else _ORIGINAL_LOAD_CASE[0]
    if _SHARED_LOAD_CASE is None:
        _ORIGINAL_LOAD_CASE.append(original)
        memo: dict = {}

        def load_case(pack_dir=None):
            folder = Path(pack_dir) if pack_dir is not None else pack.default_pack_dir()
            key = (str(folder.resolve()), tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.yaml"))))
            if key not in memo:
                memo[key] = original(pack_dir)
            return memo[key]

        _SHARED_LOAD_CASE = load_case
    for mod in list(sys.modules.values()):
        if getattr(mod, "load_case", None) is original:
            setattr(mod, "load_case", _SHARED_LOAD_CASE)  # noqa: B010 (patching modules that imported it by name)


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
        if not self.reuse_kernel:
            return super().preprocess(nb, resources, km)
        from nbclient import NotebookClient

        cls = SharedKernelExecute
        if cls._shared_km is not None and (not cls._shared_km.has_kernel or cls._uses >= self.reuse_limit):
            shutdown_shared_kernel()
        cls._uses += 1
        path = (resources or {}).get("metadata", {}).get("path") or os.getcwd()
        NotebookClient.__init__(self, nb, cls._shared_km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        if cls._shared_km is None:  # first notebook of this worker: start the kernel it will keep
            self.create_kernel_manager()
            self.start_new_kernel()
            cls._shared_km = self.km
        self.owns_km = False  # so nbclient neither shuts it down nor stops it after this notebook
        try:
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())  # type: ignore[has-type]
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                reply = self.wait_for_reply(
                    self.kc.execute(  # type: ignore[has-type]
                        RESET_KERNEL.format(path=os.path.abspath(path)), silent=True, store_history=False
                    )
                )
                if not reply or reply["content"]["status"] != "ok":
                    content = (reply or {}).get("content", {})
                    raise RuntimeError(f"the shared grading kernel could not be reset: {content.get('evalue')}")
                for index, cell in enumerate(self.nb.cells):
                    self.preprocess_cell(cell, resources, index)
        except Exception:
            shutdown_shared_kernel()  # never carry a kernel in an unknown state to the next trainee
            raise
        finally:
            if self.kc is not None:  # type: ignore[has-type]
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
