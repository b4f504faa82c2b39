"""Workshop reports: a group's first answers against the review, from generated submissions on the fictional case."""

from __future__ import annotations

import hashlib
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from course.workshop.analysis import build_report
from course.workshop.collect import WorkshopError, collect
from course.workshop.report_html import divergence_html, excluded_html, option_chart_alt, report_sections
from course.workshop.run import external_references, run_report
from tests.paths import FIXTURE_PACK, ROOT

# Who answered what (first answers): decision -> (choice, confidence). Fictional trainees.
ROOM = {
    "tr-ash": {"practice": ("a", 5), "hv-bruise": ("refer", 4), "social-assessment": (["history", "child"], 3)},
    "tr-bea": {"practice": ("b", 5), "hv-bruise": ("record", 5), "social-assessment": (["parent"], 4)},
    "tr-cal": {"practice": ("a", 2), "hv-bruise": ("visit", 2)},
    "tr-dee": {"practice": ("a", 3), "hv-bruise": ("record", 4), "social-assessment": (["history", "skip"], 5)},
}
MODULE_OF = {"practice": "f01-early", "hv-bruise": "f01-early", "social-assessment": "f02-later"}


def doc(answers: dict, course="fictional-sam", version="1") -> dict:
    decisions = {}
    for did, (choice, conf) in answers.items():
        first = {
            "choice": choice,
            "rationale": f"because {did}",
            "confidence": conf,
            "submitted_at": "2026-01-05T10:00:00Z",
            "revealed_at": "2026-01-05T10:00:00Z",
        }
        decisions[did] = {"first": first, "revisions": []}
    return {"schema": 1, "course": course, "course_version": version, "decisions": decisions, "activity": {}}


def make_nbgrader_tree(root: Path, room=ROOM) -> Path:
    """<root>/<trainee>/<module>/answers.json, as in nbgrader's submitted/ and autograded/ folders."""
    for trainee, answers in room.items():
        for module in sorted(set(MODULE_OF.values())):
            mine = {d: a for d, a in answers.items() if MODULE_OF[d] == module}
            if mine:
                p = root / trainee / module / "answers.json"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(json.dumps(doc(mine)), encoding="utf-8")
    return root


def make_flat(root: Path, room=ROOM) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for trainee, answers in room.items():
        (root / f"{trainee}.json").write_text(json.dumps(doc(answers)), encoding="utf-8")
    return root


def expected_counts(room=ROOM):
    counts: dict[str, dict[str, int]] = {}
    for answers in room.values():
        for did, (choice, _) in answers.items():
            for c in [choice] if isinstance(choice, str) else choice:
                counts.setdefault(did, {}).setdefault(c, 0)
                counts[did][c] += 1
    return counts


# --------------------------------------------------------------------------- reading


def test_nbgrader_tree_and_flat_folder_give_the_same_counts(fictional_case, tmp_path):
    tree = build_report(fictional_case, collect(make_nbgrader_tree(tmp_path / "tree"), fictional_case))
    flat = build_report(fictional_case, collect(make_flat(tmp_path / "flat"), fictional_case))
    for a, b in zip(tree.decisions, flat.decisions, strict=True):
        assert [o.count for o in a.options] == [o.count for o in b.options]
        assert (a.answered, a.aligned, a.confidence) == (b.answered, b.aligned, b.confidence)
    assert tree.participants == flat.participants == len(ROOM)


def test_counts_per_option_match_the_generated_answers_exactly(fictional_case, tmp_path):
    report = build_report(fictional_case, collect(make_nbgrader_tree(tmp_path / "s"), fictional_case))
    want = expected_counts()
    for s in report.decisions:
        got = {o.id: o.count for o in s.options if o.count}
        assert got == want[s.decision.id], s.decision.id
        assert s.answered == sum(1 for a in ROOM.values() if s.decision.id in a)
        assert s.participants == len(ROOM)


def test_alignment_confidence_and_confident_divergence_follow_the_scores(fictional_case, tmp_path):
    report = build_report(fictional_case, collect(make_flat(tmp_path / "s"), fictional_case))
    by = {s.decision.id: s for s in report.decisions}
    hv = by["hv-bruise"]
    assert hv.decision.aligned_options() == ("refer",)
    assert hv.aligned == 1  # only ash chose 'refer'
    assert hv.confidence == (0, 1, 0, 2, 1)
    assert hv.confident_divergent == 2  # bea (record, 5) and dee (record, 4) scored 0
    assert hv.mean_fraction == pytest.approx((1 + 0 + 0.5 + 0) / 4)
    sa = by["social-assessment"]  # multiple choice: history+child = 4 = max; parent = 0; history+skip = 0
    assert sa.decision.aligned_options() == ("history", "child")
    assert sa.aligned == 1 and sa.answered == 3
    assert sa.confident_divergent == 2  # bea (4) and dee (5)


def test_the_room_diverged_most_where_fewest_matched_the_review(fictional_case, tmp_path):
    report = build_report(fictional_case, collect(make_flat(tmp_path / "s"), fictional_case))
    order = [s.decision.id for s in report.diverged_most()]
    # hv-bruise 1/4 aligned (25%), social-assessment 1/3 (33%), practice 3/4 (75%)
    assert order == ["hv-bruise", "social-assessment", "practice"]
    assert "Where the room diverged most" in divergence_html(report)


def test_participants_are_anonymised_in_a_stable_order_unless_names_are_asked_for(fictional_case, tmp_path):
    folder = make_flat(tmp_path / "s")
    report = build_report(fictional_case, collect(folder, fictional_case))
    page = "".join(report_sections(report))
    assert {"Participant 1", "Participant 2", "Participant 3", "Participant 4"} <= set(
        re.findall(r"Participant \d", page)
    )
    for trainee in ROOM:
        assert trainee not in page
    assert collect(folder, fictional_case).labels() == collect(folder, fictional_case).labels()
    named = "".join(report_sections(build_report(fictional_case, collect(folder, fictional_case), names=True)))
    assert all(t in named for t in ROOM)


def test_rationales_are_not_shown_in_the_group_report(fictional_case, tmp_path):
    page = "".join(report_sections(build_report(fictional_case, collect(make_flat(tmp_path / "s"), fictional_case))))
    assert "because hv-bruise" not in page


def test_modules_parameter_limits_the_report_and_unknown_modules_fail(fictional_case, tmp_path):
    col = collect(make_flat(tmp_path / "s"), fictional_case)
    report = build_report(fictional_case, col, modules="f02-later")
    assert [s.decision.id for s in report.decisions] == ["social-assessment"]
    assert report.participants == 3 and report.other_modules_only == 1  # tr-cal answered only f01-early
    assert report.decisions[0].participants == 3
    assert 'data-stat="other-modules">1<' in "".join(report_sections(report))
    with pytest.raises(WorkshopError, match=r"unknown module id.*'f09'"):
        build_report(fictional_case, col, modules=["f09"])


# --------------------------------------------------------------------------- bad input


def test_empty_folder_fails_with_a_clear_message(fictional_case, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkshopError, match=r"No answers files found in .*empty\. Expected nbgrader's submitted/"):
        collect(tmp_path / "empty", fictional_case)


def test_missing_folder_fails_with_a_clear_message(fictional_case, tmp_path):
    with pytest.raises(WorkshopError, match="does not exist"):
        collect(tmp_path / "nowhere", fictional_case)


def test_the_nbgrader_course_root_is_refused_so_submitted_and_autograded_are_not_both_counted(fictional_case, tmp_path):
    make_nbgrader_tree(tmp_path / "grading" / "submitted")
    make_nbgrader_tree(tmp_path / "grading" / "autograded")
    with pytest.raises(
        WorkshopError,
        match=r"looks like an nbgrader course folder\. Give one of its autograded/ or "
        r"submitted/ folders instead",
    ):
        collect(tmp_path / "grading", fictional_case)
    assert build_report(
        fictional_case, collect(tmp_path / "grading" / "autograded", fictional_case)
    ).participants == len(ROOM)


def test_a_corrupt_answers_file_is_named_and_never_stops_the_report(fictional_case, tmp_path):
    folder = make_nbgrader_tree(tmp_path / "s")
    bad = folder / "tr-cal" / "f01-early" / "answers.json"
    bad.write_text('{"schema": 1, "decisions": {', encoding="utf-8")
    col = collect(folder, fictional_case)
    [problem] = col.problems
    assert "tr-cal/f01-early/answers.json" in problem and "damaged and cannot be read" in problem
    assert build_report(fictional_case, col).participants == len(ROOM) - 1  # tr-cal answered only in that file


def test_an_unknown_decision_id_is_named_and_the_rest_of_the_file_counted(fictional_case, tmp_path):
    folder = make_flat(tmp_path / "s")
    d = doc({"hv-bruise": ("refer", 3)})
    d["decisions"]["d-not-in-this-course"] = d["decisions"]["hv-bruise"]
    (folder / "eve.json").write_text(json.dumps(d), encoding="utf-8")
    col = collect(folder, fictional_case)
    assert any("eve.json: unknown decision id 'd-not-in-this-course'" in p for p in col.problems)
    assert build_report(fictional_case, col).participants == len(ROOM) + 1


def test_an_unknown_option_is_named_and_not_counted(fictional_case, tmp_path):
    folder = make_flat(tmp_path / "s")
    (folder / "eve.json").write_text(json.dumps(doc({"hv-bruise": ("phone", 3)})), encoding="utf-8")
    col = collect(folder, fictional_case)
    assert any(
        re.search(r"eve\.json: decision 'hv-bruise': .*it chose 'phone', which is not an option", p)
        for p in col.problems
    ), col.problems
    assert build_report(fictional_case, col).participants == len(ROOM)  # eve's only answer is not counted


def test_answers_from_another_course_version_are_listed_and_never_counted(fictional_case, tmp_path):
    folder = make_flat(tmp_path / "s")
    (folder / "old.json").write_text(json.dumps(doc({"hv-bruise": ("refer", 5)}, version="0")), encoding="utf-8")
    (folder / "other.json").write_text(json.dumps(doc({"x": ("y", 1)}, course="another-course")), encoding="utf-8")
    col = collect(folder, fictional_case)
    assert sorted(e.path.name for e in col.excluded) == ["old.json", "other.json"]
    report = build_report(fictional_case, col)
    assert report.participants == len(ROOM)
    hv = next(s for s in report.decisions if s.decision.id == "hv-bruise")
    assert hv.options[1].count == expected_counts()["hv-bruise"]["refer"]  # the old 'refer' is not added
    section = html.unescape(excluded_html(report))
    assert "Not counted: answers from another version of the course" in section
    assert "answers from version '0' of the course" in section
    assert "answers from another course ('another-course'" in section


def test_chart_alt_text_gives_every_count(fictional_case, tmp_path):
    report = build_report(fictional_case, collect(make_flat(tmp_path / "s"), fictional_case))
    hv = next(s for s in report.decisions if s.decision.id == "hv-bruise")
    alt = option_chart_alt(hv)
    assert "Talk to social care (the review's position): 1." in alt
    assert "Record it and wait: 2." in alt


def test_report_template_has_a_parameters_cell_hidden_code_and_no_outputs():
    nb = nbformat.read(ROOT / "notebooks" / "workshop" / "report.ipynb", as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for name in ("submissions", "group", "modules", "names", "case_dir"):
        assert re.search(rf"^{name} = ", params[0].source, flags=re.MULTILINE)
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None
            assert c.metadata["jupyter"]["source_hidden"] is True


# --------------------------------------------------------------------------- the HTML report (papermill)


class _Cells(HTMLParser):
    """Collects the data-* attributes of the report's sections, rows and cells."""

    def __init__(self):
        super().__init__()
        self.items: list[dict] = []
        self.imgs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        if any(k.startswith("data-") for k in a):
            self.items.append({"tag": tag, **a})


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.mark.slow
def test_html_report_counts_match_the_inputs_and_it_is_self_contained(fictional_case, tmp_path):
    folder = make_nbgrader_tree(tmp_path / "submitted")
    (folder / "old" / "f01-early").mkdir(parents=True)
    (folder / "old" / "f01-early" / "answers.json").write_text(
        json.dumps(doc({"hv-bruise": ("refer", 5)}, version="0")), encoding="utf-8"
    )
    before = _tree_hash(folder)
    out = tmp_path / "report.html"
    run_report(folder, out, fictional_case, group="Fictional LSCB, March", progress=False)
    page = out.read_text(encoding="utf-8")

    assert _tree_hash(folder) == before  # the report wrote nothing into the submissions
    assert "http://" not in page and "https://" not in page and external_references(page) == []
    assert "<title>Workshop report — Fictional LSCB, March</title>" in page
    assert "load_case" not in page and "import " not in page  # no code

    p = _Cells()
    p.feed(page)
    stats = {i["data-stat"]: i for i in p.items if "data-stat" in i}
    assert page.count('data-stat="participants">4<') == 1
    assert 'data-stat="excluded">1<' in page
    assert stats
    want = expected_counts()
    sections = [i for i in p.items if i["tag"] == "section" and "data-decision" in i]
    assert [s["data-decision"] for s in sections] == ["practice", "hv-bruise", "social-assessment"]
    for s in sections:
        did = s["data-decision"]
        assert int(s["data-answered"]) == sum(1 for a in ROOM.values() if did in a)
    # Option rows in document order carry their counts: compare with the inputs, decision by decision.
    rows = [i for i in p.items if i["tag"] == "td" and "data-count" in i]
    options = [(d.id, o.id) for d in fictional_case.decisions for o in d.options]
    assert len(rows) == len(options)
    for (did, oid), row in zip(options, rows, strict=True):
        assert int(row["data-count"]) == want.get(did, {}).get(oid, 0), (did, oid)
    # Charts: embedded PNGs with alt text.
    assert p.imgs and all(i["src"].startswith("data:image/png;base64,") and len(i["alt"]) > 20 for i in p.imgs)
    assert "Not counted: answers from another version of the course" in page
    assert "Participant 5" in page  # the excluded trainee, anonymised


@pytest.mark.slow
def test_workshop_command_writes_the_report_and_says_what_it_counted(tmp_path, capsys):
    from course.apps.cli import main

    folder = make_flat(tmp_path / "s")
    out = tmp_path / "r.html"
    rc = main(
        [
            "workshop",
            "--submissions",
            str(folder),
            "--out",
            str(out),
            "--data",
            str(FIXTURE_PACK),
            "--group",
            "Group A",
            "--quiet",
        ]
    )
    assert rc == 0 and out.exists()
    assert "4 participant(s), 3 decision(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("empty", "No answers files found in"),
        ("corrupt", "ash.json: The answers file"),
        ("unknown-id", "ash.json: unknown decision id 'd-ghost'"),
    ],
)
def test_workshop_command_names_each_bad_input_and_exits_1(tmp_path, capsys, breakage, message):
    from course.apps.cli import main

    folder = tmp_path / "s"
    folder.mkdir()
    if breakage == "corrupt":
        (folder / "ash.json").write_text("{not json", encoding="utf-8")
    elif breakage == "unknown-id":
        d = doc({"hv-bruise": ("refer", 3)})
        d["decisions"]["d-ghost"] = d["decisions"]["hv-bruise"]
        (folder / "ash.json").write_text(json.dumps(d), encoding="utf-8")
    rc = main(
        [
            "workshop",
            "--submissions",
            str(folder),
            "--out",
            str(tmp_path / "r.html"),
            "--data",
            str(FIXTURE_PACK),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert message in err
    # a file that cannot be used is named and left out; the report is still written for everyone else
    assert (tmp_path / "r.html").exists() == (breakage != "empty")


# --------------------------------------------------------------------------- the facilitator guide

GUIDE = ROOT / "docs" / "facilitator-guide.md"


def test_facilitator_guide_names_every_decision_in_the_case_pack(pelka_case):
    guide = GUIDE.read_text(encoding="utf-8")
    missing = [d.id for d in pelka_case.decisions if f"`{d.id}`" not in guide]
    assert not missing, f"decisions missing from the guide (run: course facilitator-notes --write): {missing}"


def test_facilitator_guide_decision_prompts_are_current_with_the_case_pack(pelka_case):
    from course.workshop.facilitator import facilitator_notes_markdown, guide_with_notes

    guide = GUIDE.read_text(encoding="utf-8")
    assert guide_with_notes(guide, facilitator_notes_markdown(pelka_case)) == guide, (
        "the generated prompts are out of date: run `course facilitator-notes --write`"
    )


def test_facilitator_guide_plans_use_the_modules_and_carry_the_wellbeing_essentials(pelka_case):
    guide = GUIDE.read_text(encoding="utf-8")
    full_day = guide.split("### Full day", 1)[1].split("## Running the session", 1)[0]
    half_day = guide.split("### Half-day", 1)[1].split("### Full day", 1)[0]
    for m in pelka_case.modules:
        assert f"**{m.id}**" in full_day, m.id
    assert "**m00-welcome**" in half_day and "Debrief" in half_day
    for needed in (
        "Content warning",
        "The right to step out",
        "### Debrief",
        "### Signposting",
        "NSPCC helpline: 0808 800 5000",
        "Samaritans: 116 123",
        "employee assistance programme",
        "safeguarding lead",
        "## Ground rules",
        "### With nbgrader",
        "### Without nbgrader",
        "## Using the room report",
        "course present",
        "not an assessment of competence",
    ):
        assert needed in guide, needed


# --------------------------------------------------------------------------- the projector view (Voila)


def test_projector_notebook_shows_lens_and_timeline_with_hidden_code_and_no_answer_store(tmp_path):
    from course.apps.present import CONTENT_WARNING, prepare

    nb_path, share = prepare(tmp_path, module="f01-early", data=FIXTURE_PACK)
    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.metadata["jupyter"]["source_hidden"] for c in code)
    source = "\n".join(c.source for c in code)
    assert "Lens(case, module)" in source and "Timeline(case, module)" in source
    assert "answers" not in source and "open_module" not in source  # nothing that could write answers
    assert CONTENT_WARNING in nb.cells[0].source
    template = (share / "voila" / "templates" / "course-offline" / "index.html.j2").read_text(encoding="utf-8")
    assert "voila/templates/lab/index.html.j2" in template and "html_head_js_mermaidjs" in template


def test_projector_view_refuses_an_unknown_module(tmp_path):
    from course.apps.present import PresentError, prepare

    with pytest.raises(PresentError, match="unknown module 'f09'"):
        prepare(tmp_path, module="f09", data=FIXTURE_PACK)


def test_present_command_takes_a_port_and_no_browser():
    from course.apps.cli import build_parser

    args = build_parser().parse_args(["present", "--port", "8899", "--no-browser", "--module", "m02-fracture"])
    assert (args.port, args.no_browser, args.module) == (8899, True, "m02-fracture")


@pytest.mark.slow
def test_projector_view_is_served_offline_without_code(tmp_path, capsys):
    import urllib.request

    from course.apps.present import serve

    pages: dict[str, str] = {}

    def fetch(url):
        with urllib.request.urlopen(url, timeout=180) as r:
            pages["index"] = r.read().decode("utf-8")
        local = re.findall(r'(?:src|href)="(/[^"]+\.(?:css|js)[^"]*)"', pages["index"])
        for path in local:
            with urllib.request.urlopen(url.rstrip("/") + path, timeout=30) as r:
                assert r.status == 200, path
                if ".css" in path or "voila-style.js" in path:
                    pages[path] = r.read().decode("utf-8", "replace")

    assert serve(module="f01-early", data=FIXTURE_PACK, on_ready=fetch) == 0
    out = capsys.readouterr().out
    assert re.search(r"Projector view: http://127\.0\.0\.1:\d+/", out)
    page = pages["index"]
    assert external_references(page) == []
    assert "cdn.jsdelivr.net" not in page and "cdnjs" not in page and "unpkg" not in page
    assert "load_case" not in page and "Timeline(case" not in page  # no code shown
    assert page.count("application/vnd.jupyter.widget-view+json") >= 2  # the lens and the timeline
    assert "Content warning" in page
    for path, body in pages.items():
        if path != "index":
            assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", body), path  # fonts and images are local


@pytest.mark.slow
def test_present_command_prints_its_address_on_the_given_port_and_stops_voila_on_sigterm():
    import signal
    import socket
    import subprocess
    import sys

    import psutil

    from course.apps.present import free_port

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "course.apps.cli",
            "present",
            "--no-browser",
            "--port",
            str(port),
            "--data",
            str(FIXTURE_PACK),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == f"Projector view: http://127.0.0.1:{port}/"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children  # Voila
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    psutil.wait_procs(children, timeout=10)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_reading_submissions_shows_progress(fictional_case, tmp_path, capsys):
    folder = make_nbgrader_tree(tmp_path / "s")
    files = len(list(folder.rglob("answers.json")))
    collect(folder, fictional_case, progress=True)
    err = capsys.readouterr().err
    assert "Reading answers" in err and f"{files}/{files}" in err


def test_answers_written_by_the_real_answer_store_are_read_and_counted(fictional_case, tmp_path, monkeypatch):
    from course.store import AnswerStore

    monkeypatch.delenv("COURSE_READ_ONLY", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    folder = tmp_path / "autograded"
    for trainee, (choice, later) in {"t1": ("refer", "visit"), "t2": ("record", None)}.items():
        store = AnswerStore(folder / trainee / "f01-early", case=fictional_case)
        (folder / trainee / "f01-early").mkdir(parents=True)
        assert store.record("hv-bruise", choice, "reasons", 4).saved
        if later:
            assert store.record("hv-bruise", later, "changed my mind", 2).kind == "revision"
    hv = next(
        s
        for s in build_report(fictional_case, collect(folder, fictional_case)).decisions
        if s.decision.id == "hv-bruise"
    )
    assert {o.id: o.count for o in hv.options} == {"record": 1, "refer": 1, "visit": 0}  # first answers only
    assert hv.confidence == (0, 0, 0, 2, 0)
