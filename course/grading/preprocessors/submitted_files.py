"""What stays in an autograded folder: the notebook, answers.json, timestamp.txt and nbgrader's submission secret, nothing else a trainee sent.

nbgrader's Autograde copies every file of the submission into the autograded folder, where the grading kernel
works and from where feedback is made. A planted `course/` package, `sitecustomize.py`, `*.pth`,
`ipython_config.py` or `matplotlibrc` has no business there: the kernel never imports from the folder
(course.grading.kernel_setup), and this removes them as well. Called by SharedKernelExecute before execution.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ...core.contract import ANSWERS_FILE, is_answers_file
from .cells import course_dir, flag

# submission_secret.txt: nbgrader's submit writes it and release_feedback reads it from here to hand the feedback
# to the trainee who submitted (the multi-user exchange); it is nbgrader's, not the trainee's text.
KEPT = (ANSWERS_FILE, "timestamp.txt", "submission_secret.txt")
NOT_A_FILE = "course_answers_not_a_file"  # set in the resources when answers.json was a folder or a link
USUAL = (".ipynb_checkpoints",)  # left by JupyterLab; the answer store's own lock, temp and set-aside files too


def _is_autograded_folder(preprocessor, folder: Path, resources) -> bool:
    """Only nbgrader's own autograded/<trainee>/<module> folder is ever pruned, never a folder given by hand."""
    info = resources.get("nbgrader") or {}
    if not info.get("student") or not info.get("assignment"):
        return False
    try:
        cd = course_dir(preprocessor.config)
        expected = cd.format_path(cd.autograded_directory, info["student"], info["assignment"])
    except Exception:  # no course directory configured: not an nbgrader autograde run
        return False
    return os.path.realpath(expected) == os.path.realpath(folder)


def keep_only_graded_files(preprocessor, path: str, resources) -> list[str]:
    """Remove from the autograded folder everything but the notebooks, answers.json and timestamp.txt (regular
    files only, never links). Returns the names removed; an answers.json that is not a file is flagged."""
    folder = Path(path)
    if not _is_autograded_folder(preprocessor, folder, resources):
        return []
    removed = []
    for p in sorted(folder.iterdir()):
        regular = p.is_file() and not p.is_symlink()
        if regular and (p.suffix == ".ipynb" or p.name in KEPT):
            continue
        if p.name == ANSWERS_FILE:
            resources[NOT_A_FILE] = True
            flag(
                preprocessor.log,
                f"{ANSWERS_FILE} is a {'link' if p.is_symlink() else 'folder'}, not a file: no decision could be "
                "scored from it",
            )
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        except OSError as e:
            raise RuntimeError(
                f"{p.name} in the submission could not be removed before grading ({e.strerror})"
            ) from None
        removed.append(p.name)
    unusual = [n for n in removed if n != ANSWERS_FILE and n not in USUAL and not is_answers_file(n)]
    if unusual:
        shown = ", ".join(repr(n) for n in unusual[:8]) + (f" and {len(unusual) - 8} more" if len(unusual) > 8 else "")
        flag(preprocessor.log, f"files that are not part of a submission were removed before grading: {shown}")
    return removed
