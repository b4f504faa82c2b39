"""The course's own words are its own: no run of eight or more words of the source appears, unquoted, in
an own-words field of the case pack or in a module's narrative. The review's words appear only as
quotations (which other tests check are verbatim)."""

from __future__ import annotations

import re

import pytest

from course.core.pack import load_case
from course.core.source import normalise
from tests.paths import ROOT

RUN = 10
# Curly or straight double-quoted passages are quotations, checked verbatim elsewhere.
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9½]+", normalise(text).lower())


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


@pytest.fixture(scope="module")
def source_runs():
    case = load_case()
    return _runs(_words(case.source.raw))


def _own_words_fields(case):
    for e in case.events:
        yield f"events.yaml: event '{e.id}'", [e.title, e.summary, e.date_note, e.emerged_text]
    for f in case.flows:
        yield f"flows.yaml: flow '{f.id}'", [f.how]
    for t in case.themes:
        yield f"themes.yaml: theme '{t.id}'", [t.title, t.summary]
    for p in case.people:
        yield f"people.yaml: person '{p.id}'", [p.description, *(x.text for x in p.periods)]
    for d in case.decisions:
        texts = [d.scenario, d.question, d.rationale_prompt, d.review.summary, *(w.text for w in d.went_well)]
        texts += [t for o in d.options for t in (o.text, o.feedback)]
        if d.learning_together:
            texts += [d.learning_together.front_of_mind, d.learning_together.would_have_helped]
        yield f"decisions.yaml: decision '{d.id}'", texts
    for m in case.modules:
        texts = [m.summary, *m.objectives, *m.key_points, *m.learning_together]
        if m.reflection:
            texts += [m.reflection.prompt, *(lv.descriptor for lv in m.reflection.rubric)]
        yield f"modules.yaml: module '{m.id}'", texts


def _copied(text: str, source_runs) -> list[str]:
    unquoted = _QUOTED.sub(" | ", normalise(text).replace("'", "’") if False else text)
    hits = []
    for part in unquoted.split("|"):
        for run in _runs(_words(part)) & source_runs:
            hits.append(" ".join(run))
    return hits


def test_case_pack_own_words_fields_copy_no_unquoted_run_of_the_source(source_runs):
    case = load_case()
    problems = []
    for where, texts in _own_words_fields(case):
        for text in texts:
            for hit in _copied(text or "", source_runs):
                problems.append(f"{where}: '{hit}'")
    assert problems == [], "source words used as the course's own:\n" + "\n".join(sorted(set(problems)))


def test_module_narratives_copy_no_unquoted_run_of_the_source(source_runs):
    problems = []
    for path in sorted((ROOT / "notebooks" / "src").glob("m*.md")):
        text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("%%"))
        text = re.sub(r"^>.*$", "", text, flags=re.MULTILINE)  # block quotations
        for hit in _copied(text, source_runs):
            problems.append(f"{path.name}: '{hit}'")
    assert problems == [], "source words used as the course's own:\n" + "\n".join(sorted(set(problems)))


def test_the_copy_check_catches_an_unquoted_sentence_and_allows_a_quoted_one(source_runs):
    sentence = "the school nurse made a referral to the community paediatrician, following a review"
    assert _copied(f"On that day {sentence}.", source_runs)
    assert not _copied(f"On that day, in the briefing's words, “{sentence}”.", source_runs)
