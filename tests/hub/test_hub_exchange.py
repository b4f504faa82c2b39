"""course.hub_exchange without a hub: collect refuses a submission its named trainee did not make; submit
refuses another trainee's name. Runs as any user (the current user stands in for the trainee)."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

import pytest
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange import ExchangeError
from traitlets.config import Config

from course.grading.exchange import ExchangeCollect, ExchangeSubmit

COURSE = "safeguarding-case-review"


def _config(tmp_path) -> Config:
    c = Config()
    c.CourseDirectory.root = str(tmp_path / "course")
    c.CourseDirectory.course_id = COURSE
    c.CourseDirectory.assignment_id = "m01"
    c.CourseDirectory.db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    c.Exchange.root = str(tmp_path / "exchange")
    return c


def _submission(inbound, student: str, stamp: str, answer: str) -> None:
    folder = inbound / f"{student}+m01+{stamp}+abc"
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "answers.json").write_text(json.dumps({"who": answer}))


@pytest.mark.slow
def test_collect_skips_a_submission_not_owned_by_the_trainee_it_names(tmp_path, monkeypatch):
    # nbgrader creates the gradebook with the `alembic` command of this environment
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    me = getpass.getuser()
    c = _config(tmp_path)
    inbound = tmp_path / "exchange" / COURSE / "inbound"
    _submission(inbound, me, "2026-01-10 10:00:00.000000 UTC", "mine")
    # Newer, in another trainee's name, but owned by me: nbgrader alone would collect it as theirs.
    _submission(inbound, "someone-else", "2026-01-10 11:00:00.000000 UTC", "forged")
    (tmp_path / "course").mkdir()
    collect = ExchangeCollect(coursedir=CourseDirectory(config=c), config=c)
    collect.start()
    submitted = tmp_path / "course" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == [me]
    assert json.loads((submitted / me / "m01" / "answers.json").read_text()) == {"who": "mine"}
    assert [(r.trainee, r.module) for r in collect.refused] == [("someone-else", "m01")]


def test_submit_refuses_another_trainees_name(tmp_path):
    c = _config(tmp_path)
    c.CourseDirectory.student_id = "someone-else"
    (tmp_path / "exchange" / COURSE / "inbound").mkdir(parents=True)
    submit = ExchangeSubmit(coursedir=CourseDirectory(config=c), config=c)
    with pytest.raises(ExchangeError, match="You can only submit your own work"):
        submit.init_dest()
