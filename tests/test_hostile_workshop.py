"""Workshop reports, certificates and reflective logs from hostile submissions (issue 17): one bad file or an
unreadable folder never stops the run and is named; nothing a trainee wrote is markup in any output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests import hostile_support as hs
from tests.grading_support import answers_doc
from tests.paths import FIXTURE_PACK, ROOT

# --------------------------------------------------------------------------- the workshop reads every file it can


def _room(folder: Path, case) -> None:
    for trainee, choice in (("ash", "refer"), ("bea", "record"), ("cal", "visit")):
        p = folder / trainee / "f01-early" / "answers.json"
        p.parent.mkdir(parents=True)
        p.write_text(json.dumps(answers_doc(case, {"hv-bruise": choice, "practice": "a"})), encoding="utf-8")


def test_one_bad_file_never_stops_the_workshop_report(tmp_path, fictional_case):
    from course.workshop.analysis import build_report
    from course.workshop.collect import collect

    folder = tmp_path / "submitted"
    _room(folder, fictional_case)
    good = answers_doc(fictional_case, {"hv-bruise": "refer", "practice": "a"})
    damaged = hs.damaged_answers(good)
    for name, content in damaged.items():
        hs.write_damaged(folder / f"t-{name}" / "f01-early", content)
    bom = folder / "t-bom" / "f01-early" / "answers.json"
    bom.parent.mkdir(parents=True)
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(good).encode())
    col = collect(folder, fictional_case)
    report = build_report(fictional_case, col)
    hv = next(s for s in report.decisions if s.decision.id == "hv-bruise")
    refer = next(o for o in hv.options if o.id == "refer")
    assert refer.count == 2  # ash and the BOM file; no damaged record counted
    for name in damaged:
        assert any(f"t-{name}" in p and "f01-early" in p and "answers.json" in p for p in col.problems), name
    assert not any("t-bom" in p for p in col.problems)
    assert all("Traceback" not in p for p in col.problems)


def test_an_unreadable_trainee_folder_is_named_not_left_out(fictional_case):
    folder = Path(tempfile.mkdtemp(prefix="workshop-ro-"))
    try:
        folder.chmod(0o755)
        _room(folder / "submitted", fictional_case)
        for p in folder.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        (folder / "submitted").chmod(0o755)
        (folder / "submitted" / "bea").chmod(0o700)  # only root can read it; the reader runs as nobody
        code = (
            "import sys; from course.core.pack import load_case; from course.workshop.collect import collect\n"
            f"c = collect(sys.argv[1], load_case({str(FIXTURE_PACK)!r}))\n"
            "print(len(c.submissions)); print('\\n'.join(c.problems))"
        )
        kwargs = {"user": "nobody", "group": "nogroup", "cwd": "/"} if os.geteuid() == 0 else {}
        if not kwargs:
            (folder / "submitted" / "bea").chmod(0o000)
        out = subprocess.run(
            [sys.executable, "-c", code, str(folder / "submitted")],
            env=dict(os.environ, PYTHONPATH=str(ROOT), COURSE_CACHE="off"),
            capture_output=True,
            text=True,
            timeout=60,
            **kwargs,
        )
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0] == "2"
        assert any("bea" in line and "could not be read" in line for line in lines[1:]), lines
    finally:
        for p in folder.rglob("*"):
            p.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- certificates and reflective logs


def test_certificates_for_a_whole_cohort_with_long_ids_and_hostile_text(tmp_path, fictional_case):
    from course.workshop.certificate import write_certificates

    folder = tmp_path / "submitted"
    long_id = "x" * 250
    ids = [long_id, "index", "<img src=x onerror=alert('XSS17')>", "plain"]
    for trainee in ids:
        module = folder / trainee / "f01-early"
        module.mkdir(parents=True)
        doc = answers_doc(fictional_case, {"hv-bruise": "refer", "practice": "a"})
        doc["decisions"]["hv-bruise"]["first"]["rationale"] = hs.HOSTILE_TEXT
        doc["decisions"]["hv-bruise"]["revisions"] = [
            {"choice": "visit", "rationale": hs.PAYLOADS[0], "confidence": 2, "submitted_at": "x"},
            "not a revision",
        ]
        doc["activity"] = {"f01-early": {"first_opened_at": hs.PAYLOADS[1], "last_seen_at": 7}}
        (module / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
        nb = {
            "cells": [
                {
                    "cell_type": "markdown",
                    "metadata": {"nbgrader": {"grade_id": "reflection-f01-early"}},
                    "source": hs.HOSTILE_TEXT,
                },
                "not a cell",
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (module / "f01-early.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    written = write_certificates(fictional_case, submissions=folder, out_dir=tmp_path / "certs")
    assert len(written) == 2 * len(ids)
    for path in written:
        assert hs.executable_markup_in_file(path) == [], path
    logs = [p for p in written if p.suffix == ".md"]
    assert all("My honest reflection" in p.read_text(encoding="utf-8") for p in logs)


def test_the_workshop_report_shows_ids_files_and_problems_as_text(tmp_path, fictional_case):
    from course.workshop.analysis import build_report
    from course.workshop.collect import collect
    from course.workshop.report_html import report_sections

    folder = tmp_path / "submitted"
    _room(folder, fictional_case)
    hostile = "<img src=x onerror=alert('XSS17')>"
    for name, course in ((hostile, fictional_case.id), ("other", hs.PAYLOADS[0])):
        p = folder / name / "f01-early" / "answers.json"
        p.parent.mkdir(parents=True)
        doc = answers_doc(fictional_case, {"hv-bruise": "refer"})
        doc["course"] = course
        doc["decisions"][hs.PAYLOADS[2]] = doc["decisions"]["hv-bruise"]  # an unknown decision id, named
        p.write_text(json.dumps(doc), encoding="utf-8")
    hs.write_damaged(folder / "<script>alert('XSS17')<" / "f01-early", b"{broken")
    col = collect(folder, fictional_case)
    assert col.problems and col.excluded
    for names in (True, False):
        page = "".join(report_sections(build_report(fictional_case, col, names=names)))
        assert hs.executable_markup(page) == [], names
    assert "problems" in "".join(report_sections(build_report(fictional_case, col, names=True)))


def test_a_first_answer_edited_by_hand_is_listed_and_counted_as_it_stands(tmp_path, fictional_case, writable_run):
    from course.store import AnswerStore
    from course.workshop.analysis import build_report
    from course.workshop.collect import collect

    folder = tmp_path / "submitted"
    _room(folder, fictional_case)
    mine = folder / "eve" / "f01-early"
    mine.mkdir(parents=True)
    AnswerStore(mine, fictional_case).record("hv-bruise", "record", "first thoughts", 4)
    doc = json.loads((mine / "answers.json").read_text(encoding="utf-8"))
    doc["decisions"]["hv-bruise"]["first"]["choice"] = "refer"
    (mine / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
    col = collect(folder, fictional_case)
    [problem] = col.problems
    assert "eve/f01-early/answers.json" in problem and "'hv-bruise'" in problem and "digest" in problem
    hv = next(s for s in build_report(fictional_case, col).decisions if s.decision.id == "hv-bruise")
    assert next(o for o in hv.options if o.id == "refer").count == 2  # ash and eve: counted, and listed
