"""Shared fixtures. Two case packs, two names everywhere: `fictional_case` is the tiny made-up pack in
tests/fixtures/case (the engine's tests), `pelka_case` is the course's real pack in data/."""

from __future__ import annotations

import shutil

import pytest

from tests.paths import DATA, FIXTURE_PACK


@pytest.fixture(autouse=True)
def private_course_cache(tmp_path_factory, monkeypatch):
    """Every test starts with an empty course cache of its own (course/core/cache.py), never the user's
    ~/.cache/course: what a test renders or loads must not depend on what ran before it."""
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path_factory.mktemp("course-cache")))


@pytest.fixture(scope="session")
def fictional_case():
    from course.core.pack import load_case

    return load_case(FIXTURE_PACK)


@pytest.fixture(scope="session")
def pelka_case():
    from course.core.pack import load_case

    return load_case(DATA)


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
