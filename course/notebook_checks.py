"""Checks on the module notebooks against the case pack (extended as the modules are written)."""

from __future__ import annotations

from pathlib import Path

from .case import Case


def module_notebook_problems(case: Case, nb_root: Path) -> list[str]:
    """Problems linking notebooks to the case pack; empty when all hold."""
    return []
