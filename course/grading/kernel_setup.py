"""What the grading kernel runs before a submission's cells (course.grading.preprocessors.shared_kernel): the course
is imported from where it is installed, and nothing in a trainee's folder can be imported, whatever it holds.

A submission is a folder the trainee chose the contents of. Python finds modules in the working folder when ''
or a relative entry is on sys.path (a kernel adds '' unless PYTHONSAFEPATH is set), and a kernel started inside
the folder reads its ipython_config.py and imports an ipykernel_launcher.py found there. So the grading kernel
starts in an empty folder of its own with PYTHONSAFEPATH=1, and before each submission: no relative entry and
no entry inside the submission stays on sys.path, the notebook facade (and everything it imports) is imported
from the installed course, and only then does the kernel move into the submission's folder.

This module imports nothing heavy: it runs in every grading kernel.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The case loader before and after sharing (a reset runs once per submission; the memo lives on).
_ORIGINAL_LOAD_CASE: list = []
_SHARED_LOAD_CASE = None


def safe_sys_path(folder: str) -> list[str]:
    """sys.path without '' or any relative entry (the working folder) and without anything inside `folder`."""
    real = os.path.realpath(folder)

    def keep(entry: object) -> bool:
        if not isinstance(entry, str) or not entry or not os.path.isabs(entry):
            return False
        here = os.path.realpath(entry)
        return here != real and not here.startswith(real + os.sep)

    return [p for p in sys.path if keep(p)]


def enter_submission(folder: str, share_case: bool = False) -> None:
    """Make `folder` the working folder for a submission's cells, with only installed code importable."""
    sys.path[:] = safe_sys_path(folder)
    sys.path_importer_cache.clear()
    import course.notebook  # noqa: F401  (the facade and what it imports, before the working folder changes)

    if share_case:
        share_case_between_submissions()
    os.chdir(os.path.realpath(folder))


def share_case_between_submissions() -> None:
    """In a reused grading kernel, load each case pack once: its records are frozen, so one copy serves every
    submission (checking every quotation against the source again for each trainee costs about a second).
    A change to any YAML file in the pack loads it afresh."""
    from ..core import pack

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
