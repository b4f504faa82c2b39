"""The nbgrader course the trainer works in: its configuration, the API over it, and where its modules are.

Every grading function takes the nbgrader course folder (normally <project>/grading) and, where it matters, the
folder of source notebooks, so the same pipeline runs on the course's modules and on a fictional course in
the tests.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..core import paths
from ..core.contract import ANSWERS_FILE

DEFAULT_COURSE_DIR = paths.GRADING
COURSE_ID = "safeguarding-case-review"
NOT_ASSIGNMENTS = {"workshop"}  # folders under notebooks/ that are not nbgrader assignments


class GradingError(Exception):
    """A problem the trainer can act on; the message names the file and what to do."""


def load_config(course_dir: Path):
    """The course's nbgrader_config.py as a traitlets Config, rooted at course_dir."""
    from traitlets.config.loader import Config, PyFileConfigLoader

    course_dir = Path(course_dir).resolve()
    cfg_file = course_dir / "nbgrader_config.py"
    cfg = PyFileConfigLoader(str(cfg_file), path=str(course_dir)).load_config() if cfg_file.exists() else Config()
    cfg.CourseDirectory.root = str(course_dir)
    if "db_url" not in cfg.CourseDirectory:
        cfg.CourseDirectory.db_url = "sqlite:///" + str(course_dir / "gradebook.db")
    if "course_id" not in cfg.CourseDirectory:
        cfg.CourseDirectory.course_id = COURSE_ID
    # exclude_overwriting is keyed by assignment: cover every assignment present now, not only at import time
    source = course_dir / "source"
    if source.is_dir():
        cfg.Autograde.exclude_overwriting = {a.name: [ANSWERS_FILE] for a in source.iterdir() if a.is_dir()}
    return cfg


def _tools_on_path() -> None:
    """nbgrader runs `alembic` by name when it creates a gradebook: make this Python's scripts findable."""
    if os.environ.get("COURSE_DATA"):  # nbgrader changes directory while it works: pin a relative pack path
        os.environ["COURSE_DATA"] = str(Path(os.environ["COURSE_DATA"]).resolve())
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def make_api(course_dir: Path, reuse_kernel: bool = False):
    """nbgrader's API over the course folder; `reuse_kernel` for `course grade` workers (SharedKernelExecute)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _tools_on_path()
    cfg = load_config(course_dir)
    if reuse_kernel:
        cfg.SharedKernelExecute.reuse_kernel = True
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def ensure_course_dir(course_dir: Path) -> Path:
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    cfg = course_dir / "nbgrader_config.py"
    if not cfg.exists() and course_dir != DEFAULT_COURSE_DIR:
        shutil.copy(DEFAULT_COURSE_DIR / "nbgrader_config.py", cfg)
    return course_dir


def module_ids(notebooks_dir: Path) -> list[str]:
    """Assignments: folders of notebooks_dir holding <id>/<id>.ipynb, in name order (m00, m01, ...)."""
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in notebooks_dir.iterdir()
        if p.is_dir() and p.name not in NOT_ASSIGNMENTS and (p / f"{p.name}.ipynb").exists()
    )


def last_lines(text: str, n: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-n:])
