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
        assert after != before, f"ArrowDown on the Date list did not change the lens ({before!r})"

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


def test_projector_view_reads_from_the_back_of_a_room(present_home, browser):
    """At 1920x1080: body text at least 24 px, the timeline across the width with labels of at least 18 px, one
    date for the lens and the timeline, and a first screen with something on it."""
    from course.render.style import FONT_SIZE

    present = harness.start_present(present_home, "m02-fracture")
    try:
        with browser.tab(viewport=(1920, 1080)) as tab:
            harness.open_projector(tab, present)
            page = tab.page
            lens = harness.lens_output(tab)
            assert "Nothing yet" not in lens.inner_text(), "the room's first screen is empty"
            size = lens.locator("section.course-view li").first.evaluate(
                "e => parseFloat(getComputedStyle(e).fontSize)"
            )
            assert size >= 24, f"lens text is {size}px"
            img = page.locator("figure.course-view img").first
            width, natural = img.evaluate("e => [e.getBoundingClientRect().width, e.naturalWidth]")
            assert width >= 0.75 * 1920, f"the timeline is {width:.0f}px wide"
            label_px = FONT_SIZE * 80 / 72 * width / natural  # the chart is drawn at 80 dpi
            assert label_px >= 18, f"chart labels are {label_px:.1f}px"
            before, after = harness.move_lens_date_with_keyboard(tab)
            assert after != before
            caption = page.locator("figure.course-view figcaption").first
            harness.expect(caption).not_to_contain_text("Timeline at " + before.rsplit(" held ", 1)[-1], timeout=10_000)
            shown = caption.inner_text().removeprefix("Timeline at ").split(".")[0]
            assert shown in after, f"the timeline shows {shown!r} while the lens shows {after!r}"
            tab.screenshot("present-1920x1080-m02")
            assert tab.blocked == [] and tab.js_errors() == []
    finally:
        present.stop()
