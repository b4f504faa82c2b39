"""What the course's preprocessors read from a cell: its nbgrader metadata and tags, and the case pack."""

from __future__ import annotations

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
