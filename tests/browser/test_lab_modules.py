"""Each module as a trainee meets it in JupyterLab: Run All, every widget renders, the date slider answers the
keyboard, a decision is answered and reviewed, the answer is on disk and survives a kernel restart."""

from __future__ import annotations

import pytest

from . import harness

pytestmark = pytest.mark.browser


# --------------------------------------------------------------------------- the harness itself, on plain ipywidgets


@pytest.fixture(scope="module")
def plain_lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("plain-ws")
    harness.write_notebook(root / "plain.ipynb", harness.PLAIN_WIDGETS_CELLS, markdown="# Plain widgets")
    lab = harness.start_lab(root, tmp_path_factory.mktemp("plain-home"))
    yield lab
    lab.stop()


def test_plain_ipywidgets_render_and_answer_keyboard_and_clicks_in_jupyterlab(plain_lab, tab):
    """If this fails, the browser/JupyterLab/ipywidgets stack is broken, not the course."""
    harness.open_notebook(tab, plain_lab, "plain.ipynb")
    harness.run_all(tab)
    harness.wait_widgets_rendered(tab, expected_views=4)
    page = tab.page
    handle = page.locator(".noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.get_by_text("Day 2", exact=True).wait_for(timeout=10_000)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Submitted", exact=True).wait_for(timeout=10_000)
    harness.save(tab)
    assert harness.widget_view_outputs(plain_lab.root / "plain.ipynb") == 4
    assert harness.widget_placeholders(tab) == []
    assert tab.js_errors() == []
    assert tab.blocked == []
