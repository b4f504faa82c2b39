"""The trainee pages from the keyboard and at 200 % zoom: a skip link to the first decision, a visible focus ring
on every control (WCAG 2.2 focus appearance, computed by Chromium), and nothing cut off or out of reach when
the text is twice the size."""

from __future__ import annotations

import pytest

from . import pages_support as ps

MAX_PRESSES_TO_FIRST_DECISION = 5
ZOOMED = (640, 450)  # a 1280 x 900 window at 200 % zoom: the same CSS pixels, the text twice the size


@pytest.fixture(scope="module")
def pages(trainee_workspace, tmp_path_factory):
    root = ps.copy_workspace(trainee_workspace, tmp_path_factory.mktemp("keyboard") / "workspace")
    lab = ps.serve(root, tmp_path_factory.mktemp("keyboard-home"))
    yield lab
    lab.stop()


FIRST_OPTION_JS = """() => { const d = document.querySelector('.course-decision');
  const first = d && d.querySelector('input[type=radio], input[type=checkbox]');
  return !!first && document.activeElement === first; }"""
ON_SKIP_LINK_JS = "() => document.activeElement.classList.contains('course-skip')"


@pytest.mark.parametrize("module", ["m00-welcome", "m01-early-years", "m02-fracture"])
def test_a_keyboard_user_reaches_the_first_decision_in_a_handful_of_key_presses(pages, tab, module):
    ps.open_module(tab, pages, module)
    page = tab.page
    pressed: list[str] = []
    while not page.evaluate(FIRST_OPTION_JS) and len(pressed) < 40:
        key = "Enter" if page.evaluate(ON_SKIP_LINK_JS) else "Tab"
        page.keyboard.press(key)
        pressed.append(key)
    assert page.evaluate(FIRST_OPTION_JS), f"the first decision's first option was not reached: {pressed}"
    assert len(pressed) <= MAX_PRESSES_TO_FIRST_DECISION, (
        f"{len(pressed)} key presses from page load to the first decision: {' '.join(pressed)}"
    )
    # The skip link is the first stop, says where it goes, and lands on the heading that introduces the decision.
    assert pressed[:2] == ["Tab", "Enter"]
    target = page.locator("#course-first-decision + div").inner_text()
    assert "Decision point 1" in target or "ractice decision" in target, target[:200]
    assert ps.page_errors(tab) == []


def walk_focus(tab, limit: int = 250) -> list[dict]:
    """Press Tab from the top of the page until the focus comes round again; each control's focus ring."""
    seen: list[dict] = []
    keys: set[str] = set()
    for _ in range(limit):
        tab.page.keyboard.press("Tab")
        ring = ps.focus_ring(tab)
        if ring is None:  # past the last control (the browser's own), or before the first
            continue
        if ring["key"] in keys:  # round again
            break
        keys.add(ring["key"])
        seen.append(ring)
    return seen


@pytest.mark.parametrize("path", ["home", "m01-early-years/m01-early-years.ipynb"])
def test_every_control_on_a_trainee_page_shows_a_focus_ring_of_two_pixels_and_three_to_one(pages, tab, path):
    if path == "home":
        ps.open_home(tab, pages)
    else:
        ps.open_module(tab, pages, path.split("/")[0])
    rings = walk_focus(tab)
    kinds = {r["what"].split(" ")[0] for r in rings}
    assert len(rings) >= (3 if path == "home" else 30), [r["what"] for r in rings]
    if path != "home":  # each kind of control the module page has was reached and measured
        assert {"a", "select[select-one]", "input[radio]", "input[checkbox]", "textarea[textarea]"} <= kinds, kinds
        assert any(k.startswith("button") for k in kinds), kinds
    problems = [p for r in rings for p in ps.focus_problems(r)]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", ["home", "m01-early-years/m01-early-years.ipynb"])
def test_at_200_percent_nothing_is_cut_off_and_the_decision_controls_stay_in_reach(pages, browser, path):
    from . import harness

    with browser.tab(viewport=ZOOMED) as tab:
        if path == "home":
            ps.open_home(tab, pages)
        else:
            ps.open_module(tab, pages, path.split("/")[0])
        tab.page.wait_for_timeout(500)  # widgets settle their layout after they are drawn
        problems = ps.cut_off(tab)
        assert problems == [], "\n".join(problems)
        name = "home" if path == "home" else "m01"
        tab.screenshot(f"pages-{name}-200-percent", full_page=False)
        if path == "home":
            assert ps.within_width(tab.page.locator(".course-next a"), ZOOMED[0])
            return
        decision = harness.decision_outputs(tab).first
        for control in (
            decision.get_by_role("radio").first,
            decision.get_by_role("combobox", name="How confident are you that this is the right thing to do?"),
            decision.get_by_role("textbox", name="Your reasons"),
            decision.get_by_role("button", name=harness.SUBMIT_FIRST),
            tab.page.get_by_role("textbox", name="Your reflection"),
        ):
            assert ps.within_width(control, ZOOMED[0]), control
        # ... and reached from the keyboard as at 100 %.
        page = tab.page
        page.evaluate("() => window.scrollTo(0, 0)")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate(FIRST_OPTION_JS)
        tab.screenshot("pages-m01-200-percent-first-decision", full_page=False)
        assert ps.page_errors(tab) == []
