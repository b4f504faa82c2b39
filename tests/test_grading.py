"""Trainer grading: the nbgrader course, release checks, golden submissions, parallel and resumable grading,
export and feedback, end to end with nbgrader's real API on the fictional case (tests/fixtures/case)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course.core.contract import MARK_SCHEME_TAG
from course.grading.autograde import STATE_DIR, Submission, grade, partition
from course.grading.config import GradingError, load_config, module_ids
from course.grading.export import export, gradebook_rows
from course.grading.feedback import feedback
from course.grading.preprocessors.clean_feedback import CleanFeedback
from course.grading.preprocessors.mark_scheme import InsertMarkScheme
from course.grading.release import leaks_in_folder, release, validate_notebook
from course.render.module import mark_scheme_markdown
from tests import grading_support as gs
from tests.paths import ROOT

# choices per decision and the exact scores the contract gives them (fixture case: practice max 1,
# hv-bruise max 2 (refer 2, visit 1, record 0), social-assessment max 4, multiple, skip -2)
ALIGNED = {"practice": "a", "hv-bruise": "refer"}
NONE_ALIGNED = {"practice": "b", "hv-bruise": "record"}
PARTLY = {"practice": "a", "hv-bruise": "visit"}


def _tamper(nb):
    """A trainee edits the locked graded cell to claim full marks."""
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "score-hv-bruise":
            c.source = 'print("full marks")\n2'


def _inject(nb):
    """A trainee adds a code cell of their own that redefines the scoring."""
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "score-practice")
    nb.cells.insert(at, nbformat.v4.new_code_cell("m.score = lambda decision_id: 1.0"))


GOLDEN = {  # trainee: (answers.json content, notebook edit, expected {grade_id: score})
    "aligned": (ALIGNED, None, {"score-practice": 1.0, "score-hv-bruise": 2.0}),
    "none": (NONE_ALIGNED, None, {"score-practice": 0.0, "score-hv-bruise": 0.0}),
    "partly": (PARTLY, None, {"score-practice": 1.0, "score-hv-bruise": 1.0}),
    "empty": ({}, None, {"score-practice": 0.0, "score-hv-bruise": 0.0}),
    "missing": (None, None, {"score-practice": 0.0, "score-hv-bruise": 0.0}),
    "corrupt": ('{"schema": 1, "decisions": {"practice": ', None, {"score-practice": 0.0, "score-hv-bruise": 0.0}),
    "tampered": (NONE_ALIGNED, _tamper, {"score-practice": 0.0, "score-hv-bruise": 0.0}),
    "injected": (NONE_ALIGNED, _inject, {"score-practice": 0.0, "score-hv-bruise": 0.0}),
}


@pytest.fixture(scope="module")
def fixture_env():
    with pytest.MonkeyPatch.context() as mp:
        gs.use_fixture_case(mp)
        yield


@pytest.fixture(scope="module")
def released(tmp_path_factory, fictional_case, fixture_env):
    """The fictional course's source notebooks, released once into an nbgrader course folder."""
    base = tmp_path_factory.mktemp("course")
    notebooks = base / "notebooks"
    gs.write_source_course(fictional_case, notebooks)
    (notebooks / "f01-early" / "answers.json").write_text("{}")  # an author's leftover must not travel
    results = release(base / "grading", notebooks, log=lambda *_: None)
    return base, results


def _fresh_course(released, name: str) -> Path:
    """A copy of the released course folder, without any submissions, for one test to grade in."""
    base, _ = released
    dest = base.parent / f"{base.name}-{name}"
    shutil.copytree(
        base / "grading", dest, ignore=shutil.ignore_patterns("submitted", "autograded", "feedback", STATE_DIR)
    )
    return dest


def _scores(course_dir: Path) -> dict[tuple[str, str, str], float]:
    return {(r["trainee"], r["module"], r["item"]): r["score"] for r in gradebook_rows(course_dir)}


def _submit_golden(course_dir: Path, case, trainees=GOLDEN):
    for trainee, (answers, edit, _) in trainees.items():
        content = gs.answers_doc(case, answers) if isinstance(answers, dict) else answers
        gs.submit(course_dir, trainee, "f01-early", content, notebook_edit=edit)


# --------------------------------------------------------------------------- no nbgrader run needed


def test_nbgrader_config_protects_answers_json_for_every_assignment(tmp_path):
    course = tmp_path / "grading"
    (course / "source" / "m01-early-years").mkdir(parents=True)
    shutil.copy(ROOT / "grading" / "nbgrader_config.py", course)
    cfg = load_config(course)
    assert cfg.Autograde.exclude_overwriting == {"m01-early-years": ["answers.json"]}
    assert cfg.CourseDirectory.course_id == "safeguarding-case-review"
    assert cfg.Execute.timeout > 0
    assert "course.grading.preprocessors.mark_scheme.InsertMarkScheme" in cfg.Autograde.autograde_preprocessors
    assert "course.grading.preprocessors.clean_feedback.CleanFeedback" in cfg.GenerateFeedback.preprocessors


def test_nbgrader_takes_a_numeric_result_of_a_grade_cell_as_partial_credit():
    """The fact the graded cells rely on (nbgrader.utils.determine_grade in 0.9.6), and its trap:
    a graded cell with no numeric result gets FULL marks, and any stderr output gets zero."""
    from nbgrader.utils import determine_grade

    cell = nbformat.v4.new_code_cell("m.score('d-x')")
    cell.metadata = {"nbgrader": {"grade": True, "solution": False, "points": 2, "grade_id": "score-d-x"}}
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1.5"}, execution_count=1)]
    assert determine_grade(cell) == (1.5, 2.0)
    cell.outputs = []
    assert determine_grade(cell) == (2.0, 2.0)
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="a warning")]
    assert determine_grade(cell) == (0, 2.0)


def test_partition_gives_each_trainee_to_exactly_one_worker():
    subs = [Submission(t, m, Path(".")) for t in "abcde" for m in ("m1", "m2", "m3")][:-1]
    groups = partition(subs, 2)
    assert len(groups) == 2
    owners = {}
    for n, group in enumerate(groups):
        for s in group:
            assert owners.setdefault(s.trainee, n) == n
    assert sorted(s.key for g in groups for s in g) == sorted(s.key for s in subs)
    assert abs(len(groups[0]) - len(groups[1])) <= 3


def test_mark_scheme_goes_just_above_the_reflection_answer_once(fictional_case, fixture_env):
    nb = gs.module_notebook(fictional_case, "f01-early", facade="x")
    nb, _ = InsertMarkScheme()(nb, {})
    nb, _ = InsertMarkScheme()(nb, {})  # autograding twice must not stack two copies
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    ms = [i for i, t in enumerate(tags) if MARK_SCHEME_TAG in t]
    assert len(ms) == 1
    assert nb.cells[ms[0] + 1].metadata["nbgrader"]["grade_id"] == "reflection-f01-early"
    assert "Links the bruise to the wider picture." in nb.cells[ms[0]].source
    assert nb.cells[ms[0]].metadata["editable"] is False


def test_clean_feedback_removes_mark_scheme_hidden_tests_and_tracebacks(fictional_case, fixture_env, tmp_path):
    nb = gs.module_notebook(fictional_case, "f01-early", facade="x")
    nb, _ = InsertMarkScheme()(nb, {})
    graded = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "score-hv-bruise")
    graded.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="You recorded 'refer'.\n"),
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="expected 2",
            traceback=["Traceback (most recent call last)", "assert m.score('hv-bruise') == 2"],
        ),
    ]
    (tmp_path / "answers.json").write_text(json.dumps(gs.answers_doc(fictional_case, {"hv-bruise": "refer"})))
    nb, _ = CleanFeedback()(nb, {"metadata": {"path": str(tmp_path)}})
    text = json.dumps(nb)
    for leaked in (
        "HIDDEN TESTS",
        "m.score(",
        "Traceback",
        "AssertionError",
        "Mark scheme",
        "Links the bruise to the wider picture.",
    ):
        assert leaked not in text
    assert "You recorded 'refer'." in text
    assert "could not be completed" in text
    assert "Talk to social care" in text  # what the trainee chose, in words
    assert "The review found the pieces were not put together." in text


def test_leak_check_names_the_file_and_what_leaked(tmp_path):
    (tmp_path / "m1").mkdir()
    (tmp_path / "m1" / "m1.ipynb").write_text('{"source": "### BEGIN HIDDEN TESTS"}')
    (tmp_path / "m1" / "answers.json").write_text("{}")
    problems = leaks_in_folder(tmp_path)
    assert any("m1.ipynb" in p and "BEGIN HIDDEN TESTS" in p for p in problems)
    assert any("answers.json" in p for p in problems)


def test_mark_scheme_lists_every_rubric_level(fictional_case):
    text = mark_scheme_markdown(fictional_case.module("f01-early"))
    assert "| 0 | No reflection. |" in text and "| 3 | Links the bruise to the wider picture. |" in text


# --------------------------------------------------------------------------- with nbgrader


@pytest.mark.slow
def test_release_has_no_hidden_test_solution_mark_scheme_or_answers_file(released):
    base, results = released
    assert [r.module for r in results] == ["f01-early", "f02-later"]
    assert all(r.problems == [] for r in results), [r.problems for r in results]
    release_dir = base / "grading" / "release"
    assert leaks_in_folder(release_dir) == []
    text = (release_dir / "f01-early" / "f01-early.ipynb").read_text()
    assert "A model answer only graders see." not in text and "m.score(" not in text
    assert not list(release_dir.rglob("answers.json"))
    assert results[0].graded == 3 and results[0].points == 6


@pytest.mark.slow
def test_release_refuses_a_module_that_shows_the_scoring_call(tmp_path, fictional_case, fixture_env):
    notebooks = tmp_path / "notebooks"
    gs.write_source_course(fictional_case, notebooks, ["f02-later"])
    nb_path = notebooks / "f02-later" / "f02-later.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell('Tip for authors: `m.score("social-assessment")`'))
    nbformat.write(nb, nb_path)
    [result] = release(tmp_path / "grading", notebooks, validate=False, log=lambda *_: None)
    assert any("'.score('" in p and "f02-later.ipynb" in p for p in result.problems)


@pytest.mark.slow
def test_validator_reports_a_release_notebook_that_fails_to_run(tmp_path, fictional_case, fixture_env):
    nb = gs.module_notebook(fictional_case, "f02-later")
    nb.cells.insert(2, gs._code("raise RuntimeError('the lens could not be drawn')"))
    nb.cells[2].metadata["nbgrader"] = {
        "schema_version": 3,
        "grade": True,
        "solution": False,
        "task": False,
        "locked": True,
        "grade_id": "broken",
        "points": 1,
    }
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    problems = validate_notebook(path)
    assert problems and "the lens could not be drawn" in " ".join(problems)


@pytest.mark.slow
def test_golden_submissions_get_exactly_the_expected_scores(released, fictional_case):
    course = _fresh_course(released, "golden")
    _submit_golden(course, fictional_case)
    gs.submit(
        course, "aligned", "f02-later", gs.answers_doc(fictional_case, {"social-assessment": ["history", "child"]})
    )
    gs.submit(
        course,
        "partly",
        "f02-later",
        gs.answers_doc(fictional_case, {"social-assessment": ["history", "child", "skip"]}),
    )
    run = grade(course, workers=2, progress=False, log=lambda *_: None)
    assert run.failed == {}
    scores = _scores(course)
    for trainee, (_, _, expected) in GOLDEN.items():
        for item, points in expected.items():
            assert scores[(trainee, "f01-early", item)] == points, (trainee, item)
    assert scores[("aligned", "f02-later", "score-social-assessment")] == 4.0
    assert scores[("partly", "f02-later", "score-social-assessment")] == 2.0

    def graded_output(trainee, grade_id):
        nb = nbformat.read(course / "autograded" / trainee / "f01-early" / "f01-early.ipynb", as_version=4)
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        return cell, "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")

    view, _ = graded_output("aligned", "decision-hv-bruise")
    assert view.outputs == []  # widget views are not drawn at autograde: nobody could see them
    cell, shown = graded_output("aligned", "score-hv-bruise")
    assert "refer" in shown.lower() or "talk to social care" in shown.lower()
    assert "2026-01-10" in shown or "10 January 2026" in shown  # when it was recorded
    for trainee in ("missing", "corrupt"):
        cell, shown = graded_output(trainee, "score-practice")
        assert shown.strip(), f"{trainee}: the trainee is told nothing"
        assert not any(o.output_type == "error" for o in cell.outputs)
        assert "Traceback" not in shown
    cell, _ = graded_output("tampered", "score-hv-bruise")
    assert 'print("full marks")' not in cell.source and "m.score(" in cell.source  # nbgrader restored it
    injected = nbformat.read(course / "autograded" / "injected" / "f01-early" / "f01-early.ipynb", as_version=4)
    assert not any("lambda" in c.source for c in injected.cells)  # the added code never ran


@pytest.mark.slow
def test_formgrader_shows_the_grader_the_mark_scheme_beside_the_reflection(released, fictional_case):
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    course = _fresh_course(released, "formgrader")
    _submit_golden(course, fictional_case, {"aligned": GOLDEN["aligned"]})
    grade(course, workers=1, progress=False, log=lambda *_: None)
    # exactly what formgrader's SubmissionHandler does: the formgrade template over the autograded notebook
    cfg = Config()
    cfg.HTMLExporter.template_name = "formgrade"
    cfg.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {
        "assignment_id": "f01-early",
        "notebook_id": "f01-early",
        "submission_id": "x",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": "aligned",
        "last_name": None,
        "first_name": None,
        "notebook_path": "autograded/aligned/f01-early/f01-early.ipynb",
    }
    html, _ = HTMLExporter(config=cfg).from_filename(
        str(course / "autograded" / "aligned" / "f01-early" / "f01-early.ipynb"), resources=resources
    )
    assert "Mark scheme (for graders only" in html
    assert "Links the bruise to the wider picture." in html
    assert html.index("Links the bruise") < html.index("My reflection as aligned")


@pytest.mark.slow
def test_feedback_has_answers_review_and_comments_but_no_hidden_test(released, fictional_case):
    from nbgrader.api import Gradebook

    course = _fresh_course(released, "feedback")
    _submit_golden(course, fictional_case, {k: GOLDEN[k] for k in ("aligned", "corrupt", "tampered")})
    grade(course, workers=2, progress=False, log=lambda *_: None)
    cfg = load_config(course)
    with Gradebook(cfg.CourseDirectory.db_url, cfg.CourseDirectory.course_id) as gb:
        for trainee in ("aligned", "corrupt", "tampered"):  # each reflection marked, as formgrader saves a mark
            comment = gb.find_comment("reflection-f01-early", "f01-early", "f01-early", trainee)
            comment.manual_comment = "Good link between the bruise and the history." if trainee == "aligned" else "Ok."
            row = gb.find_grade("reflection-f01-early", "f01-early", "f01-early", trainee)
            row.manual_score, row.needs_manual_grade = 2, False
        gb.db.commit()
    held: list[str] = []
    made, problems = feedback(course, log=lambda *_: None, held=held)
    assert problems == [] and held == []
    assert len(made) == 3
    for page in made:
        html = page.read_text()
        for leaked in (
            "BEGIN HIDDEN TESTS",
            "m.score(",
            "Traceback (most recent call last)",
            "Mark scheme",
            "Links the bruise to the wider picture.",
            "A model answer only graders see.",
        ):
            assert leaked not in html, (page, leaked)
    aligned = (course / "feedback" / "aligned" / "f01-early" / "f01-early.html").read_text()
    assert "Good link between the bruise and the history." in aligned
    assert "Talk to social care" in aligned and "The review found the pieces were not put together." in aligned
    assert "My reflection as aligned" in aligned
    corrupt = (course / "feedback" / "corrupt" / "f01-early" / "f01-early.html").read_text()
    assert "could not be read" in corrupt


@pytest.mark.slow
def test_parallel_grading_produces_the_same_gradebook_as_serial(released, fictional_case):
    """Serial here is the real `nbgrader autograde` command run in the course folder (fresh kernel per
    notebook, our nbgrader_config.py); parallel is `course grade` with two workers and reused kernels."""
    serial, parallel = _fresh_course(released, "serial"), _fresh_course(released, "parallel")
    cohort = {k: GOLDEN[k] for k in ("aligned", "none", "partly", "corrupt", "injected")}
    for course in (serial, parallel):
        _submit_golden(course, fictional_case, cohort)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    cli = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "f01-early"],
        cwd=serial,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert cli.returncode == 0, cli.stderr[-2000:]
    run = grade(parallel, workers=2, progress=False, log=lambda *_: None)
    assert run.failed == {}
    assert gradebook_rows(serial) == gradebook_rows(parallel)
    assert len(gradebook_rows(serial)) == len(cohort) * 3
    for trainee, (_, _, expected) in cohort.items():
        for item, points in expected.items():
            assert _scores(serial)[(trainee, "f01-early", item)] == points


@pytest.mark.slow
def test_interrupted_grade_resumes_without_grading_anything_twice(released, fictional_case):
    course = _fresh_course(released, "resume")
    cohort = {f"t{n}": GOLDEN["partly"] for n in range(4)}
    _submit_golden(course, fictional_case, cohort)
    for n in range(4):
        gs.submit(course, f"t{n}", "f02-later", gs.answers_doc(fictional_case, {"social-assessment": ["history"]}))
    cmd = [sys.executable, "-m", "course.apps.cli", "grade", "--course-dir", str(course), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    state = course / STATE_DIR
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(state.glob("*/*.json"))) < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err1 = proc.communicate(timeout=60)
    done_first = {f"{p.parent.name}/{p.stem}" for p in state.glob("*/*.json")}
    assert 2 <= len(done_first) < 8, "the first run should have been stopped part-way"
    assert "Grading" in err1  # the progress bar

    second = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"{len(done_first)} submission(s) already graded" in second.stdout
    history = [json.loads(line) for line in (state / "history.jsonl").read_text().splitlines()]
    keys = [f"{h['trainee']}/{h['module']}" for h in history]
    assert sorted(set(keys)) == sorted(f"t{n}/{m}" for n in range(4) for m in ("f01-early", "f02-later"))
    assert not [k for k in done_first if keys.count(k) > 1], "a finished submission was graded again"
    assert len(keys) == 8
    rows = gradebook_rows(course)
    assert {(r["trainee"], r["module"]) for r in rows} == {
        (f"t{n}", m) for n in range(4) for m in ("f01-early", "f02-later")
    }
    assert (course / "grades.csv").exists() and (course / "summaries" / "t0.md").exists()


@pytest.mark.slow
def test_a_resubmission_is_graded_again(released, fictional_case):
    course = _fresh_course(released, "resubmit")
    _submit_golden(course, fictional_case, {"t": GOLDEN["none"]})
    grade(course, workers=1, progress=False, log=lambda *_: None)
    assert grade(course, workers=1, progress=False, log=lambda *_: None).skipped == ["t/f01-early"]
    _submit_golden(course, fictional_case, {"t": GOLDEN["aligned"]})
    run = grade(course, workers=1, progress=False, log=lambda *_: None)
    assert run.graded == ["t/f01-early"]
    assert _scores(course)[("t", "f01-early", "score-hv-bruise")] == 2.0


@pytest.mark.slow
def test_export_writes_csv_and_a_summary_per_trainee(released, fictional_case):
    course = _fresh_course(released, "export")
    _submit_golden(course, fictional_case, {k: GOLDEN[k] for k in ("aligned", "none")})
    grade(course, workers=2, progress=False, log=lambda *_: None)
    csv_path, summaries = export(course, log=lambda *_: None)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("trainee,module,item,kind,score,max_score")
    assert "aligned,f01-early,score-hv-bruise,decision,2.0,2.0" in csv_path.read_text()
    summary = (summaries / "aligned.md").read_text()
    assert "| f01-early | 3 / 3 | waiting for a grader | 3 / 6 |" in summary
    assert "aligned" in (summaries / "index.md").read_text()


@pytest.mark.slow
def test_grade_before_release_says_what_to_do(tmp_path):
    with pytest.raises(GradingError, match="Run `course release` first"):
        grade(tmp_path, progress=False)


# --------------------------------------------------------------------------- the course's own modules


def _real_modules():
    return module_ids(ROOT / "notebooks")


@pytest.mark.slow
@pytest.mark.skipif(not _real_modules(), reason="notebooks/ holds no module notebooks (<id>/<id>.ipynb) yet")
def test_course_release_of_the_real_modules_is_clean_and_scores_golden_answers(tmp_path, monkeypatch):
    from course.core.pack import load_case

    monkeypatch.delenv("COURSE_DATA", raising=False)
    case = load_case()
    modules = _real_modules()
    results = release(tmp_path / "grading", ROOT / "notebooks", modules, log=lambda *_: None)
    assert [r.problems for r in results if r.problems] == []
    assert leaks_in_folder(tmp_path / "grading" / "release") == []
    course = tmp_path / "grading"
    expected = {}
    for module in modules:
        decisions = case.decisions_in(module)
        best = {
            d.id: (
                sorted(o.id for o in d.options if o.points > 0)
                if d.multiple
                else max(d.options, key=lambda o: o.points).id
            )
            for d in decisions
        }
        worst = {d.id: min(d.options, key=lambda o: o.points).id for d in decisions}
        gs.submit(course, "aligned", module, gs.answers_doc(case, best))
        gs.submit(course, "none", module, gs.answers_doc(case, worst))
        for d in decisions:
            expected[("aligned", module, f"score-{d.id}")] = d.score(best[d.id])
            expected[("none", module, f"score-{d.id}")] = d.score(worst[d.id])
    run = grade(course, progress=False, log=lambda *_: None)
    assert run.failed == {}
    scores = _scores(course)
    assert {k: scores.get(k) for k in expected} == expected
    for module in modules:  # every reflection reaches formgrader with its mark scheme above it
        if case.module(module).reflection is None:
            continue
        nb = nbformat.read(course / "autograded" / "aligned" / module / f"{module}.ipynb", as_version=4)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        at = ids.index(f"reflection-{module}")
        assert MARK_SCHEME_TAG in nb.cells[at - 1].metadata.get("tags", []), module
    gs.mark_reflections(course)  # feedback is made only for marked reflections
    made, problems = feedback(course, log=lambda *_: None)
    assert problems == [] and len(made) == 2 * len(modules)
    for page in made:  # the course's words: no code, no nbgrader test vocabulary, no instruction for the live page
        text = page.read_text(encoding="utf-8")
        for words in (
            "Test cell",
            "Grade cell",
            "open_module",
            "In&nbsp;[",
            "<strong>Refresh</strong>",
            "slider",
            "lens's date",
            "as you give them",
        ):
            assert words not in text, (page, words)
        assert "Your reflection" in text, page
        assert ("The review supports:" in text) == bool(case.decisions_in(page.parent.name)), page


@pytest.mark.slow
def test_course_release_command_exits_1_and_names_the_file_when_something_leaks(tmp_path, fictional_case, fixture_env):
    notebooks = tmp_path / "notebooks"
    gs.write_source_course(fictional_case, notebooks, ["f02-later"])
    cmd = [
        sys.executable,
        "-m",
        "course.apps.cli",
        "release",
        "--notebooks",
        str(notebooks),
        "--course-dir",
        str(tmp_path / "grading"),
    ]
    ok = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "released and checked" in ok.stdout
    nb_path = notebooks / "f02-later" / "f02-later.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Scoring: `m.score(...)` gives the points."))
    nbformat.write(nb, nb_path)
    bad = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert bad.returncode == 1
    assert "release/f02-later/f02-later.ipynb" in bad.stdout and "must not be released" in bad.stderr


def test_the_reflection_from_the_page_is_placed_in_the_answer_cell_as_inert_text(tmp_path, fictional_case):
    from course.grading.preprocessors.place_reflection import PlaceReflection
    from course.store import AnswerStore

    os.environ.pop("NBGRADER_EXECUTION", None)
    AnswerStore(tmp_path, fictional_case).save_reflection("f01-early", 'Share it. <script>alert("x")</script>')
    cell = nbformat.v4.new_markdown_cell("YOUR ANSWER HERE")
    cell.metadata["nbgrader"] = {"grade_id": "reflection-f01-early", "solution": True, "grade": True}
    other = nbformat.v4.new_markdown_cell("Written in JupyterLab")
    other.metadata["nbgrader"] = {"grade_id": "reflection-f02-later", "solution": True, "grade": True}
    nb = nbformat.v4.new_notebook(cells=[cell, other])
    nb, _ = PlaceReflection().preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert nb.cells[0].source == 'Share it. &lt;script&gt;alert("x")&lt;/script&gt;'
    assert nb.cells[1].source == "Written in JupyterLab"  # no text from the page: the cell as written


def test_autograde_runs_the_reflection_placement_before_anything_else_reads_the_cell():
    cfg = load_config(ROOT / "grading")
    sanitize = list(cfg.Autograde.sanitize_preprocessors)
    placed = sanitize.index("course.grading.preprocessors.place_reflection.PlaceReflection")
    assert placed > sanitize.index("nbgrader.preprocessors.OverwriteCells")
