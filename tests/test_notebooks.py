"""The module notebooks: built from notebooks/src/*.md and the case pack, stored clean, every decision placed
exactly once with its graded cell, code hidden and locked, one reflection each; executed top to bottom with
papermill (nothing written), released by nbgrader with nothing hidden leaking and the Validator passing."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course.authoring.build import build_notebook, notebook_text, stale_notebooks
from course.authoring.checks import module_notebook_problems, notebook_decisions
from course.authoring.narrative import AuthoringError
from tests.paths import FIXTURE_PACK, ROOT

NOTEBOOKS = ROOT / "notebooks"
SRC = NOTEBOOKS / "src"
MODULES = ("m00-welcome", "m01-early-years", "m02-fracture", "m03-pregnancy", "m04-school", "m05-whole-picture")


def _nb(module_id: str) -> dict:
    return json.loads((NOTEBOOKS / module_id / f"{module_id}.ipynb").read_text(encoding="utf-8"))


def _src(cell) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _write_fixture_course(fixture_case, root: Path) -> Path:
    for m in fixture_case.modules:
        folder = root / m.id
        folder.mkdir(parents=True)
        (folder / f"{m.id}.ipynb").write_text(notebook_text(build_notebook(fixture_case, m.id)), encoding="utf-8")
    return root


# --------------------------------------------------------------------------- the committed modules


def test_every_module_in_the_data_has_a_notebook_and_a_narrative(pelka_case):
    assert tuple(m.id for m in pelka_case.modules) == MODULES
    for mid in MODULES:
        assert (NOTEBOOKS / mid / f"{mid}.ipynb").is_file()
        assert (SRC / f"{mid}.md").is_file()


def test_committed_notebooks_are_exactly_what_the_builder_makes(pelka_case):
    assert stale_notebooks(pelka_case, SRC, NOTEBOOKS) == []


def test_committed_notebooks_are_stored_without_outputs_or_execution_counts():
    for mid in MODULES:
        for cell in _nb(mid)["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, (mid, cell["id"])


def test_module_notebooks_pass_every_notebook_check(pelka_case):
    assert module_notebook_problems(pelka_case, NOTEBOOKS) == []


def test_every_decision_in_the_data_is_in_exactly_one_module_notebook_and_no_other(pelka_case):
    shown = {mid: notebook_decisions(_nb(mid)) for mid in MODULES}
    placed = [d for ids in shown.values() for d in ids]
    assert sorted(placed) == sorted(d.id for d in pelka_case.decisions)
    for mid, ids in shown.items():
        assert sorted(ids) == sorted(d.id for d in pelka_case.decisions_in(mid)), mid


def test_each_story_module_has_two_to_eight_decisions_and_the_welcome_a_practice_one(pelka_case):
    for mid in MODULES[1:-1]:
        assert 2 <= len([d for d in pelka_case.decisions_in(mid) if not d.practice]) <= 8, mid
    assert pelka_case.decisions_in(MODULES[-1]) == ()  # the synthesis module, after the hindsight panel
    assert [d.practice for d in pelka_case.decisions_in("m00-welcome")] == [True]


def test_every_module_has_its_parts_in_order():
    for mid in MODULES:
        ids = [c["id"] for c in _nb(mid)["cells"]]
        parts = [
            "title",
            "about",
            "intro",
            "lens",
            "timeline",
            "learning-together",
            "prompt-reflection",
            f"reflection-{mid}",
            "summary",
        ]
        assert [i for i in ids if i in parts] == parts, mid
        assert ids.index("timeline") < min((ids.index(i) for i in ids if i.startswith("score-")), default=10**6)


def test_about_this_module_is_written_in_the_notebook_before_the_cell_that_opens_it(pelka_case):
    """Readable before anything runs; the opening cell then shows nothing (one output fewer to lay out)."""
    for m in pelka_case.modules:
        cells = _nb(m.id)["cells"]
        ids = [c["id"] for c in cells]
        about, opener = cells[ids.index("about")], cells[ids.index("about") + 1]
        assert opener["id"] == "intro" and opener["cell_type"] == "code"
        assert _src(opener).splitlines()[-1] == f'm = open_module("{m.id}")'
        text = _src(about)
        assert about["cell_type"] == "markdown" and text.startswith("## About this module\n")
        n = len(pelka_case.decisions_in(m.id))
        for fact in (
            m.summary,
            f"**Period:** {m.period_text}.",
            f"about {m.minutes} minutes",
            f"**Decisions:** {n}.",
            *(f"- {o}" for o in m.objectives),
        ):
            assert fact in text, (m.id, fact)


def test_no_code_is_visible_or_editable_in_any_module():
    for mid in MODULES:
        for cell in _nb(mid)["cells"]:
            meta = cell["metadata"]
            if cell["cell_type"] == "code":
                assert meta["jupyter"]["source_hidden"] is True
                assert meta["editable"] is False and meta["deletable"] is False
                assert meta["nbgrader"]["locked"] is True
                assert re.fullmatch(
                    r'(from course\.notebook import open_module\n\nm = open_module\("[a-z0-9-]+"\)'
                    r'|m\.\w+\(("[\w-]+")?\)(\n### BEGIN HIDDEN TESTS\nm\.score\("[\w-]+"\)'
                    r"\n### END HIDDEN TESTS)?)",
                    _src(cell),
                ), _src(cell)
            elif not meta.get("nbgrader", {}).get("solution"):
                assert meta["editable"] is False, (mid, cell["id"])


def test_reflection_cell_is_a_markdown_answer_worth_the_points_in_modules_yaml(pelka_case):
    for m in pelka_case.modules:
        cells = _nb(m.id)["cells"]
        answer = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == f"reflection-{m.id}"]
        assert len(answer) == 1
        meta = answer[0]["metadata"]["nbgrader"]
        assert answer[0]["cell_type"] == "markdown"
        assert meta == {
            "grade": True,
            "grade_id": f"reflection-{m.id}",
            "locked": False,
            "points": m.reflection.points,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
        assert _src(answer[0]) == "YOUR ANSWER HERE"
        prompt = cells[cells.index(answer[0]) - 1]
        assert m.reflection.prompt in _src(prompt) and prompt["metadata"]["nbgrader"]["locked"] is True


def test_no_mark_scheme_or_hidden_solution_is_in_a_trainee_notebook(pelka_case):
    for m in pelka_case.modules:
        text = json.dumps(_nb(m.id))
        for level in m.reflection.rubric:
            assert level.descriptor not in text or len(level.descriptor) < 25, level.descriptor
        assert "BEGIN SOLUTION" not in text and "MARK SCHEME" not in text


def test_narrative_quotations_are_verbatim_in_the_source(pelka_case):
    quotes = []
    for mid in MODULES:
        text = (SRC / f"{mid}.md").read_text(encoding="utf-8")
        text = re.sub(r"\n>[ \t]?", "\n", text)  # a quotation may run over several blockquote lines
        quotes += [(mid, q) for q in re.findall(r"“([^”]+)”", text)]
    assert quotes, "the narratives quote the review"
    missing = [(mid, q) for mid, q in quotes if not pelka_case.source.find(q)]
    assert missing == []


def test_welcome_gives_a_content_warning_and_where_to_get_support():
    text = (SRC / "m00-welcome.md").read_text(encoding="utf-8")
    head = text[: text.index("## How to use this page")]
    assert "content warning" in head.lower()
    for must in ("safeguarding lead", "employee assistance programme", "0808 800 5000", "116 123", "999"):
        assert must in head, must
    flat = " ".join(text.split())
    assert "Run All Cells" not in flat and "Submit this module to your trainer" in flat  # a page, not a notebook


def test_no_answers_file_is_kept_in_the_notebooks_folder():
    assert list(NOTEBOOKS.rglob("answers.json*")) == []


# --------------------------------------------------------------------------- the builder, on the fictional case


def test_builder_gives_byte_identical_notebooks_on_every_run(fictional_case):
    for m in fictional_case.modules:
        assert notebook_text(build_notebook(fictional_case, m.id)) == notebook_text(
            build_notebook(fictional_case, m.id)
        )


def test_graded_cell_has_the_contract_shape_and_the_decisions_points(fictional_case):
    nb = build_notebook(fictional_case, "f01-early")
    cell = next(c for c in nb.cells if c.id == "score-hv-bruise")
    assert cell.source == (
        'm.recorded("hv-bruise")\n### BEGIN HIDDEN TESTS\nm.score("hv-bruise")\n### END HIDDEN TESTS'
    )
    assert cell.metadata["nbgrader"] == {
        "grade": True,
        "grade_id": "score-hv-bruise",
        "locked": True,
        "points": 2,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    multi = next(c for c in build_notebook(fictional_case, "f02-later").cells if c.id == "score-social-assessment")
    assert multi.metadata["nbgrader"]["points"] == 4  # multiple choice: the sum of the positive options


def test_module_without_reflection_gets_no_answer_cell(fictional_case):
    nb = build_notebook(fictional_case, "f02-later")
    assert not [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


def test_named_decisions_are_placed_where_the_narrative_says(fictional_case):
    text = "{{intro}}\nFirst the practice.\n{{decision practice}}\n+++\nThen the real one.\n{{decision hv-bruise}}\n{{reflection}}"
    cells = build_notebook(fictional_case, "f01-early", text).cells
    ids = [c.id for c in cells]
    assert ids.index("score-practice") < ids.index("decision-hv-bruise-heading") < ids.index("decision-hv-bruise")
    # the narrative's lead-in and the generated heading make one cell, heading first
    heading = cells[ids.index("decision-hv-bruise-heading")].source
    assert heading.startswith("### Decision point 1\n\nThen the real one.")
    assert not any(c.source == "Then the real one." for c in cells)


@pytest.mark.parametrize(
    ("narrative", "message"),
    [
        ("{{intro}}\n{{decision social-assessment}}\n{{decisions}}\n{{reflection}}", "belongs to module 'f02-later'"),
        ("{{intro}}\n{{decision d-nothing}}\n{{decisions}}\n{{reflection}}", "no such decision"),
        (
            "{{intro}}\n{{decision hv-bruise}}\n{{reflection}}",
            "decisions practice of module 'f01-early' are not placed",
        ),
        ("{{intro}}\n{{decisions}}\n{{decision hv-bruise}}\n{{decision hv-bruise}}\n{{reflection}}", "placed twice"),
        ("{{intro}}\n{{decisions}}", "no {{reflection}}"),
        ("{{lens}}\n{{intro}}\n{{decisions}}\n{{reflection}}", "comes before {{intro}}"),
        ("{{intro}}\n{{decisions}}\n{{reflection}}\n{{chart}}", "unknown marker {{chart}}"),
        ("{{intro}}\n{{decisions}}\n{{reflection}}\nSee {{lens}} here", "must stand alone"),
    ],
)
def test_builder_refuses_a_narrative_that_does_not_fit_the_pack(fictional_case, narrative, message):
    with pytest.raises(AuthoringError, match=re.escape(message)):
        build_notebook(fictional_case, "f01-early", narrative, "f01-early.md")


def test_inline_values_and_author_notes(fictional_case):
    text = (
        "%% a note for authors only\n{{intro}}\nAbout {{minutes}} minutes, {{decision_count}}.\n"
        "Set in {{when hv-bruise}}.\n{{decisions}}\n{{reflection}}"
    )
    nb = build_notebook(fictional_case, "f01-early", text)
    body = "\n".join(c.source for c in nb.cells)
    assert "About 20 minutes, 1 decision point.\nSet in June 2019." in body and "note for authors" not in body
    with pytest.raises(AuthoringError, match="names no decision of module 'f01-early'"):
        build_notebook(fictional_case, "f01-early", text.replace("when hv-bruise", "when social-assessment"))


def test_checks_pass_on_built_notebooks_and_name_each_breakage(fictional_case, tmp_path):
    root = _write_fixture_course(fictional_case, tmp_path / "notebooks")
    assert module_notebook_problems(fictional_case, root) == []
    path = root / "f01-early" / "f01-early.ipynb"
    clean = path.read_text()

    def broken(edit) -> list[str]:
        nb = nbformat.reads(clean, as_version=4)
        edit(nb)
        path.write_text(nbformat.writes(nb))
        return module_notebook_problems(fictional_case, root)

    def cell(nb, cid):
        return next(c for c in nb.cells if c.id == cid)

    assert any(
        "worth 5 points; decisions.yaml gives 2" in p
        for p in broken(lambda nb: cell(nb, "score-hv-bruise").metadata.nbgrader.update(points=5))
    )
    assert any(
        "not collapsed" in p for p in broken(lambda nb: cell(nb, "lens").metadata.jupyter.update(source_hidden=False))
    )
    assert any(
        "not locked for nbgrader" in p
        for p in broken(lambda nb: cell(nb, "lens").metadata.nbgrader.update(locked=False))
    )
    assert any(
        "'reflection-f01-early', found 0" in p
        for p in broken(lambda nb: nb.cells.remove(cell(nb, "reflection-f01-early")))
    )
    assert any(
        "like a graded cell, but it is not one" in p
        for p in broken(lambda nb: cell(nb, "write-reflection").metadata.nbgrader.update(grade_id="reflection-box"))
    )
    assert any(
        "needs exactly one graded cell 'score-hv-bruise', found 0" in p
        for p in broken(lambda nb: nb.cells.remove(cell(nb, "score-hv-bruise")))
    )
    assert any(
        "decision 'social-assessment' appears in more than one notebook" in p
        for p in broken(lambda nb: nb.cells.append(nbformat.v4.new_code_cell('m.decision("social-assessment")')))
    )
    assert any(
        "for graders only" in p
        for p in broken(
            lambda nb: nb.cells.append(nbformat.v4.new_markdown_cell("### BEGIN MARK SCHEME\nx\n### END MARK SCHEME"))
        )
    )
    path.write_text(clean)
    (root / "f01-early" / "answers.json").write_text("{}")
    assert any("answers file must never be kept" in p for p in module_notebook_problems(fictional_case, root))


# --------------------------------------------------------------------------- executed and released (slow)


def _execute(folder: Path, module_id: str, out: Path) -> float:
    import time

    import papermill

    start = time.perf_counter()
    papermill.execute_notebook(
        str(folder / f"{module_id}.ipynb"),
        str(out),
        cwd=str(folder),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
    )
    return time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.parametrize("module_id", MODULES)
def test_module_runs_top_to_bottom_headless_writes_no_answers_and_shows_no_verdict(
    module_id, tmp_path, monkeypatch, pelka_case
):
    monkeypatch.setenv("COURSE_READ_ONLY", "1")
    monkeypatch.delenv("COURSE_DATA", raising=False)
    before = sorted(NOTEBOOKS.rglob("answers.json*"))
    folder = tmp_path / module_id
    shutil.copytree(NOTEBOOKS / module_id, folder)
    out = tmp_path / "out.ipynb"
    _execute(folder, module_id, out)
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("score-")]
    for c in graded:  # nothing answered: the visible part says so, the score is 0
        assert any("No answer recorded" in o.get("text", "") for o in c.outputs), c.source
        assert any(o.output_type == "execute_result" and o.data["text/plain"] == "0.0" for o in c.outputs)
    assert list(tmp_path.rglob("answers.json*")) == []
    assert sorted(NOTEBOOKS.rglob("answers.json*")) == before == []
    assert page_leaks(nb, pelka_case) == []


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def page_texts(nb) -> tuple[list[str], list[str]]:
    """(everything a trainee can read on the executed page, the parts that are not a decision's own form): the
    markdown, every output and every widget model's state as the kernel left it."""
    everything, not_form = [], []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            everything.append(cell.source)
            not_form.append(cell.source)
        for out in cell.get("outputs", []):
            for value in [*(out.get("data") or {}).values(), out.get("text", "")]:
                if isinstance(value, str):
                    everything.append(value)
                    not_form.append(value)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    assert state, "the executed page kept no widget state to check"
    for model in state.values():
        values = model.get("state", {})
        strings = [v for v in values.values() if isinstance(v, str)]
        strings += [x for v in values.values() if isinstance(v, list) for x in v if isinstance(x, str)]
        everything += strings
        if values.get("_model_name") not in ("RadioButtonsModel", "CheckboxModel"):
            not_form += (
                [s for s in strings if s != values.get("description")]
                if values.get("_model_name") == "CheckboxModel"
                else strings
            )
    return [_norm(t) for t in everything], [_norm(t) for t in not_form]


def page_leaks(nb, case) -> list[str]:
    """With no answer given, nothing on the page may carry any decision's outcome, the review's verdict, its
    quotations, option feedback or which option the review supports."""
    everything, not_form = page_texts(nb)
    page, outside_form = "\n".join(everything), "\n".join(not_form)
    leaks = []
    leaks += [
        f"{m.id}: key point {k[:50]!r}"
        for m in case.modules
        if case.decisions_in(m.id)  # a module with decisions: its key points tell how they ended
        for k in m.key_points
        if len(k) > 30 and _norm(k) in page
    ]
    for d in case.decisions:
        if d.practice:
            continue
        secrets = [("review summary", d.review.summary), ("outcome", d.outcome), ("good practice now", d.practice_now)]
        secrets += [("review quotation", q.quote) for q in d.review.quotes]
        secrets += [(f"feedback on option {o.id}", o.feedback) for o in d.options]
        secrets += [("what went well", w.text) for w in d.went_well]
        leaks += [f"{d.id}: {what}: {_norm(text)[:60]!r}" for what, text in secrets if text and _norm(text) in page]
        leaks += [
            f"{d.id}: the supported option {o.id} is shown outside the question"
            for o in d.options
            if o.id in d.aligned_options() and len(o.text) > 20 and _norm(o.text) in outside_form
        ]
    return leaks


def test_the_page_check_finds_a_verdict_and_an_answer_key(pelka_case):
    d = next(d for d in pelka_case.decisions if not d.practice)
    best = next(o for o in d.options if o.id in d.aligned_options())
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"In the end: {d.review.summary}")])
    state = {"m1": {"state": {"_model_name": "HTMLModel", "value": f"<p>The review supports: {best.text}</p>"}}}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    leaks = page_leaks(nb, pelka_case)
    assert any("review summary" in x for x in leaks) and any("supported option" in x for x in leaks)
    state = {"m1": {"state": {"_model_name": "RadioButtonsModel", "_options_labels": [o.text for o in d.options]}}}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    nb.cells = []
    assert page_leaks(nb, pelka_case) == []  # the question's own options are not a leak


@pytest.mark.slow
def test_fictional_course_built_by_the_builder_runs_headless(fictional_case, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_READ_ONLY", "1")
    monkeypatch.setenv("COURSE_DATA", str(FIXTURE_PACK))
    root = _write_fixture_course(fictional_case, tmp_path / "notebooks")
    for m in fictional_case.modules:
        _execute(root / m.id, m.id, tmp_path / f"{m.id}.out.ipynb")
    assert list(tmp_path.rglob("answers.json*")) == []


@pytest.mark.slow
def test_nbgrader_release_of_every_module_hides_tests_and_passes_the_validator(tmp_path, monkeypatch):
    from nbgrader.validator import Validator

    from course.grading.release import release

    monkeypatch.delenv("COURSE_DATA", raising=False)
    # (no folder called "course" beside a notebook: the kernel would import it instead of the course package)
    notebooks = tmp_path / "notebooks"
    for mid in MODULES:
        shutil.copytree(NOTEBOOKS / mid, notebooks / mid)
    results = release(tmp_path / "nbgrader", notebooks, list(MODULES), log=lambda *_: None)
    assert [(r.module, r.problems) for r in results] == [(mid, []) for mid in MODULES]
    for r in results:
        text = r.notebook.read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text and ".score(" not in text
        assert not (r.notebook.parent / "answers.json").exists()
        nb = nbformat.read(r.notebook, as_version=4)
        for c in nb.cells:  # nbgrader keeps the code collapsed and read-only in what trainees receive
            if c.cell_type == "code":
                assert c.metadata.jupyter.source_hidden and c.metadata.editable is False, (r.module, c.id)
        # A trainee who has written the reflection: the Validator finds nothing at all to complain about.
        for c in nb.cells:
            if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("reflection-"):
                c.source = "I would read the history before deciding."
        answered = tmp_path / "answered" / r.module / f"{r.module}.ipynb"
        answered.parent.mkdir(parents=True)
        nbformat.write(nb, answered)
        monkeypatch.setenv("COURSE_READ_ONLY", "1")
        result = Validator().validate(str(answered))
        assert result == {}, (r.module, result)


@pytest.mark.slow
def test_running_a_module_without_the_read_only_switch_still_writes_no_answers(tmp_path, monkeypatch):
    """Opening and running a module (no Submit pressed) must not create an answers file, so an author who runs
    a notebook in notebooks/ cannot leave one there to be released."""
    monkeypatch.delenv("COURSE_READ_ONLY", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_DATA", raising=False)
    folder = tmp_path / "m01-early-years"
    shutil.copytree(NOTEBOOKS / "m01-early-years", folder)
    _execute(folder, "m01-early-years", tmp_path / "out.ipynb")
    assert list(tmp_path.rglob("answers.json*")) == []


@pytest.mark.slow
def test_graded_cells_score_a_trainees_first_answers_from_the_answers_file(pelka_case, tmp_path, monkeypatch):
    """A trainee who chose the review's position everywhere in m02: each graded cell shows the answer and
    returns the decision's full points; the answers file is read, never rewritten."""
    monkeypatch.setenv("COURSE_READ_ONLY", "1")
    monkeypatch.delenv("COURSE_DATA", raising=False)
    mid = "m02-fracture"
    folder = tmp_path / mid
    shutil.copytree(NOTEBOOKS / mid, folder)
    decisions = {}
    for d in pelka_case.decisions_in(mid):
        best = [o.id for o in d.options if o.points > 0] if d.multiple else [max(d.options, key=lambda o: o.points).id]
        record = {
            "choice": best if d.multiple else best[0],
            "rationale": "Because the history matters.",
            "confidence": 4,
            "submitted_at": "2026-01-10T09:00:00Z",
        }
        decisions[d.id] = {"first": {**record, "revealed_at": "2026-01-10T09:00:00Z"}, "revisions": []}
    doc = {
        "schema": 1,
        "course": pelka_case.id,
        "course_version": pelka_case.version,
        "decisions": decisions,
        "activity": {},
    }
    answers = folder / "answers.json"
    answers.write_text(json.dumps(doc), encoding="utf-8")
    before = answers.read_bytes()
    _execute(folder, mid, tmp_path / "out.ipynb")
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    for d in pelka_case.decisions_in(mid):
        cell = next(c for c in nb.cells if c.id == f"score-{d.id}")
        shown = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "Your graded answer (your first)" in shown and "Because the history matters." in shown
        result = [o.data["text/plain"] for o in cell.outputs if o.output_type == "execute_result"]
        assert result == [repr(float(d.max_points))]
    assert answers.read_bytes() == before


def test_reflections_are_marked_line_by_line_with_criteria_trainees_see_and_anchors_only_markers_see(pelka_case):
    from course.render.module import criteria_markdown, mark_scheme_markdown

    for m in pelka_case.modules:
        r = m.reflection
        assert r is not None and r.criteria, m.id
        assert sum(c.points for c in r.criteria) == r.points
        for_markers = mark_scheme_markdown(m)
        for_trainees = criteria_markdown(m)
        page = " ".join(
            _nb(m.id)["cells"][i]["source"]
            if isinstance(_nb(m.id)["cells"][i]["source"], str)
            else "".join(_nb(m.id)["cells"][i]["source"])
            for i in range(len(_nb(m.id)["cells"]))
        )
        for c in r.criteria:
            assert c.text in for_trainees and c.text in for_markers
            assert " ".join(c.text.split()) in " ".join(page.split()), (m.id, c.id)  # shown with the question
            for lv in c.levels:
                assert lv.anchor.replace("|", "/") in for_markers.replace("\n", " ")
                assert lv.anchor not in for_trainees and (len(lv.anchor) <= 40 or lv.anchor not in page)


def test_each_decision_has_one_heading_on_the_page():
    """A decision's introduction carries its one heading ("Decision point 2", "Practice decision"): a narrative
    that adds its own heading under it gives the page two (m00 had "Practice decision" then "A practice
    decision")."""
    for path in sorted((ROOT / "notebooks").glob("m*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and str(cell.get("id", "")).endswith("-heading"):
                headings = [line for line in cell.source.splitlines() if re.match(r"#{1,6} ", line)]
                assert len(headings) == 1, f"{path.name} {cell.id}: {headings}"
