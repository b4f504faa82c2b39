"""A trainee's whole journey through a module, by keyboard only, in the pages `course open` serves: the home,
a module, the lens, every decision, the reflection, a reload, where the work is kept, a restart of the server,
and everything found again. Typing into every input never changes a notebook file. A screenshot of each page
is kept in artifacts/screenshots/."""

from __future__ import annotations

import hashlib
import re

import pytest

from . import harness
from . import pages_support as ps

MODULE = "m01-early-years"
# Keys JupyterLab would take as notebook commands (a: insert, d d: delete, s: save, x: cut, 0 0: restart):
# here they are only text.
RATIONALE = "Keyboard journey, decision {n}: a d d s x 0 0, I would read the whole history first."
REFLECTION = "Keyboard journey reflection: a d d s x 0 0. Each agency held one piece, and nobody held them together."


def notebook_digests(root) -> dict[str, str]:
    """Every module notebook in the workspace, by its SHA-256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.glob("m*/*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts
    }


def tab_until(tab, predicate_js: str, arg=None, limit: int = 60, rings: list | None = None) -> int:
    """Press Tab until `predicate_js(arg)` holds for the focused element; returns how many presses. Each control
    passed on the way has its focus ring measured into `rings`."""
    page = tab.page
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if rings is not None:
            ring = ps.focus_ring(tab)
            if ring is not None:
                rings.append(ring)
        if page.evaluate(predicate_js, arg):
            return n
    raise AssertionError(f"focus never reached the control after {limit} Tab presses ({predicate_js[:80]})")


IN_DECISION_JS = """([k, sel]) => { const d = document.querySelectorAll('.course-decision')[k];
  return !!d && d.contains(document.activeElement) && document.activeElement.matches(sel); }"""
LINK_TO_JS = "(href) => document.activeElement.tagName === 'A' && document.activeElement.href.endsWith(href)"
LENS_DATE_JS = """() => { const e = document.activeElement; const w = e.closest('.widget-dropdown');
  return e.tagName === 'SELECT' && !!w && /^\\s*Date/.test(w.innerText) && !e.closest('.course-decision'); }"""
REFLECTION_JS = """() => { const e = document.activeElement; return e.tagName === 'TEXTAREA'
  && !!e.closest('.course-reflection'); }"""


def page_shot(tab, name: str) -> None:
    harness.element_screenshot(tab, tab.page.locator("#rendered_cells, main.course-home").first, name)


@pytest.fixture
def workspace(trainee_workspace, tmp_path):
    return ps.copy_workspace(trainee_workspace, tmp_path / "workspace")


def test_a_keyboard_only_trainee_completes_a_module_and_finds_it_all_after_a_restart(
    workspace, tmp_path, browser, pelka_case
):
    from course.core.answers import read_answers

    root = workspace
    before = notebook_digests(root)
    assert f"{MODULE}/{MODULE}.ipynb" in before
    decisions = pelka_case.decisions_in(MODULE)
    assert len(decisions) >= 4
    rings: list[dict] = []
    lab = ps.serve(root, tmp_path / "home-1")
    try:
        with browser.tab() as tab:
            page = tab.page
            # The home, and the module opened from it with Tab and Enter.
            ps.open_home(tab, lab)
            page_shot(tab, "journey-1-home")
            tab_until(tab, LINK_TO_JS, f"{MODULE}/{MODULE}.ipynb", rings=rings)
            page.keyboard.press("Enter")
            page.wait_for_url(
                re.compile(rf"/voila/render/{MODULE}/{MODULE}\.ipynb"), wait_until="commit", timeout=30_000
            )
            harness.wait_voila_done(tab)
            harness.wait_widgets_rendered(tab)
            page.locator(".course-reflection textarea").wait_for(timeout=60_000)  # the page's last view

            # The lens: its Date drop-down, reached with Tab, moved with ArrowDown.
            lens = harness.lens_output(tab)
            lens.locator("section.course-view h3").first.wait_for(timeout=30_000)
            heading = harness.lens_heading(lens)
            tab_until(tab, LENS_DATE_JS, rings=rings)
            page.keyboard.press("ArrowDown")
            harness.expect(lens.locator("section.course-view h3").first).not_to_have_text(heading, timeout=20_000)
            page_shot(tab, "journey-2-module-lens")

            # Every decision: an option (Space), the confidence (ArrowDown x4: "4"), the reasons, Submit (Enter).
            assert page.locator(".course-decision").count() == len(decisions)
            for k in range(len(decisions)):
                tab_until(tab, IN_DECISION_JS, [k, "input[type=radio], input[type=checkbox]"], rings=rings)
                page.keyboard.press("Space")
                assert page.evaluate("() => document.activeElement.checked"), f"decision {k + 1}: Space did not choose"
                tab_until(tab, IN_DECISION_JS, [k, "select"], rings=rings)
                for _ in range(4):
                    page.keyboard.press("ArrowDown")
                tab_until(tab, IN_DECISION_JS, [k, "textarea"], rings=rings)
                page.keyboard.type(RATIONALE.format(n=k + 1))
                tab_until(tab, IN_DECISION_JS, [k, "button"], rings=rings)
                assert page.evaluate("() => document.activeElement.innerText.trim()") == harness.SUBMIT_FIRST
                page.keyboard.press("Enter")
                decision = page.locator(".course-decision").nth(k)
                decision.locator(f"section[aria-label='{harness.REVIEW_LABEL}']").wait_for(timeout=30_000)
                decision.get_by_text("Your answer has been recorded").wait_for(timeout=10_000)
            page_shot(tab, "journey-3-decisions-answered")

            # The reflection, typed into its box, saved as it is typed.
            tab_until(tab, REFLECTION_JS, rings=rings)
            page.keyboard.type(REFLECTION)
            page.keyboard.press("Tab")
            store = root / MODULE / "answers.json"
            for _ in range(100):  # saved a moment after the typing stops
                if read_answers(store, pelka_case).reflection(MODULE) == REFLECTION:
                    break
                page.wait_for_timeout(100)
            assert read_answers(store, pelka_case).reflection(MODULE) == REFLECTION
            # Submit, on a single computer: the page says where the work is kept.
            kept = page.get_by_text("On this computer your work is kept in the folder")
            kept.wait_for(timeout=10_000)
            assert str((root / MODULE).resolve()) in kept.inner_text()
            page_shot(tab, "journey-4-reflection-and-submit")

            # Reloaded, the page shows the reflection and every answer with the review.
            page.reload(wait_until="domcontentloaded")
            harness.wait_voila_done(tab)
            harness.wait_widgets_rendered(tab)
            page.locator(".course-reflection textarea").wait_for(timeout=60_000)  # the page's last view
            harness.expect(page.get_by_role("textbox", name="Your reflection")).to_have_value(REFLECTION)
            reviews = page.locator(f".course-decision section[aria-label='{harness.REVIEW_LABEL}']")
            harness.expect(reviews).to_have_count(len(decisions), timeout=30_000)
            page_shot(tab, "journey-5-reloaded")
            assert tab.blocked == [], f"the pages tried to reach the internet: {tab.blocked}"
            assert ps.page_errors(tab) == []
    finally:
        lab.stop()

    # The server stopped and started again (a new token), as after closing the laptop.
    lab = ps.serve(root, tmp_path / "home-2")
    try:
        with browser.tab() as tab:
            page = tab.page
            ps.open_home(tab, lab)
            home = page.locator(".course-home")
            home.wait_for(timeout=60_000)
            n = len(decisions)
            row = home.locator("li").filter(has_text=pelka_case.module(MODULE).title)
            harness.expect(row).to_contain_text(f"{n} of {n} decisions answered; reflection written")
            page_shot(tab, "journey-6-home-after-restart")
            ps.open_module(tab, lab, MODULE)
            harness.expect(page.get_by_role("textbox", name="Your reflection")).to_have_value(REFLECTION)
            reviews = page.locator(f".course-decision section[aria-label='{harness.REVIEW_LABEL}']")
            harness.expect(reviews).to_have_count(n, timeout=30_000)
            page_shot(tab, "journey-7-module-after-restart")
            assert ps.page_errors(tab) == []
    finally:
        lab.stop()

    answers = read_answers(root / MODULE / "answers.json", pelka_case)
    assert sorted(answers) == sorted(d.id for d in decisions)
    for d in decisions:
        first = answers.first(d.id)
        assert first["confidence"] == 4, (d.id, first)
        assert first["rationale"] in {RATIONALE.format(n=k + 1) for k in range(len(decisions))}, first
    assert answers.reflection(MODULE) == REFLECTION
    # Typing into every input (the lens, options, confidence, reasons, reflection) left every notebook as it was.
    assert notebook_digests(root) == before
    problems = [p for r in rings for p in ps.focus_problems(r)]
    assert problems == [], "\n".join(problems)
