"""CPD certificates and reflective logs, from a trainee's answers on the fictional case."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from course.workshop.certificate import (
    certificate_html,
    completed_modules,
    find_reflections,
    reflective_log_markdown,
    trainee_record,
)
from course.workshop.collect import WorkshopError, collect_trainee
from course.workshop.run import external_references
from tests.paths import FIXTURE_PACK

ON = dt.date(2026, 3, 2)


def answers_doc(answers: dict, version="1", activity=None, revisions=None) -> dict:
    decisions = {}
    for did, (choice, conf, why) in answers.items():
        first = {
            "choice": choice,
            "rationale": why,
            "confidence": conf,
            "submitted_at": "2026-02-10T09:30:00Z",
            "revealed_at": "2026-02-10T09:30:00Z",
        }
        decisions[did] = {"first": first, "revisions": (revisions or {}).get(did, [])}
    return {
        "schema": 1,
        "course": "fictional-sam",
        "course_version": version,
        "decisions": decisions,
        "activity": activity or {},
    }


def reflection_notebook(module: str, text: str) -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "Some narrative.", "id": "a"},
            {
                "cell_type": "markdown",
                "id": "b",
                "source": text,
                "metadata": {
                    "nbgrader": {"grade": True, "grade_id": f"reflection-{module}", "points": 3, "solution": True}
                },
            },
        ],
    }


@pytest.fixture
def workspace(tmp_path):
    """A trainee's workspace: f01-early completed (both decisions), f02-later not answered."""
    ws = tmp_path / "workspace"
    (ws / "f01-early").mkdir(parents=True)
    (ws / "f02-later").mkdir(parents=True)
    doc = answers_doc(
        {"practice": ("a", 4, "It was the right one."), "hv-bruise": ("visit", 3, "I wanted to see Sam first.")},
        activity={"f01-early": {"first_opened_at": "2026-02-10T09:00:00Z", "last_seen_at": "2026-02-10T09:45:00Z"}},
        revisions={
            "hv-bruise": [
                {
                    "choice": "refer",
                    "rationale": "After reading the review.",
                    "confidence": 4,
                    "submitted_at": "2026-02-10T09:40:00Z",
                }
            ]
        },
    )
    (ws / "f01-early" / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
    (ws / "f01-early" / "f01-early.ipynb").write_text(
        json.dumps(reflection_notebook("f01-early", "I would link the bruise to the wider picture.")), encoding="utf-8"
    )
    (ws / "f02-later" / "f02-later.ipynb").write_text(
        json.dumps(reflection_notebook("f02-later", "YOUR ANSWER HERE")), encoding="utf-8"
    )
    return ws


class _Modules(HTMLParser):
    def __init__(self):
        super().__init__()
        self.modules: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-module" in a:
            self.modules.append(a["data-module"])


def listed_modules(page: str) -> list[str]:
    p = _Modules()
    p.feed(page)
    return p.modules


def test_certificate_lists_exactly_the_completed_modules(fictional_case, workspace):
    rec = trainee_record(fictional_case, collect_trainee(workspace, fictional_case))
    assert [m.id for m in rec.completed] == ["f01-early"]
    page = certificate_html(fictional_case, rec, name="Jo Example", on=ON)
    assert listed_modules(page) == ["f01-early"]
    assert "The assessment" not in page  # f02-later's title
    assert 'data-total-minutes="20"' in page
    assert "Jo Example" in page and "2 March 2026" in page
    assert "not</strong> an assessment of competence" in page
    assert external_references(page) == [] and "http" not in page


def test_a_module_with_some_decisions_answered_is_started_not_completed(fictional_case, tmp_path):
    f = tmp_path / "answers.json"
    f.write_text(json.dumps(answers_doc({"hv-bruise": ("refer", 5, "")})), encoding="utf-8")
    sub = collect_trainee(f, fictional_case)
    done, started = completed_modules(fictional_case, sub)
    assert done == () and [m.id for m in started] == ["f01-early"]
    page = certificate_html(fictional_case, trainee_record(fictional_case, sub), on=ON)
    assert listed_modules(page) == []
    assert "No module has been completed yet" in page


def test_every_module_completed_lists_both_and_adds_their_minutes(fictional_case, tmp_path):
    f = tmp_path / "answers.json"
    f.write_text(
        json.dumps(
            answers_doc(
                {"practice": ("b", 1, ""), "hv-bruise": ("refer", 5, ""), "social-assessment": (["history"], 2, "")}
            )
        ),
        encoding="utf-8",
    )
    rec = trainee_record(fictional_case, collect_trainee(f, fictional_case))
    page = certificate_html(fictional_case, rec, on=ON)
    assert listed_modules(page) == ["f01-early", "f02-later"]
    assert rec.minutes == 40 and 'data-total-minutes="40"' in page


def test_reflections_are_read_from_the_graded_cell_without_the_placeholder(fictional_case, workspace):
    found = find_reflections(fictional_case, sorted(workspace.rglob("*.ipynb")))
    assert found == {"f01-early": "I would link the bruise to the wider picture."}


def test_a_reflection_in_a_module_without_saved_answers_is_found_in_the_workspace(fictional_case, workspace):
    (workspace / "f02-later" / "f02-later.ipynb").write_text(
        json.dumps(reflection_notebook("f02-later", "Read the history first.")), encoding="utf-8"
    )
    rec = trainee_record(fictional_case, collect_trainee(workspace, fictional_case))
    assert rec.reflections["f02-later"] == "Read the history first."
    assert [m.id for m in rec.completed] == ["f01-early"]  # a reflection alone does not complete a module
    assert "Read the history first." in reflective_log_markdown(fictional_case, rec, on=ON)


def test_reflective_log_has_choices_confidence_reasons_changes_and_reflection(fictional_case, workspace):
    rec = trainee_record(fictional_case, collect_trainee(workspace, fictional_case))
    log = reflective_log_markdown(fictional_case, rec, name="Jo Example", on=ON)
    assert log.startswith("# Reflective log: Jo Example")
    assert "## The early months (completed)" in log
    assert "- **Your first answer** (10 February 2026): Visit and see Sam" in log
    assert "- **Confidence:** 3 of 5" in log
    assert "### The health visitor, June 2019" in log
    assert "I wanted to see Sam first." in log
    assert (
        "- **Later change** (10 February 2026): Talk to social care, confidence 4 of 5. After reading the review."
        in log
    )
    assert "The review found the pieces were not put together." in log
    assert "I would link the bruise to the wider picture." in log
    assert "not an assessment of competence" in log
    assert "The assessment" not in log  # nothing answered in f02-later


def test_answers_from_another_version_are_refused_for_a_certificate(fictional_case, tmp_path):
    f = tmp_path / "answers.json"
    f.write_text(json.dumps(answers_doc({"hv-bruise": ("refer", 5, "")}, version="0")), encoding="utf-8")
    with pytest.raises(WorkshopError, match="answers from version '0' of the course"):
        collect_trainee(f, fictional_case)


def test_no_answers_yet_fails_with_a_clear_message(fictional_case, tmp_path):
    with pytest.raises(WorkshopError, match="No answers files found"):
        collect_trainee(tmp_path, fictional_case)


def test_certificate_command_writes_certificate_and_log(workspace, tmp_path, capsys):
    from course.apps.cli import main

    out = tmp_path / "out" / "certificate.html"
    rc = main(
        [
            "certificate",
            "--answers",
            str(workspace),
            "--name",
            "Jo Example",
            "--out",
            str(out),
            "--data",
            str(FIXTURE_PACK),
            "--date",
            "2026-03-02",
        ]
    )
    assert rc == 0
    log = out.with_name("reflective-log.md")
    assert out.exists() and log.exists()
    assert listed_modules(out.read_text(encoding="utf-8")) == ["f01-early"]
    assert f"Wrote {log}" in capsys.readouterr().out


def test_certificate_command_for_a_submissions_folder_writes_one_per_trainee(workspace, tmp_path):
    from course.apps.cli import main

    subs = tmp_path / "submitted"
    shutil.copytree(workspace, subs / "trainee-a")
    (subs / "trainee-b" / "f02-later").mkdir(parents=True)
    (subs / "trainee-b" / "f02-later" / "answers.json").write_text(
        json.dumps(answers_doc({"social-assessment": (["child"], 3, "")})), encoding="utf-8"
    )
    out_dir = tmp_path / "certs"
    assert (
        main(["certificate", "--submissions", str(subs), "--out-dir", str(out_dir), "--data", str(FIXTURE_PACK)]) == 0
    )
    assert listed_modules((out_dir / "trainee-a-certificate.html").read_text(encoding="utf-8")) == ["f01-early"]
    assert listed_modules((out_dir / "trainee-b-certificate.html").read_text(encoding="utf-8")) == ["f02-later"]
    assert (out_dir / "trainee-b-reflective-log.md").exists()


@pytest.mark.slow
def test_certificate_as_pdf_with_chromium(workspace, tmp_path):
    from course.workshop.run import CHROMIUM

    if not (shutil.which("chromium") or Path(CHROMIUM).exists()):
        pytest.skip("Chromium (Debian package 'chromium') is not installed; PDF output needs it")
    from course.apps.cli import main

    out = tmp_path / "certificate.pdf"
    assert (
        main(
            [
                "certificate",
                "--answers",
                str(workspace),
                "--format",
                "pdf",
                "--out",
                str(out),
                "--data",
                str(FIXTURE_PACK),
            ]
        )
        == 0
    )
    assert out.read_bytes()[:5] == b"%PDF-"


def test_the_reflective_log_carries_the_reflection_written_in_the_page(tmp_path, fictional_case, writable_run):
    from course.store import AnswerStore
    from course.workshop.certificate import reflective_log_markdown, trainee_record
    from course.workshop.collect import collect_trainee

    folder = tmp_path / "workspace" / "f01-early"
    folder.mkdir(parents=True)
    store = AnswerStore(folder, fictional_case)
    store.record("hv-bruise", "refer", "Share it.", 4)
    store.save_reflection("f01-early", "Written in the page's box.")
    rec = trainee_record(fictional_case, collect_trainee(tmp_path / "workspace", fictional_case))
    assert rec.reflections["f01-early"] == "Written in the page's box."
    assert "Written in the page" in reflective_log_markdown(fictional_case, rec)
