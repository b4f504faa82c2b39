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


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests, stopped when they are done: Playwright's sync API keeps an asyncio
    loop running in the main thread while it is open, and the tests after these (widgets, hub, Kubernetes) need
    none to be running."""
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


@pytest.fixture(scope="session")
def trainee_workspace(tmp_path_factory):
    """A trainee workspace built once per run by `course lab --build-only`, as a trainee's first run builds it.
    Tests copy it, so each test module starts from a clean workspace."""
    import subprocess

    missing = [m for m in harness.MODULE_IDS if not (harness.ROOT / "notebooks" / m / f"{m}.ipynb").exists()]
    assert not missing, f"module notebooks missing under notebooks/: {missing}"
    ws = tmp_path_factory.mktemp("built") / "workspace"
    out = subprocess.run(
        [str(harness.VENV_BIN / "course"), "lab", "--build-only", "--workspace", str(ws)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=harness.ROOT,
        env=harness.server_env(tmp_path_factory.mktemp("build-home")),
    )
    if out.returncode != 0:
        pytest.fail(f"`course lab --build-only` failed (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    return ws
