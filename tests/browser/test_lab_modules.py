"""Each module as a trainee meets it in JupyterLab: Run All, every widget renders, the date slider answers the
keyboard, a decision is answered and reviewed, the answer is on disk and survives a kernel restart."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.paths import FIXTURE_PACK

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
    page.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.get_by_text("Day 2", exact=True).wait_for(timeout=10_000)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Submitted", exact=True).wait_for(timeout=10_000)
    harness.save(tab)
    assert harness.unexecuted_code_cells(plain_lab.root / "plain.ipynb") == []
    assert harness.widget_view_outputs(plain_lab.root / "plain.ipynb") == 4
    assert harness.widget_placeholders(tab) == []
    assert tab.js_errors() == []
    assert tab.blocked == []
    harness.shutdown_kernels(plain_lab)


# --------------------------------------------------------------------------- a trainee's journey


def decision_ids_in_order(nb_path: Path) -> list[str]:
    cells = json.loads(nb_path.read_text())["cells"]
    src = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return re.findall(r'\.decision\("([^"]+)"\)', src)


def trainee_journey(tab, lab, rel_path: str, case, shot_name: str, note) -> dict:
    """Everything issue 8 asks of one module in JupyterLab; returns timings for the report."""
    from course.core.answers import read_answers

    nb_path = lab.root / rel_path
    timings = {}
    decision_ids = decision_ids_in_order(nb_path)
    clock = [time.perf_counter()]

    def phase(name: str) -> None:
        now = time.perf_counter()
        timings[f"phase_{name}_s"] = round(now - clock[0], 1)
        clock[0] = now

    # 1. Run All: every cell runs, every widget renders, nothing errs in the page.
    harness.open_notebook(tab, lab, rel_path)
    phase("open")
    timings["run_all_s"] = harness.run_all(tab)
    harness.save(tab)
    expected_views = harness.widget_view_outputs(nb_path)
    assert expected_views > 0, f"{rel_path}: no widget was displayed by Run All"
    timings["render_s"] = harness.wait_widgets_rendered(tab, expected_views)
    assert harness.unexecuted_code_cells(nb_path) == [], f"{rel_path}: Run All left cells unexecuted"
    assert harness.count_widget_views(tab) == expected_views
    assert harness.widget_placeholders(tab) == []
    assert tab.js_errors() == [], f"{rel_path}: JavaScript errors after Run All"
    phase("run_all_and_checks")

    # 2. The date slider, by keyboard: the lens shows another date. Before any answer the views end just before
    # the first decision's period (the time fence): where that leaves one stop, the lens says so instead.
    from course.render.lens import fence_day, fenced_stops, slider_stops

    module = case.module(rel_path.split("/")[0])
    stops = fenced_stops(slider_stops(case, module), fence_day(case, module, set()))
    if len(stops) > 1:
        before, after = harness.move_lens_date_with_keyboard(tab)
        assert after != before, f"{rel_path}: ArrowDown on the Date list did not change the lens ({before!r})"
    else:  # one date only: just before the first decision
        heading = harness.lens_output(tab).locator("section.course-view h3").first
        harness.expect(heading).to_contain_text("held before ", timeout=20_000)
    harness.element_screenshot(tab, harness.lens_output(tab), f"{shot_name}-lens-after-keyboard")
    phase("slider")

    # 3. A decision: choose, rate, explain, submit; the review's analysis appears.
    if decision_ids:
        decision = harness.decision_outputs(tab).first
        decision.scroll_into_view_if_needed()
        assert decision.locator(f"section[aria-label='{harness.REVIEW_LABEL}']").count() == 0, (
            "the review's analysis is shown before the trainee has answered"
        )
        rationale = f"Browser test reasons for {decision_ids[0]}: I would share this with the other agencies."
        answered = harness.answer_decision(tab, decision, rationale)
        decision.get_by_text("Your answer has been recorded").wait_for(timeout=10_000)

        # 4. The answer is in answers.json beside the notebook.
        answers = read_answers(nb_path.parent / "answers.json", case)
        first = answers.first(decision_ids[0])
        assert first is not None, (
            f"{decision_ids[0]} not in answers.json: {(nb_path.parent / 'answers.json').read_text()}"
        )
        d = case.decision(decision_ids[0])
        chosen = [first["choice"]] if isinstance(first["choice"], str) else list(first["choice"])
        assert [d.option(c).text for c in chosen] == answered.option_texts
        assert first["rationale"] == rationale
        assert first["confidence"] == answered.confidence
        assert first.get("revealed_at")
        harness.element_screenshot(tab, decision, f"{shot_name}-decision-answered")
    phase("decision")
    harness.tall_screenshot(tab, f"{shot_name}-after-interaction")
    phase("screenshot")

    # 5. Restart the kernel, reopen the page, Run All: the recorded answer and the review are shown again.
    harness.save(tab)
    harness.restart_kernel(tab)
    tab.page.reload(wait_until="domcontentloaded")
    tab.page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
    harness.wait_kernel_idle(tab)
    phase("restart_and_reopen")
    # Reopened, before Run All: the course's save hook left no widget view pointing at the old kernel's models,
    # so JupyterLab shows a "Run All to see this view again" note in each place, not "model not found".
    assert harness.live_widget_view_outputs(nb_path) == 0, f"{rel_path}: saved with live widget views"
    note_text = "This interactive view appears when the notebook runs"
    for _ in range(120):
        if harness.placeholder_count(tab, note_text) >= expected_views:
            break
        tab.page.wait_for_timeout(250)
    assert harness.placeholder_count(tab, note_text) == expected_views, f"{rel_path}: reopened before Run All"
    assert harness.widget_placeholders(tab) == [], f"{rel_path}: reopened before Run All"
    tab.screenshot(f"{shot_name}-reopened-before-run-all", full_page=False)
    assert tab.js_errors() == [], f"{rel_path}: JavaScript errors on reopening before Run All"
    phase("settle_stale")
    timings["rerun_s"] = harness.run_all(tab)
    harness.wait_widgets_rendered(tab, expected_views)
    if decision_ids:
        decision = harness.decision_outputs(tab).first
        decision.locator(f"section[aria-label='{harness.REVIEW_LABEL}']").wait_for(timeout=30_000)
        yours = decision.locator(f"section[aria-label='{harness.YOURS_LABEL}']")
        yours.scroll_into_view_if_needed()
        harness.expect(yours).to_contain_text(
            rationale, use_inner_text=True, timeout=10_000
        )  # shown, not just in the DOM
        harness.element_screenshot(tab, decision, f"{shot_name}-decision-after-restart")
        assert decision.get_by_role("button", name=re.compile("^Record a change")).count() == 1
        assert tab.page.get_by_text("Your graded answer (your first)").count() >= 1
    assert harness.widget_placeholders(tab) == []
    assert tab.js_errors() == [], f"{rel_path}: JavaScript errors after restart and Run All"
    assert tab.blocked == [], f"JupyterLab tried to reach the internet: {tab.blocked}"
    phase("rerun_and_checks")
    return timings


# --------------------------------------------------------------------------- the facade on the fictional fixture pack

FIXTURE_CELLS = [
    'from course.notebook import open_module\nm = open_module("f01-early")\nm.intro()',
    "m.lens()",
    "m.timeline()",
    'm.decision("hv-bruise")',
    'm.recorded("hv-bruise")',
    "m.summary()",
]


@pytest.fixture(scope="module")
def fixture_lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixture-ws")
    harness.write_notebook(
        root / "f01-early" / "f01-early.ipynb", FIXTURE_CELLS, hide_code=True, markdown="# Fixture module (fictional)"
    )
    lab = harness.start_lab(
        root, tmp_path_factory.mktemp("fixture-home"), {"COURSE_DATA": str(FIXTURE_PACK)}, save_hook=True
    )
    yield lab
    lab.stop()


def test_fictional_module_journey_through_the_facade_in_jupyterlab(fixture_lab, tab, fictional_case, note):
    timings = trainee_journey(tab, fixture_lab, "f01-early/f01-early.ipynb", fictional_case, "fixture-f01-early", note)
    print(timings)
    harness.shutdown_kernels(fixture_lab)


# --------------------------------------------------------------------------- the real modules, in a trainee workspace


@pytest.fixture(scope="module")
def workspace_lab(trainee_workspace, tmp_path_factory):
    from course.apps import lab as ws_mod

    root = tmp_path_factory.mktemp("trainee") / "workspace"
    shutil.copytree(trainee_workspace, root)
    # Launched as `course lab` launches it: its config (trainer-only nbgrader tools off) first on the path.
    extra = {"JUPYTER_CONFIG_PATH": ws_mod.lab_environment(root)["JUPYTER_CONFIG_PATH"]}
    lab = harness.start_lab(root, tmp_path_factory.mktemp("trainee-home"), extra)
    yield lab
    lab.stop()


@pytest.mark.parametrize("module_id", harness.MODULE_IDS)
def test_module_journey_in_jupyterlab(module_id, workspace_lab, tab, pelka_case, note):
    rel = f"{module_id}/{module_id}.ipynb"
    assert (workspace_lab.root / rel).exists(), f"the trainee workspace has no {rel}"
    try:
        timings = trainee_journey(tab, workspace_lab, rel, pelka_case, module_id, note)
    finally:
        harness.shutdown_kernels(workspace_lab)
    print(module_id, timings)


def test_trainee_workspace_holds_every_module(trainee_workspace):
    missing = [m for m in harness.MODULE_IDS if not (trainee_workspace / m / f"{m}.ipynb").exists()]
    assert not missing, f"course lab --build-only did not release: {missing}"
    assert not list(trainee_workspace.rglob("answers.json"))
