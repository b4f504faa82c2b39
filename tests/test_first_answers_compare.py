"""The trainer's comparison of answers.json with the hub's record of first answers (course.store.hub), in words,
decision by decision; and `course grade` without a hub compares nothing and says nothing about it."""

from __future__ import annotations

from course.grading.first_answers import compare_with_hub
from course.store.hub import RecordedFirst, available, first_answer_differences

KEPT = {
    ("ana", "m01", "d-one"): RecordedFirst(
        "ana", "m01", "d-one", {"choice": "refer", "rationale": "Seen twice.", "confidence": 3}, "2026-01-10T09:00"
    ),
    ("ana", "m01", "d-two"): RecordedFirst("ana", "m01", "d-two", {"choice": "wait"}, "2026-01-10T09:05"),
    ("bo", "m01", "d-one"): RecordedFirst("bo", "m01", "d-one", {"choice": "wait"}, "2026-01-10T09:00"),
}


def test_the_same_first_answers_give_no_difference():
    firsts = {
        "d-one": {"choice": "refer", "rationale": "Seen twice.", "confidence": 3, "digest": "x"},
        "d-two": {"choice": "wait", "revealed_at": "2026-01-10T09:06"},
    }
    assert first_answer_differences("ana", "m01", firsts, KEPT) == []


def test_each_kind_of_difference_is_named_with_the_decision_and_what_changed():
    firsts = {
        "d-one": {"choice": "record", "rationale": "Written afterwards.", "confidence": 3},
        "d-three": {"choice": "refer"},
    }
    out = first_answer_differences("ana", "m01", firsts, KEPT)
    assert len(out) == 3, out
    assert "'d-one'" in out[0] and "(choice, rationale)" in out[0] and "2026-01-10T09:00" in out[0]
    assert "'d-three'" in out[1] and "never recorded" in out[1]
    assert "'d-two'" in out[2] and "does not have" in out[2]
    # Another trainee's record is never compared with ana's file.
    assert first_answer_differences("bo", "m01", {"d-one": {"choice": "wait"}}, KEPT) == []


def test_without_a_hub_nothing_is_compared(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_FIRST_ANSWERS_URL", raising=False)
    assert not available()
    said = []
    assert compare_with_hub([object()], said.append) == {}
    assert said == []
