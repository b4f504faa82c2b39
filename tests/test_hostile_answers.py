"""Answers files are trainee input (issue 17): the reader takes any bytes and any JSON shape and turns what it
cannot use into a plain message; an answer the course could not have written never earns points; saving never
fails on a lone surrogate; a first answer edited by hand after the reveal is flagged by its digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.core.answers import SCHEMA_VERSION, AnswersError, read_answers
from course.store import AnswerStore
from tests import hostile_support as hs
from tests.grading_support import answers_doc

GOOD = {"hv-bruise": "refer", "practice": "a"}


@pytest.fixture
def grading_run(monkeypatch):
    """As in a graded cell: nbgrader's flag is set, so nothing is written."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")


def _score(folder: Path, case, did: str, capsys) -> tuple[float, str]:
    from course.notebook import open_module

    m = open_module(case.decision(did).module, case, folder)
    points = m.score(did)
    m.recorded(did)
    return points, capsys.readouterr().out


# --------------------------------------------------------------------------- reading any bytes


DAMAGE = sorted(hs.damaged_answers({"decisions": {"hv-bruise": {"first": {}}}}))


@pytest.mark.parametrize("damage", DAMAGE)
def test_every_damaged_file_gives_a_plain_message_and_never_earns_points(
    damage, tmp_path, fictional_case, grading_run, capsys
):
    good = answers_doc(fictional_case, GOOD)
    hs.write_damaged(tmp_path, hs.damaged_answers(good)[damage])
    try:
        answers = read_answers(tmp_path, fictional_case)
    except AnswersError as e:
        message = str(e)
        assert "answers.json" in message and str(tmp_path) not in message  # the file, not the server's folders
    else:
        assert answers.first("hv-bruise") is None, damage
        reason = answers.problems["hv-bruise"]
        assert reason and "Traceback" not in reason
        assert answers.first("practice") is not None  # the rest of the file still counts
    points, shown = _score(tmp_path, fictional_case, "hv-bruise", capsys)
    assert points == 0.0, damage
    assert shown.strip() and "Traceback" not in shown and str(tmp_path) not in shown


def test_a_list_or_an_object_for_a_one_option_question_earns_nothing(tmp_path, fictional_case, grading_run, capsys):
    for choice in (["refer"], {"refer": 1}, ["refer", "refer"]):
        doc = answers_doc(fictional_case, {"hv-bruise": choice})
        (tmp_path / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
        points, _ = _score(tmp_path, fictional_case, "hv-bruise", capsys)
        assert points == 0.0, choice
        assert "one option" in read_answers(tmp_path, fictional_case).problems["hv-bruise"] or not isinstance(
            choice, list
        )


def test_a_notepad_byte_order_mark_or_utf16_is_a_good_file(tmp_path, fictional_case, grading_run, capsys):
    text = json.dumps(answers_doc(fictional_case, GOOD))
    for data in (b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("utf-16")):
        (tmp_path / "answers.json").write_bytes(data)
        answers = read_answers(tmp_path, fictional_case)
        assert answers.first("hv-bruise")["choice"] == "refer" and not answers.problems
        assert _score(tmp_path, fictional_case, "hv-bruise", capsys)[0] == 2.0
    store = AnswerStore(tmp_path, fictional_case)
    assert store.first("hv-bruise")["choice"] == "refer" and store.notices == []  # not set aside as damaged


def test_a_lone_surrogate_in_a_rationale_is_saved_and_shown(tmp_path, fictional_case, writable_run):
    store = AnswerStore(tmp_path, fictional_case)
    rec = store.record("hv-bruise", "refer", "half a pair: \ud800 here", 3)
    assert rec.saved and rec.message == ""
    text = (tmp_path / "answers.json").read_bytes().decode("utf-8")  # valid UTF-8 on disk
    assert "half a pair" in text
    first = read_answers(tmp_path, fictional_case).first("hv-bruise")
    first["rationale"].encode("utf-8")  # printable
    # and an older file holding the escape itself is read, shown and saved again
    doc = answers_doc(fictional_case, GOOD)
    doc["decisions"]["practice"]["first"]["rationale"] = "\ud83d alone"
    (tmp_path / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
    read_answers(tmp_path, fictional_case).first("practice")["rationale"].encode("utf-8")
    assert store.record("hv-bruise", "visit", "a change", 2).saved


def test_read_answers_messages_never_show_the_folder(tmp_path, fictional_case):
    for make in (lambda: None, lambda: (tmp_path / "answers.json").write_text("{oops", encoding="utf-8")):
        make()
        with pytest.raises(AnswersError) as e:
            read_answers(tmp_path, fictional_case)
        assert str(tmp_path) not in str(e.value) and "answers.json" in str(e.value)


# --------------------------------------------------------------------------- the locked first answer


def test_a_first_answer_edited_by_hand_after_the_reveal_is_flagged(tmp_path, fictional_case, writable_run):
    store = AnswerStore(tmp_path, fictional_case)
    store.record("hv-bruise", "record", "first thoughts", 2)
    store.record("practice", "a", "fine", 4)
    answers = read_answers(tmp_path, fictional_case)
    assert answers.schema == SCHEMA_VERSION == 2 and answers.unsealed == []
    doc = json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))
    doc["decisions"]["hv-bruise"]["first"]["choice"] = "refer"  # the review said refer: change it by hand
    (tmp_path / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
    assert read_answers(tmp_path, fictional_case).unsealed == ["hv-bruise"]
    del doc["decisions"]["hv-bruise"]["first"]["revealed_at"]
    doc["decisions"]["practice"]["first"]["revealed_at"] = "2020-01-01T00:00:00Z"
    (tmp_path / "answers.json").write_text(json.dumps(doc), encoding="utf-8")
    assert sorted(read_answers(tmp_path, fictional_case).unsealed) == ["hv-bruise", "practice"]


def test_an_older_answers_file_is_read_and_sealed_at_the_next_save(tmp_path, fictional_case, writable_run):
    old = answers_doc(fictional_case, GOOD)  # schema 1: no digests
    assert old["schema"] == 1
    (tmp_path / "answers.json").write_text(json.dumps(old), encoding="utf-8")
    answers = read_answers(tmp_path, fictional_case)
    assert answers.first("hv-bruise")["choice"] == "refer" and answers.unsealed == []
    AnswerStore(tmp_path, fictional_case).record("hv-bruise", "visit", "later", 3)  # a revision
    doc = json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))
    assert doc["schema"] == 2 and all(e["first"].get("digest") for e in doc["decisions"].values())
    assert read_answers(tmp_path, fictional_case).unsealed == []
