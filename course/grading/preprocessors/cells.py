"""What the course's preprocessors read from a cell: its nbgrader metadata and tags, and the case pack."""

from __future__ import annotations

from pathlib import Path

from ...core.contract import MARK_SCHEME_HEADING, MARK_SCHEME_TAG
from ...core.pack import load_case


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", []) or []


def is_mark_scheme_cell(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", []) or []
    return MARK_SCHEME_TAG in tags or MARK_SCHEME_HEADING in cell.get("source", "")


def the_case():
    """The case pack this installation teaches (looked up at call time, so a reused kernel's shared copy is used)."""
    return load_case()


# A line in nbgrader's log that `course grade` reports to the trainer, naming the trainee and module.
FLAG = "[course] needs attention:"


def flag(log, text: str) -> None:
    """Tell the trainer (through nbgrader's log, which `course grade` reads) about something in a submission."""
    log.warning("%s %s", FLAG, " ".join(str(text).split()))


def course_dir(config):
    """nbgrader's CourseDirectory for the configuration a preprocessor runs under."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=config)


_SOURCE_CACHE: dict = {}


def source_notebook(config, resources):
    """The course's own (source) notebook for the notebook being graded, or None: read once per file version."""
    import nbformat

    info = resources.get("nbgrader") or {}
    try:
        cd = course_dir(config)
        folder = Path(cd.format_path(cd.source_directory, ".", info["assignment"]))
        path = folder / f"{info['notebook']}.ipynb"
        key = (str(path), path.stat().st_mtime_ns)
    except (KeyError, OSError, ValueError):
        return None
    if key not in _SOURCE_CACHE:
        if len(_SOURCE_CACHE) > 32:
            _SOURCE_CACHE.clear()
        try:
            _SOURCE_CACHE[key] = nbformat.read(path, as_version=4)
        except Exception:  # an unreadable source notebook: the course's own problem, reported by release
            return None
    return _SOURCE_CACHE[key]
