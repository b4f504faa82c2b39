"""Shared fixtures: the fictional case pack for engine tests, and the project root."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_PACK = ROOT / "tests" / "fixtures" / "case"


@pytest.fixture(autouse=True)
def private_course_cache(tmp_path_factory, monkeypatch):
    """Every test starts with an empty course cache of its own (course/cache.py), never the user's
    ~/.cache/course: what a test renders or loads must not depend on what ran before it."""
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path_factory.mktemp("course-cache")))


@pytest.fixture(scope="session")
def fixture_case():
    from course.case import load_case

    return load_case(FIXTURE_PACK)


@pytest.fixture(scope="session")
def case(fixture_case):
    """The fictional pack under the name most engine tests use (files that test the real pack define their own)."""
    return fixture_case


@pytest.fixture
def writable_run(monkeypatch):
    """Answers are written whatever the shell running the tests has set: no nbgrader execution flag and no
    read-only switch (each makes the answer store read-only)."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_READ_ONLY", raising=False)


@pytest.fixture
def pack_copy(tmp_path):
    """A writable copy of the fictional pack, for tests that break it on purpose."""
    dest = tmp_path / "case"
    shutil.copytree(FIXTURE_PACK, dest)
    return dest
