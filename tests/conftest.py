"""Shared fixtures: the fictional case pack for engine tests, and the project root."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_PACK = ROOT / "tests" / "fixtures" / "case"


@pytest.fixture(scope="session")
def fixture_case():
    from course.case import load_case

    return load_case(FIXTURE_PACK)


@pytest.fixture
def pack_copy(tmp_path):
    """A writable copy of the fictional pack, for tests that break it on purpose."""
    dest = tmp_path / "case"
    shutil.copytree(FIXTURE_PACK, dest)
    return dest
