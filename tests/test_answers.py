"""The answer store: atomic, merged, locked writes; damaged files kept aside; no writes in grading runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from course.core.answers import SCHEMA_VERSION, AnswersError, read_answers, upgrade
from course.store import AnswerStore
from tests.paths import ROOT

pytestmark = pytest.mark.usefixtures("writable_run")  # conftest.py; `case` is the fictional pack, from there too


def _disk(folder: Path) -> dict:
    return json.loads((folder / "answers.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ first answer, revisions, format


def test_first_answer_is_locked_and_later_changes_are_revisions(tmp_path, fictional_case):
    store = AnswerStore(tmp_path, fictional_case)
    r1 = store.record("hv-bruise", "record", "I would wait.", 2)
    r2 = store.record("hv-bruise", "refer", "On reflection, share it.", 4)
    assert (r1.kind, r1.saved, r1.graded) == ("first", True, True)
    assert (r2.kind, r2.saved, r2.graded) == ("revision", True, False)
    doc = _disk(tmp_path)
    assert doc["schema"] == SCHEMA_VERSION
    assert doc["course"] == fictional_case.id and doc["course_version"] == fictional_case.version
    first = doc["decisions"]["hv-bruise"]["first"]
    assert first["choice"] == "record" and first["confidence"] == 2 and first["rationale"] == "I would wait."
    assert first["submitted_at"].endswith("Z") and first["revealed_at"] == first["submitted_at"]
    revs = doc["decisions"]["hv-bruise"]["revisions"]
    assert [r["choice"] for r in revs] == ["refer"] and "revealed_at" not in revs[0]
    assert read_answers(tmp_path, fictional_case).first("hv-bruise")["choice"] == "record"


def test_multiple_choice_answer_is_stored_as_a_list(tmp_path, fictional_case):
    store = AnswerStore(tmp_path, fictional_case)
    store.record("social-assessment", ["history", "child"], "Both matter.", 5)
    assert read_answers(tmp_path).first("social-assessment")["choice"] == ["history", "child"]


@pytest.mark.parametrize(
    ("decision", "choice", "confidence"),
    [
        ("hv-bruise", "nope", 3),
        ("hv-bruise", ["record", "refer"], 3),
        ("hv-bruise", "refer", 0),
        ("hv-bruise", "refer", 6),
        ("social-assessment", ["history", "zzz"], 3),
    ],
)
def test_invalid_answers_are_refused_before_anything_is_written(tmp_path, fictional_case, decision, choice, confidence):
    with pytest.raises(ValueError, match=r"choice|confidence|rationale|option|takes one"):
        AnswerStore(tmp_path, fictional_case).record(decision, choice, "why", confidence)
    assert not (tmp_path / "answers.json").exists()


def test_opening_a_module_alone_creates_no_file_but_is_recorded_with_the_first_answer(tmp_path, fictional_case):
    store = AnswerStore(tmp_path, fictional_case)
    assert store.touch_activity("f01-early") is None
    assert not (tmp_path / "answers.json").exists()
    store.record("hv-bruise", "refer", "", 3)
    activity = _disk(tmp_path)["activity"]["f01-early"]
    assert activity["first_opened_at"] <= activity["last_seen_at"]
    store.touch_activity("f01-early")
    assert _disk(tmp_path)["activity"]["f01-early"]["first_opened_at"] == activity["first_opened_at"]


# ------------------------------------------------------------------ no writes while a notebook is executed


@pytest.mark.parametrize(("var", "value"), [("NBGRADER_EXECUTION", "autograde"), ("COURSE_READ_ONLY", "1")])
def test_executing_a_notebook_writes_nothing_but_keeps_the_answer_in_the_session(
    tmp_path, fictional_case, monkeypatch, var, value
):
    monkeypatch.setenv(var, value)
    store = AnswerStore(tmp_path, fictional_case)
    store.touch_activity("f01-early")
    r = store.record("hv-bruise", "refer", "why", 3)
    assert not r.saved and r.kind == "first" and "not saved" in r.message
    assert store.unsaved["hv-bruise"][0]["choice"] == "refer"
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_file_is_left_untouched_in_a_read_only_run(tmp_path, fictional_case, monkeypatch):
    monkeypatch.setenv("COURSE_READ_ONLY", "1")
    (tmp_path / "answers.json").write_text("{not json", encoding="utf-8")
    store = AnswerStore(tmp_path, fictional_case)
    assert len(store.load()) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.json"]
    assert any("left as it is" in n for n in store.notices)


# ------------------------------------------------------------------ damaged and foreign files


def test_corrupt_json_is_moved_aside_with_a_timestamp_and_the_trainee_is_told(tmp_path, fictional_case):
    (tmp_path / "answers.json").write_text('{"schema": 1, "decisions": {', encoding="utf-8")
    store = AnswerStore(tmp_path, fictional_case)
    assert len(store.load()) == 0
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("answers.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == '{"schema": 1, "decisions": {'
    assert aside[0].name.endswith("Z")
    assert any(aside[0].name in n and "trainer" in n for n in store.notices)
    assert all("Traceback" not in n for n in store.notices)
    r = store.record("hv-bruise", "refer", "why", 3)
    assert r.saved and r.kind == "first"
    assert _disk(tmp_path)["decisions"]["hv-bruise"]["first"]["choice"] == "refer"


@pytest.mark.parametrize(
    "content", [b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'{"hello": "world"}', b'{"schema": 1, "decisions": []}']
)
def test_unreadable_shapes_are_kept_aside_when_recording(tmp_path, fictional_case, content):
    (tmp_path / "answers.json").write_bytes(content)
    store = AnswerStore(tmp_path, fictional_case)
    assert store.record("hv-bruise", "visit", "", 1).saved
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert store.notices


def test_an_answers_file_from_another_course_is_kept_aside_not_merged(tmp_path, fictional_case):
    other = {"schema": 1, "course": "another-course", "course_version": "3", "decisions": {}, "activity": {}}
    (tmp_path / "answers.json").write_text(json.dumps(other), encoding="utf-8")
    store = AnswerStore(tmp_path, fictional_case)
    store.record("hv-bruise", "refer", "", 3)
    assert _disk(tmp_path)["course"] == fictional_case.id
    assert any("another course" in n for n in store.notices)


def test_a_file_from_a_newer_course_version_is_never_overwritten(tmp_path, fictional_case):
    newer = json.dumps({"schema": SCHEMA_VERSION + 1, "course": fictional_case.id, "decisions": {}})
    (tmp_path / "answers.json").write_text(newer, encoding="utf-8")
    r = AnswerStore(tmp_path, fictional_case).record("hv-bruise", "refer", "", 3)
    assert not r.saved and "newer version" in r.message
    assert (tmp_path / "answers.json").read_text(encoding="utf-8") == newer


# ------------------------------------------------------------------ read_answers (graders, workshops)


def test_read_answers_never_writes_and_explains_each_problem_in_plain_words(tmp_path, fictional_case):
    with pytest.raises(AnswersError, match="No answers file"):
        read_answers(tmp_path)
    (tmp_path / "answers.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(AnswersError, match="damaged"):
        read_answers(tmp_path / "answers.json")
    (tmp_path / "answers.json").write_text(json.dumps({"schema": 1, "course": "x", "decisions": {}}), encoding="utf-8")
    with pytest.raises(AnswersError, match="another course"):
        read_answers(tmp_path, fictional_case)
    (tmp_path / "answers.json").write_text(json.dumps({"schema": 99, "decisions": {}}), encoding="utf-8")
    with pytest.raises(AnswersError, match="newer version"):
        read_answers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.json"]


def test_read_answers_is_a_read_only_mapping_of_decisions(tmp_path, fictional_case):
    AnswerStore(tmp_path, fictional_case).record("hv-bruise", "refer", "why", 3)
    answers = read_answers(tmp_path, fictional_case)
    assert list(answers) == ["hv-bruise"] and "hv-bruise" in answers and len(answers) == 1
    answers["hv-bruise"]["first"]["choice"] = "tampered"
    assert answers.first("hv-bruise")["choice"] == "refer"
    assert answers.first("social-assessment") is None and answers.revisions("social-assessment") == []
    assert answers.course == fictional_case.id and answers.schema == SCHEMA_VERSION


# ------------------------------------------------------------------ schema upgrade


SCHEMA_0 = {
    "course": "fictional-sam",
    "answers": {
        "hv-bruise": {"choice": "visit", "rationale": "See Sam.", "confidence": 4, "saved_at": "2025-01-02T03:04:05Z"},
    },
}


def test_schema_0_is_upgraded_in_memory_by_readers(tmp_path, fictional_case):
    (tmp_path / "answers.json").write_text(json.dumps(SCHEMA_0), encoding="utf-8")
    answers = read_answers(tmp_path, fictional_case)
    assert answers.schema == SCHEMA_VERSION
    assert answers.first("hv-bruise") == {
        "choice": "visit",
        "rationale": "See Sam.",
        "confidence": 4,
        "submitted_at": "2025-01-02T03:04:05Z",
        "revealed_at": "2025-01-02T03:04:05Z",
    }
    assert json.loads((tmp_path / "answers.json").read_text(encoding="utf-8")) == SCHEMA_0  # untouched


def test_schema_0_file_is_upgraded_on_disk_at_the_next_write_keeping_the_old_answer_graded(tmp_path, fictional_case):
    (tmp_path / "answers.json").write_text(json.dumps(SCHEMA_0), encoding="utf-8")
    r = AnswerStore(tmp_path, fictional_case).record("hv-bruise", "refer", "Changed my mind.", 5)
    assert r.kind == "revision"
    doc = _disk(tmp_path)
    assert doc["schema"] == SCHEMA_VERSION
    assert doc["decisions"]["hv-bruise"]["first"]["choice"] == "visit"
    assert [x["choice"] for x in doc["decisions"]["hv-bruise"]["revisions"]] == ["refer"]


def test_upgrade_refuses_unknown_shapes():
    with pytest.raises(AnswersError):
        upgrade({"something": "else"})
    with pytest.raises(AnswersError):
        upgrade({"answers": {"d-x": "not a mapping"}})
    assert upgrade({"schema": 1, "decisions": {}})["activity"] == {}


# ------------------------------------------------------------------ several writers


def test_two_widgets_writing_in_turn_lose_nothing(tmp_path, fictional_case):
    a, b = AnswerStore(tmp_path, fictional_case), AnswerStore(tmp_path, fictional_case)
    a.load(), b.load()  # both "open" before either writes, like two browser tabs
    a.record("hv-bruise", "refer", "tab A", 3)
    b.record("social-assessment", ["history"], "tab B", 2)
    b.record("hv-bruise", "visit", "tab B changes", 2)
    doc = _disk(tmp_path)["decisions"]
    assert doc["hv-bruise"]["first"]["rationale"] == "tab A"
    assert doc["hv-bruise"]["revisions"][0]["rationale"] == "tab B changes"
    assert doc["social-assessment"]["first"]["rationale"] == "tab B"


_WRITER = textwrap.dedent("""
    import sys
    from course.store import AnswerStore
    folder, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = AnswerStore(folder)
    for i in range(count):
        r = store.record(f"d-{tag}-{i}", "a", f"{tag} {i}", 3)
        assert r.saved, r.message
        r = store.record("d-shared", "b", f"{tag} {i}", 3)
        assert r.saved, r.message
    print("done")
""")


def _env():
    env = dict(os.environ)
    env.pop("NBGRADER_EXECUTION", None)
    env.pop("COURSE_READ_ONLY", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.slow
def test_concurrent_writer_processes_lose_no_answer(tmp_path):
    procs, count = 4, 25
    ps = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), f"p{n}", str(count)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(procs)
    ]
    for p in ps:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    answers = read_answers(tmp_path)
    for n in range(procs):
        for i in range(count):
            assert answers.first(f"d-p{n}-{i}")["rationale"] == f"p{n} {i}"
    shared = [answers.first("d-shared"), *answers.revisions("d-shared")]
    assert len(shared) == procs * count
    assert sorted(x["rationale"] for x in shared) == sorted(f"p{n} {i}" for n in range(procs) for i in range(count))
    assert not list(tmp_path.glob(".answers.json.*.tmp"))


_LOOPING_WRITER = textwrap.dedent("""
    import sys
    from course.store import AnswerStore
    store = AnswerStore(sys.argv[1])
    big = "x" * 400_000  # a large rationale makes each write long enough to be interrupted
    i = 0
    while True:
        store.record("d-loop", "b", f"{i} {big}", 3)
        i += 1
""")


@pytest.mark.slow
def test_writer_killed_mid_write_leaves_the_previous_answers_intact(tmp_path):
    store = AnswerStore(tmp_path)
    store.record("d-kept", "a", "the answer that must survive", 4)
    seen = 0
    killed_mid_write = 0
    for _ in range(6):
        p = subprocess.Popen(
            [sys.executable, "-c", _LOOPING_WRITER, str(tmp_path)],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # Kill the writer the moment a temp file shows it is part-way through a write.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not list(tmp_path.glob(".answers.json.*.tmp")):
                time.sleep(0.0005)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        assert p.returncode == -signal.SIGKILL
        # A temp file outliving its writer proves the kill landed between creating it and the rename.
        killed_mid_write += bool(list(tmp_path.glob(".answers.json.*.tmp")))
        answers = read_answers(tmp_path)  # raises if the file were damaged
        assert answers.first("d-kept")["rationale"] == "the answer that must survive"
        now = len(answers.revisions("d-loop")) + ("d-loop" in answers)
        assert now >= seen  # nothing written before is ever lost
        seen = now
    assert killed_mid_write >= 1, "no kill landed mid-write; the test proved nothing"
    # The next writer clears any temp file a killed writer left behind.
    store.record("d-after", "a", "", 1)
    assert not list(tmp_path.glob(".answers.json.*.tmp"))
    assert read_answers(tmp_path).first("d-kept")["confidence"] == 4
    print(f"{killed_mid_write} of 6 kills landed mid-write")


_READ_ONLY_WRITER = textwrap.dedent("""
    import json, sys
    from course.store import AnswerStore
    store = AnswerStore(sys.argv[1])
    before = store.first("d-old")
    r = store.record("d-new", "a", "kept on screen", 3)
    print(json.dumps({"saved": r.saved, "kind": r.kind, "message": r.message,
                      "unsaved": store.unsaved.get("d-new"), "before": before}))
""")


@pytest.fixture
def reachable_tmp():
    """A folder an ordinary user can reach (pytest's own tmp folders are private to root here)."""
    path = Path(tempfile.mkdtemp(prefix="answers-ro-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_read_only_folder_gives_a_clear_message_and_keeps_the_answer_in_the_session(reachable_tmp):
    folder = reachable_tmp / "ro"
    folder.mkdir()
    AnswerStore(folder).record("d-old", "a", "earlier", 2)
    folder.chmod(0o555)
    kwargs = {}
    if os.geteuid() == 0:
        # root ignores folder permissions, so the writer runs as an ordinary user, as a trainee would.
        kwargs["user"] = "nobody"
        kwargs["group"] = "nogroup"
        kwargs["cwd"] = "/"
    try:
        out = subprocess.run(
            [sys.executable, "-c", _READ_ONLY_WRITER, str(folder)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
            **kwargs,
        )
    finally:
        folder.chmod(0o755)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["saved"] is False
    assert "read-only" in result["message"] and "still shown" in result["message"]
    assert result["unsaved"][0]["rationale"] == "kept on screen"
    assert result["before"]["rationale"] == "earlier"
    assert "d-new" not in read_answers(folder)


_UNREADABLE_WRITER = textwrap.dedent("""
    import json, sys
    from course.store import AnswerStore
    store = AnswerStore(sys.argv[1])
    r = store.record("d-new", "a", "after an unreadable file", 3)
    print(json.dumps({"saved": r.saved, "message": r.message, "notices": store.notices}))
""")


def test_an_unreadable_file_is_moved_aside_not_overwritten(reachable_tmp):
    if os.geteuid() != 0:
        pytest.skip("needs root to make a file that an ordinary user cannot read in a folder they can write")
    folder = reachable_tmp / "rw"
    folder.mkdir()
    folder.chmod(0o777)
    AnswerStore(folder).record("d-old", "a", "root's earlier answer", 2)
    (folder / "answers.json").chmod(0o000)
    (folder / ".answers.json.lock").chmod(0o666)
    out = subprocess.run(
        [sys.executable, "-c", _UNREADABLE_WRITER, str(folder)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        user="nobody",
        group="nogroup",
        cwd="/",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["saved"] is True
    aside = [p for p in folder.iterdir() if ".corrupt-" in p.name]
    assert (
        len(aside) == 1
        and json.loads(aside[0].read_text())["decisions"]["d-old"]["first"]["rationale"] == "root's earlier answer"
    )
    assert any("could not be opened" in n and aside[0].name in n for n in result["notices"])
    assert read_answers(folder).first("d-new")["rationale"] == "after an unreadable file"


def test_a_reflection_is_kept_as_typed_with_earlier_text_in_its_history(tmp_path, fictional_case, writable_run):
    store = AnswerStore(tmp_path, fictional_case)
    assert store.save_reflection("f01-early", "First thoughts") is None
    assert store.save_reflection("f01-early", "First thoughts, and more") is None
    doc = json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))
    entry = doc["reflections"]["f01-early"]
    assert entry["text"] == "First thoughts, and more" and entry["history"] == []  # typing is not history
    entry["saved_at"] = "2020-01-01T09:00:00Z"  # the last save was long ago
    (tmp_path / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
    store.save_reflection("f01-early", "A new day")
    answers = read_answers(tmp_path, fictional_case)
    assert answers.reflection("f01-early") == "A new day"
    history = json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))["reflections"]["f01-early"]["history"]
    assert [h["text"] for h in history] == ["First thoughts, and more"]


def test_a_reflection_with_a_lone_surrogate_is_saved_not_refused(tmp_path, fictional_case, writable_run):
    store = AnswerStore(tmp_path, fictional_case)
    assert store.save_reflection("f01-early", "broken \ud800 character") is None
    assert read_answers(tmp_path, fictional_case).reflection("f01-early") == "broken \ufffd character"


def test_a_reflection_is_not_saved_in_a_read_only_run(tmp_path, fictional_case, monkeypatch):
    monkeypatch.setenv("COURSE_READ_ONLY", "1")
    problem = AnswerStore(tmp_path, fictional_case).save_reflection("f01-early", "text")
    assert problem and "not saved" in problem and not (tmp_path / "answers.json").exists()


def test_an_older_answers_file_without_reflections_still_reads(tmp_path, fictional_case):
    doc = {"schema": 1, "course": fictional_case.id, "course_version": fictional_case.version, "decisions": {}}
    (tmp_path / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
    assert read_answers(tmp_path, fictional_case).reflection("f01-early") == ""
