"""The projector view (`course present`, Voila) as a facilitator uses it in a room with no internet:
every non-loopback request is blocked, and the page must still work, from the keyboard, with no code shown."""

from __future__ import annotations

import pytest

from . import harness

pytestmark = pytest.mark.browser

VIEWS = [None, *harness.MODULE_IDS]


@pytest.fixture(scope="module")
def present_home(tmp_path_factory):
    return tmp_path_factory.mktemp("present-home")


@pytest.mark.parametrize("module_id", VIEWS, ids=lambda m: m or "whole-case")
def test_projector_view_works_offline_and_from_the_keyboard(module_id, present_home, tab):
    present = harness.start_present(present_home, module_id)
    try:
        timings = harness.open_projector(tab, present)
        page = tab.page
        assert harness.widget_placeholders(tab) == []
        assert harness.count_widget_views(tab) >= 2, "the lens and the timeline should both be shown"
        # No code: Voila strips sources, and nothing of the set-up cell is in the page.
        assert page.locator(".jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .cm-editor").count() == 0
        assert "load_case(" not in page.content()

        # The date slider by keyboard: the lens moves to the next date.
        before, after = harness.move_lens_date_with_keyboard(tab)
        assert after != before, f"ArrowRight on the date slider did not change the lens ({before!r})"

        # The whole picture by keyboard (Tab to the checkbox, Space): every agency's items in one place.
        lens = harness.lens_output(tab)
        whole = lens.get_by_role("checkbox", name="Whole picture (every agency)")
        whole.focus()
        page.keyboard.press("Space")
        harness.expect(lens.locator("section.course-view h3").first).to_contain_text(
            "The whole picture", timeout=20_000
        )

        # Hindsight stays apart and labelled as such when asked for.
        hindsight = lens.get_by_role("checkbox", name="What emerged only afterwards (hindsight: not known at the time)")
        hindsight.focus()
        page.keyboard.press("Space")
        harness.expect(lens.locator("section.course-hindsight h3")).to_contain_text(
            "NOT known to any professional", timeout=20_000
        )
        page.wait_for_timeout(300)
        tab.screenshot(f"present-{module_id or 'whole-case'}")
        assert harness.widget_placeholders(tab) == []
        assert tab.js_errors() == [], "JavaScript errors in the projector view"
        assert tab.blocked == [], f"the projector view asked the internet for: {tab.blocked}"
        print(module_id, timings)
    finally:
        present.stop()
    assert present.server.proc.poll() is not None
