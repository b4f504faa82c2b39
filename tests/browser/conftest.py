"""Fixtures for the browser suite: one Chromium per session, a fresh profile per test, servers per test module.

The whole suite skips, naming what is missing, when Debian's Chromium, Playwright or axe-core is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import harness

HERE = Path(__file__).resolve().parent
MISSING = harness.missing_requirements()
# Notes other tests leave for the end-of-run summary (upstream accessibility violations, blocked requests).
NOTES: list[str] = []


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if MISSING:
            item.add_marker(pytest.mark.skip(reason="browser suite needs: " + "; ".join(MISSING)))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if NOTES:
        terminalreporter.section("browser suite notes")
        for line in NOTES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def browser():
    b = harness.Browser()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def tab(browser):
    """A fresh browser context (its own profile folder, removed afterwards) with outside requests blocked."""
    with browser.tab() as t:
        yield t
    assert not t.profile.exists(), f"browser profile folder left behind: {t.profile}"


@pytest.fixture
def note():
    return NOTES.append
