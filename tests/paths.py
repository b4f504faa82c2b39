"""Where the tests find things: the project's folders come from the package (course.core.paths), plus the
test fixtures and the steering repo's shared folder."""

from __future__ import annotations

from course.core.paths import DATA, DOCS, GRADING, NARRATIVES, NOTEBOOKS, PROJECT

ROOT = PROJECT
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
FIXTURE_PACK = FIXTURES / "case"
SHARED = ROOT.parent / "shared"

__all__ = ["DATA", "DOCS", "FIXTURES", "FIXTURE_PACK", "GRADING", "NARRATIVES", "NOTEBOOKS", "ROOT", "SHARED", "TESTS"]
