"""Where things are: the project's folders, worked out once. Every other module asks here.

The package sits in the project (an editable install, or a server's copy of the project): the case pack,
the notebooks, the nbgrader course folder and the docs are its siblings. $COURSE_DATA and $COURSE_NOTEBOOKS
point the commands at another case pack or another course's notebooks (the tests use them).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
PROJECT = PACKAGE.parent
DATA = PROJECT / "data"
NOTEBOOKS = PROJECT / "notebooks"
NARRATIVES = NOTEBOOKS / "src"
REPORT_TEMPLATE = NOTEBOOKS / "workshop" / "report.ipynb"
GRADING = PROJECT / "grading"
DOCS = PROJECT / "docs"
FACILITATOR_GUIDE = DOCS / "facilitator-guide.md"
BENCH = PROJECT / "bench"


def default_pack_dir() -> Path:
    """The case pack this installation teaches: $COURSE_DATA, else the project's data/ folder."""
    env = os.environ.get("COURSE_DATA")
    return Path(env) if env else DATA


def default_notebooks() -> Path:
    """The module notebooks the trainer and trainee commands use: $COURSE_NOTEBOOKS, else notebooks/."""
    env = os.environ.get("COURSE_NOTEBOOKS")
    return Path(env) if env else NOTEBOOKS
