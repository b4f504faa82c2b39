"""Decisions that test judgement (issue 16, the case pack's half): a test-wise trainee cannot pass by picking
the longest option or ticking every box; every decision says what actually happened and what good practice
looks like now; reflections have criteria two markers would apply alike; no review judgement or later
knowledge sits in an agency's at-the-time view; the missed opportunities the review names each have a
decision; and nothing is asked after the hindsight material.

Each test reads the real pack (data/). New fields the loader does not know yet (`outcome`, `practice_now`,
`criteria`) are read from the YAML directly."""

from __future__ import annotations

import math
import re

import pytest
import yaml

from tests.paths import DATA, NARRATIVES

PACK = DATA

# The targets a test-wise strategy must not reach (share of the points available, practice decisions excluded).
LONGEST_SINGLE_MAX = 0.45  # always pick the longest option in every single-choice decision
EVERY_BOX_MAX = 0.40  # tick every box in every choose-all decision
LONGEST_HALF_MAX = 0.45  # tick the ceil(n/2) longest options in every choose-all decision


@pytest.fixture(scope="module")
def raw():
    return {
        name: yaml.safe_load((PACK / f"{name}.yaml").read_text(encoding="utf-8"))
        for name in ("events", "decisions", "modules")
    }


def _real(case):
    return [d for d in case.decisions if not d.practice]


def _score(d, chosen) -> float:
    """The engine's rule, spelt out here so that a change to the engine cannot move the targets: one option's
    points; for choose-all, the sum of the chosen options' points clamped to [0, sum of positive points]."""
    points = {o.id: o.points for o in d.options}
    if not d.multiple:
        (only,) = chosen
        return float(points[only])
    top = sum(p for p in points.values() if p > 0)
    return float(max(0, min(sum(points[c] for c in chosen), top)))


def _longest_first(d):
    return sorted(d.options, key=lambda o: len(o.text), reverse=True)


# --------------------------------------------------------------------------- no cue in the options


def test_the_scoring_rule_here_is_the_engines(pelka_case):
    for d in _real(pelka_case):
        for o in d.options:
            assert _score(d, [o.id]) == d.score(o.id if not d.multiple else [o.id]), (d.id, o.id)
        if d.multiple:
            every = [o.id for o in d.options]
            assert _score(d, every) == d.score(every), d.id


def test_always_picking_the_longest_option_earns_at_most_45_percent_of_single_choice_points(pelka_case):
    single = [d for d in _real(pelka_case) if not d.multiple]
    assert len(single) >= 8
    earned = sum(_score(d, [_longest_first(d)[0].id]) for d in single)
    available = sum(d.max_points for d in single)
    assert earned / available <= LONGEST_SINGLE_MAX, f"longest option earns {earned}/{available}"


def test_ticking_every_box_earns_at_most_40_percent_of_choose_all_points(pelka_case):
    multi = [d for d in _real(pelka_case) if d.multiple]
    assert len(multi) >= 4
    earned = sum(_score(d, [o.id for o in d.options]) for d in multi)
    available = sum(d.max_points for d in multi)
    assert earned / available <= EVERY_BOX_MAX, f"every box earns {earned}/{available}"


def test_ticking_the_longest_half_earns_at_most_45_percent_of_choose_all_points(pelka_case):
    multi = [d for d in _real(pelka_case) if d.multiple]
    earned = sum(_score(d, [o.id for o in _longest_first(d)[: math.ceil(len(d.options) / 2)]]) for d in multi)
    available = sum(d.max_points for d in multi)
    assert earned / available <= LONGEST_HALF_MAX, f"the longest half earns {earned}/{available}"


def test_every_choose_all_decision_has_a_pick_that_costs_points(pelka_case):
    for d in _real(pelka_case):
        if d.multiple:
            assert any(o.points < 0 for o in d.options), d.id
            assert _score(d, [o.id for o in d.options]) < d.max_points, d.id


# Phrases that tell a test-wise trainee an option is wrong: the real action without its local rationality.
SELF_INCRIMINATING = (
    "accept her answer",
    "accept her explanation",
    "so that is enough",
    "she knows him best",
    "the worker is experienced",
    "as the adults agree the problem is over",
    "ask ms luczak to translate",
    "this is what happened",
)


def test_no_option_carries_a_self_incriminating_phrase(pelka_case):
    for d in pelka_case.decisions:
        for o in d.options:
            text = o.text.lower()
            assert not [p for p in SELF_INCRIMINATING if p in text], (d.id, o.id, o.text)
            assert len(o.feedback.split()) >= 8, f"{d.id}/{o.id}: feedback should explain, not only assert"


# --------------------------------------------------------------------------- what happened, and practice now


def test_every_real_decision_says_what_happened_and_what_good_practice_is_now(raw):
    decisions = raw["decisions"]["decisions"]
    assert decisions
    for d in decisions:
        if d.get("practice"):
            continue
        for field in ("outcome", "practice_now"):
            value = d.get(field)
            assert isinstance(value, str) and len(value.split()) >= 8, f"{d['id']}: {field} missing or too short"


# --------------------------------------------------------------------------- reflections two markers grade alike


def _full_sentence(text) -> bool:
    return isinstance(text, str) and text.strip().endswith(".") and len(text.split()) >= 5


def test_every_reflection_has_criteria_worth_its_points_with_a_descriptor_and_anchor_per_level(raw):
    for m in raw["modules"]["modules"]:
        r = m.get("reflection")
        assert r, m["id"]
        criteria = r.get("criteria")
        assert criteria, f"{m['id']}: reflection has no criteria"
        assert sum(c["points"] for c in criteria) == r["points"], m["id"]
        ids = [c["id"] for c in criteria]
        assert len(ids) == len(set(ids)), m["id"]
        for c in criteria:
            assert isinstance(c.get("text"), str) and c["text"].strip(), (m["id"], c["id"])
            assert [lv["points"] for lv in c["levels"]] == list(range(c["points"] + 1)), (m["id"], c["id"])
            for lv in c["levels"]:
                assert _full_sentence(lv.get("descriptor")), (m["id"], c["id"], lv.get("descriptor"))
                assert isinstance(lv.get("anchor"), str) and len(lv["anchor"].split()) >= 4, (m["id"], c["id"])


def test_every_rubric_and_criterion_descriptor_is_a_full_sentence(raw):
    for m in raw["modules"]["modules"]:
        r = m["reflection"]
        for lv in r["rubric"]:
            # an unquoted flow mapping is cut at its first comma: the rest becomes a key of its own
            assert set(lv) == {"points", "descriptor"}, (m["id"], lv)
            assert _full_sentence(lv["descriptor"]), (m["id"], lv["points"], lv["descriptor"])
        for c in r.get("criteria", []):
            for lv in c["levels"]:
                assert _full_sentence(lv["descriptor"]), (m["id"], c["id"], lv["descriptor"])


def test_the_loader_reads_each_rubric_descriptor_whole(pelka_case, raw):
    by_id = {m["id"]: m for m in raw["modules"]["modules"]}
    for m in pelka_case.modules:
        assert [lv.descriptor for lv in m.reflection.rubric] == [
            lv["descriptor"].strip() for lv in by_id[m.id]["reflection"]["rubric"]
        ], m.id


# --------------------------------------------------------------------------- at-the-time views hold no judgement

# The review's later judgement, in words we took out of at-the-time views; none may come back.
JUDGEMENT_PHRASES = (
    "poor quality",
    "not picked up",
    "should have",
    "shouldn't have",
    "shouldn’t have",
    "it is not now clear",
    "not now clear",
    "the review found",
    "the review says",
    "failed to",
    "failure to",
    "wrongly",
    "no proactive response",
    "face value",
    "rule of optimism",
    "missed opportunit",
    "not properly recorded",
    "inappropriate",
    "recorded only on",
    "no record on the clyp file",
)


def test_no_review_judgement_in_an_agencys_at_the_time_view(pelka_case):
    for e in pelka_case.events:
        if e.hindsight or not e.known_to:
            continue
        text = f"{e.title} {e.summary}".lower()
        found = [p for p in JUDGEMENT_PHRASES if p in text]
        assert not found, f"event '{e.id}' (held by {[k.agency for k in e.known_to]}): {found}"


# (event, agency) pairs the source says the agency did not hold, or held only inside another agency's record.
NOT_HELD = [
    # "There was however no corresponding record on the CLYP file in respect of this referral"
    ("overdose-referral", "clyp"),
    # the call was "recorded on Adam's CLYP file only": CLYP's own record, not something the midwife held
    ("call-recorded-on-adams-file", "midwifery"),
    # the health visitor learned of the closure only in June 2011 ("to be told that the case had already been closed")
    ("case-closed-2011", "health-visiting"),
    # "None of these injuries were reported to CLYP or the police."
    ("facial-injuries", "clyp"),
    ("facial-injuries", "police"),
    # the later evidence: "none of them were known to professionals who were working with the family"
    ("planned-punishments", "school"),
    ("text-message-box-room", "police"),
]


@pytest.mark.parametrize(("event_id", "agency"), NOT_HELD)
def test_an_event_the_source_says_an_agency_did_not_hold_is_not_in_its_view(pelka_case, event_id, agency):
    event = pelka_case.event(event_id)
    assert agency not in {k.agency for k in event.known_to}, (event_id, agency)


def test_the_midwifes_view_of_the_call_does_not_say_where_clyp_recorded_it(pelka_case):
    call = pelka_case.event("midwife-consults-clyp")
    assert "midwifery" in {k.agency for k in call.known_to}
    assert "adam's" not in call.summary.lower() and "file" not in call.summary.lower()


# --------------------------------------------------------------------------- coverage and the hindsight order

NEW_DECISIONS = {
    "d-antenatal-missed": ("m03-pregnancy", "midwifery"),  # four missed antenatal appointments
    "d-police-callout": ("m01-early-years", "police"),  # call-outs where an immediate referral was needed
    "d-ewo-visit": ("m04-school", "education-welfare"),  # food and attendance, the EWO visit (Nov-Dec 2011)
    "d-first-facial-injury": ("m04-school", "school"),  # the first facial injuries seen at school
    "d-absence-2-march": ("m04-school", "school"),  # the unexplained absence on 2 March 2012
}


def test_each_missed_opportunity_the_review_names_has_a_decision(pelka_case):
    ids = {d.id for d in pelka_case.decisions}
    for did, (module, role) in NEW_DECISIONS.items():
        assert did in ids, did
        d = pelka_case.decision(did)
        assert (d.module, d.role, d.practice) == (module, role, False), did
    assert pelka_case.decision("d-first-facial-injury").date.startswith("2011-12")
    assert pelka_case.decision("d-absence-2-march").date == "2012-03-02"


def test_real_decisions_are_spread_over_the_roles(pelka_case):
    roles = {d.role for d in _real(pelka_case)}
    assert {
        "police",
        "gp",
        "school-nursing",
        "education-welfare",
        "midwifery",
        "clyp",
        "school",
        "health-visiting",
        "community-paediatrics",
    } <= roles


def _markers(module_id: str) -> list[tuple[int, str, str]]:
    text = (NARRATIVES / f"{module_id}.md").read_text(encoding="utf-8")
    out = []
    for n, line in enumerate(text.splitlines()):
        m = re.fullmatch(r"\{\{\s*([a-z_]+)(?:\s+([A-Za-z0-9_.-]+))?\s*\}\}", line.strip())
        if m:
            out.append((n, m.group(1), m.group(2) or ""))
    return out


def test_no_decision_is_asked_after_the_hindsight_material(pelka_case):
    hindsight_modules = {e.module for e in pelka_case.events if e.hindsight}
    assert "m05-whole-picture" in hindsight_modules
    assert pelka_case.decisions_in("m05-whole-picture") == ()
    for module_id in hindsight_modules:
        markers = _markers(module_id)
        lens = next(n for n, kind, _ in markers if kind == "lens")  # the lens carries the hindsight panel
        late = [arg for n, kind, arg in markers if kind in ("decision", "decisions") and n > lens]
        assert not late, f"{module_id}: decisions after the hindsight material: {late}"
        assert not list(pelka_case.decisions_in(module_id)), module_id


def test_moved_decisions_sit_in_the_module_of_their_date(pelka_case):
    assert pelka_case.decision("d-manager-closure").module == "m02-fracture"
    assert pelka_case.decision("d-daniels-voice").module == "m04-school"
    order = [arg for _, kind, arg in _markers("m02-fracture") if kind == "decision"]
    assert order.index("d-manager-closure") > order.index("d-core-assessment-2011")
    order = [arg for _, kind, arg in _markers("m04-school") if kind == "decision"]
    assert order.index("d-school-nurse-visit") < order.index("d-daniels-voice") < order.index("d-gp-call")


# --------------------------------------------------------------------------- the time fence, in prose

# Outcomes and verdicts that must not be shown before the decisions they belong to.
SPOILERS = (
    "no referral is made",
    "advises against a referral",
    "recorded only on",
    "face value",
    "taken to mean",
    "takes inconclusive",
    "the case is closed",
    "closed in may",
    "not reported",
    "looks for medical causes",
    "abuse was not considered",
    "nobody referred",
    "should have",
    "move the slider on to june",
    "hid the pattern",
    "called for abuse to be considered",
)


def test_module_summaries_and_objectives_do_not_give_away_the_decisions(pelka_case):
    for m in pelka_case.modules:
        if not pelka_case.decisions_in(m.id):
            continue
        text = " ".join([m.summary, *m.objectives]).lower()
        assert not [s for s in SPOILERS if s in text], m.id


def test_narrative_before_the_last_decision_gives_nothing_away(pelka_case):
    for m in pelka_case.modules:
        markers = _markers(m.id)
        last = max((n for n, kind, _ in markers if kind in ("decision", "decisions")), default=None)
        if last is None:
            continue
        lines = (NARRATIVES / f"{m.id}.md").read_text(encoding="utf-8").splitlines()[:last]
        before = " ".join(line for line in lines if not line.startswith("%%")).lower()
        assert not [s for s in SPOILERS if s in before], m.id


def test_rationale_prompts_are_neutral_and_all_different(pelka_case):
    prompts = [d.rationale_prompt for d in _real(pelka_case)]
    assert len(set(prompts)) == len(prompts)
    for d in _real(pelka_case):
        text = d.rationale_prompt.lower()
        assert not [w for w in ("abuse", "interpreter", "refer", "history", "hindsight") if w in text], d.id


# --------------------------------------------------------------------------- the new fields are our own words

_RUN = 10


def _words(text: str) -> list[str]:
    for a, b in (("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"')):
        text = text.replace(a, b)
    text = re.sub(r"-[ \t]*\n\s*", "-", text)
    return re.findall(r"[a-z0-9½]+", text.lower())


def _runs(words):
    return {tuple(words[i : i + _RUN]) for i in range(len(words) - _RUN + 1)}


def test_new_own_words_fields_copy_no_unquoted_run_of_the_source(pelka_case, raw):
    source = _runs(_words(pelka_case.source.raw))
    texts = []
    for d in raw["decisions"]["decisions"]:
        texts += [(d["id"], d.get("outcome") or ""), (d["id"], d.get("practice_now") or "")]
    for m in raw["modules"]["modules"]:
        for c in m["reflection"].get("criteria", []):
            texts.append((m["id"], c["text"]))
            texts += [(m["id"], lv["descriptor"]) for lv in c["levels"]]
            texts += [(m["id"], lv["anchor"]) for lv in c["levels"]]
    copied = []
    for where, text in texts:
        unquoted = re.sub(r"“[^”]*”|\"[^\"]*\"", " | ", text)
        for part in unquoted.split("|"):
            copied += [f"{where}: {' '.join(r)}" for r in _runs(_words(part)) & source]
    assert copied == []
