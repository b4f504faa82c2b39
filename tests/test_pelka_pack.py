"""Fidelity tests on the real case pack (data/): quotations verbatim, dates supported by the source,
no hindsight in any agency's view, decision contexts held by their role, and the shape other parts of
the course rely on. They read the YAML and the source independently of the loader where it matters, so
a loader bug cannot hide bad data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from course.core import dates, knowledge
from tests.paths import ROOT

PACK = ROOT / "data"
SOURCE_FILE = PACK / "source" / "pelka-scr-briefing.txt"
SHARED_SOURCE = Path("/work/shared/source/pelka-scr-briefing.txt")
ONE_DAY = dt.timedelta(days=1)

AGENCY_IDS = {
    "school",
    "gp",
    "clyp",
    "police",
    "health-visiting",
    "midwifery",
    "school-nursing",
    "community-paediatrics",
    "hospital",
    "education-welfare",
    "ambulance",
    "jsm",
}
THEME_IDS = {
    "rule-of-optimism",
    "start-again",
    "think-the-unthinkable",
    "daniels-voice",
    "interpreters",
    "men-in-household",
    "domestic-abuse-in-isolation",
    "medical-explanation",
    "recording",
    "management-oversight",
    "information-sharing",
    "mandatory-reporting",
    "plausible-parent",
}
MODULES = {
    "m00-welcome": 0,
    "m01-early-years": 1,
    "m02-fracture": 2,
    "m03-pregnancy": 3,
    "m04-school": 4,
    "m05-whole-picture": 5,
}
PACK_FILES = ("agencies", "people", "events", "flows", "themes", "decisions", "modules")


@pytest.fixture(scope="module")
def raw():
    """The pack's YAML as plain data, read without the loader."""
    return {name: yaml.safe_load((PACK / f"{name}.yaml").read_text(encoding="utf-8")) for name in PACK_FILES}


# --------------------------------------------------------------------------- an independent quote checker

_CURLY = {"‘": "'", "’": "'", "“": '"', "”": '"'}


def _norm(text: str) -> str:
    """Our own normaliser: curly to straight quotes, line-broken hyphens joined, whitespace collapsed."""
    for k, v in _CURLY.items():
        text = text.replace(k, v)
    text = re.sub(r"-[ \t]*\n\s*", "-", text)
    return " ".join(text.split())


def _sections() -> dict[str, str]:
    """The source cut at the headings listed in pack.yaml, each body normalised (own implementation)."""
    headings = yaml.safe_load((PACK / "pack.yaml").read_text(encoding="utf-8"))["source"]["sections"]
    lines = SOURCE_FILE.read_text(encoding="utf-8").splitlines()
    marks = []  # (heading line index, body start index, heading)
    i = 0
    for h in headings:
        target = " ".join(h.split())
        while i < len(lines):
            one = " ".join(lines[i].split())
            two = " ".join((lines[i] + " " + (lines[i + 1] if i + 1 < len(lines) else "")).split())
            if one == target:
                marks.append((i, i + 1, h))
                i += 1
                break
            if two == target:
                marks.append((i, i + 2, h))
                i += 2
                break
            i += 1
        else:
            raise AssertionError(f"heading {h!r} not found in the source")
    out = {}
    for n, (_, body, h) in enumerate(marks):
        end = marks[n + 1][0] if n + 1 < len(marks) else len(lines)
        out[h] = _norm("\n".join(lines[body:end]))
    return out


SECTIONS = _sections()
SOURCE_TEXT = _norm(SOURCE_FILE.read_text(encoding="utf-8"))


def _verbatim(quote: str, section: str) -> bool:
    hay = SECTIONS.get(section)
    if hay is None:
        return False
    parts = [p.strip() for p in re.split(r"…|\.\.\.", _norm(quote)) if p.strip()]
    pos = 0
    for p in parts:
        at = hay.find(p, pos)
        if at < 0:
            return False
        pos = at + len(p)
    return bool(parts)


def _walk(node, path=""):
    """Yield (path, mapping) for every mapping in a YAML tree."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for n, v in enumerate(node):
            ident = v.get("id") if isinstance(v, dict) else None
            yield from _walk(v, f"{path}[{ident or n}]")


def _raw_quotes(raw):
    for name, doc in raw.items():
        for path, m in _walk(doc, name):
            if "quote" in m and "section" in m and isinstance(m["quote"], str):
                yield path, m


# --------------------------------------------------------------------------- loading and quotations


def test_pack_loads_with_every_part(pelka_case):
    assert pelka_case.id == "pelka-scr-2013"
    assert pelka_case.agencies and pelka_case.people and pelka_case.events and pelka_case.flows and pelka_case.themes
    assert pelka_case.decisions and pelka_case.modules


def test_every_quotation_in_the_yaml_is_verbatim_in_its_section(raw):
    quotes = list(_raw_quotes(raw))
    assert len(quotes) > 150  # the walk really found the pack's quotations
    bad = [
        f"{path}: {m['quote'][:70]!r} (section {m['section']!r})"
        for path, m in quotes
        if not _verbatim(m["quote"], m["section"])
    ]
    assert not bad, "quotations not verbatim:\n" + "\n".join(bad)


def test_loader_sees_as_many_quotations_as_the_yaml_holds(pelka_case, raw):
    assert len(pelka_case.quotes()) == len(list(_raw_quotes(raw)))


def test_every_quotation_says_whose_words_it_is(raw):
    for path, m in _raw_quotes(raw):
        by = m.get("by", "review")
        assert isinstance(by, str) and by.strip(), path
        if m["section"] == "Comment":
            # the Comment section holds reactions, not the report: the briefing's words or a named speaker's
            assert by != "review", path


def test_the_independent_checker_rejects_paraphrase_and_wrong_section():
    assert _verbatim("Daniel was not seen during this visit.", "Factual information")
    assert not _verbatim("Daniel was not seen at this visit.", "Factual information")
    assert not _verbatim("Daniel was not seen during this visit.", "Comment")
    # a line-broken hyphen and curly quotes are forgiven; words are not
    assert _verbatim("even his school non-attendance", "The Children’s Experiences")
    assert _verbatim('the "rule of optimism" was at play', "Analysis of professional practice")
    # an ellipsis joins parts only in order
    assert _verbatim("No individual practitioner … the training they received", "Summary of findings")
    assert not _verbatim("the training they received … No individual practitioner", "Summary of findings")


def _sections_keeping_quote_marks() -> dict[str, str]:
    """Section bodies with whitespace and line-broken hyphens normalised but curly marks kept. Each is the
    same length as its SECTIONS body, character for character (curly-to-straight maps one to one)."""
    keep = re.sub(r"-[ \t]*\n\s*", "-", SOURCE_FILE.read_text(encoding="utf-8"))
    keep = " ".join(keep.split())
    straight = _norm(keep)
    out = {}
    for heading, body in SECTIONS.items():
        at = straight.find(body)
        assert at >= 0, heading
        out[heading] = keep[at : at + len(body)]
    return out


def _inside_report_quotation(quote: str, section: str, curly: dict[str, str]) -> bool:
    """True when the quotation starts inside a passage the briefing opens with ‘ and has not yet closed:
    the overview report's own words. A closing ’ is one not followed by a letter or digit (so that
    apostrophes such as Daniel’s or ’11 do not count)."""
    first = next(p.strip() for p in re.split(r"…|\.\.\.", _norm(quote)) if p.strip())
    at = SECTIONS[section].find(first)
    before = curly[section][:at]
    opened = before.rfind("‘")
    if opened < 0:
        return False
    between = before[opened + 1 :] + " "
    return not any(c == "’" and not between[n + 1].isalnum() for n, c in enumerate(between[:-1]))


def test_review_quotes_are_inside_the_briefings_quotation_marks(raw):
    curly = _sections_keeping_quote_marks()
    wrong = [
        f"{path}: {m['quote'][:60]!r}"
        for path, m in _raw_quotes(raw)
        if m.get("by", "review") == "review" and not _inside_report_quotation(m["quote"], m["section"], curly)
    ]
    assert not wrong, "marked as the review's words but not inside the briefing's quotation marks:\n" + "\n".join(wrong)


def test_briefing_quotes_do_not_start_inside_the_reports_words(raw):
    curly = _sections_keeping_quote_marks()
    wrong = [
        f"{path}: {m['quote'][:60]!r}"
        for path, m in _raw_quotes(raw)
        if m.get("by") == "briefing" and _inside_report_quotation(m["quote"], m["section"], curly)
    ]
    assert not wrong, "marked as the briefing's words but they are the report's:\n" + "\n".join(wrong)


def test_the_attribution_check_tells_report_words_from_briefing_words():
    curly = _sections_keeping_quote_marks()
    assert _inside_report_quotation("Daniel’s voice was not heard throughout this case.", "Summary of findings", curly)
    assert not _inside_report_quotation("Daniel was not seen during this visit.", "Factual information", curly)
    assert not _inside_report_quotation("practitioners were not prepared to", "Summary of findings", curly)


def test_vendored_source_is_identical_to_the_shared_copy():
    if not SHARED_SOURCE.exists():
        pytest.skip(f"the shared source {SHARED_SOURCE} is not present on this machine")
    assert SOURCE_FILE.read_bytes() == SHARED_SOURCE.read_bytes()


# --------------------------------------------------------------------------- dates


def _raw_dates(raw):
    for name, doc in raw.items():
        for path, m in _walk(doc, name):
            for key in ("date", "date_end", "from", "period_from", "period_to"):
                if key == "from" and "agency" not in m:
                    continue  # a flow's `from` names an agency, not a date
                if key in m and m[key] is not None:
                    yield f"{path}.{key}", str(m[key]), m


def test_no_day_precise_date_is_missing_from_the_source(raw):
    months = dates.MONTHS
    for where, value, _ in _raw_dates(raw):
        _, month, day = dates.parse(value)
        if day:
            # whole numbers: '1 March' is not given by '21 March'
            phrase = f"{day} {months[month - 1]}"
            assert re.search(rf"(?<!\d){phrase}\b", SOURCE_TEXT), f"{where}: {value} has a day the source does not give"


def test_a_day_precise_event_date_is_stated_in_its_date_text(raw):
    for ev in raw["events"]["events"]:
        _, month, day = dates.parse(ev["date"])
        if day:
            assert re.search(rf"(?<!\d){day} {dates.MONTHS[month - 1]}\b", ev["date_text"]), ev["id"]


def test_every_date_lies_within_2005_to_2013(raw):
    found = list(_raw_dates(raw))
    assert len(found) > 150
    for where, value, _ in found:
        assert 2005 <= dates.parse(value)[0] <= 2013, f"{where}: {value}"


def test_derived_dates_say_how_they_follow_from_the_source(pelka_case):
    for e in pelka_case.events:
        assert e.date_text.strip(), e.id
        if e.date_basis == "derived":
            assert len(e.date_note) > 30, e.id


def test_years_implied_by_context_are_explained(pelka_case):
    # The source gives these days without a year; each event says where the year comes from.
    for eid in (
        "daniel-starts-school",
        "school-nurse-referral",
        "deputy-head-calls-gp",
        "text-message-box-room",
        "text-message-salt",
        "computer-searches",
        "post-mortem",
        "charged-with-murder",
        "ewo-home-visit",
    ):
        e = pelka_case.event(eid)
        assert re.search(r"\b20(11|12)\b", e.date_note), eid
        assert str(dates.parse(e.date)[0]) not in e.date_text, eid


def test_aggregates_keep_the_sources_precision(pelka_case):
    da = pelka_case.event("domestic-abuse-incidents")
    assert (da.kind, da.date, da.date_end) == ("aggregate", "2006-11", "2010-12")
    assert "26" in da.title and "26 incidents" in da.source.quote
    jsm = pelka_case.event("joint-screening-meetings")
    assert jsm.kind == "aggregate" and "five" in jsm.source.quote and jsm.date_basis == "derived"
    att = pelka_case.event("attendance-letter")
    assert att.kind == "aggregate" and "64%" in att.source.quote and "64%" in att.title
    hv = pelka_case.event("health-visitor-caseloads")
    assert hv.kind == "aggregate" and "600" in hv.source.quote and "400" in hv.source.quote
    four = pelka_case.event("clyp-four-assessments")
    assert (four.kind, four.date, four.date_end) == ("aggregate", "2008", "2011")
    injuries = pelka_case.event("facial-injuries")
    assert (injuries.date, injuries.date_end) == ("2011-12", "2012-02")


# --------------------------------------------------------------------------- the knowledge invariant


def _days(case):
    days = set()
    for d in knowledge.timeline_days(case):
        days |= {d - ONE_DAY, d}
    for e in case.events:
        days |= {dates.start(e.date), dates.end(e.date), dates.end(e.date_end or e.date)}
    return sorted(days)


def test_knowledge_invariant_for_every_agency_on_every_timeline_day(pelka_case):
    days = _days(pelka_case)
    assert len(days) > 40
    for agency in pelka_case.agencies:
        for day in days:
            view = knowledge.held_by(pelka_case, agency.id, day)
            ids = {e.id for e in view}
            allowed = {
                e.id
                for e in pelka_case.events
                if not e.hindsight and any(k.agency == agency.id and dates.end(k.from_) <= day for k in e.known_to)
            }
            assert ids <= allowed, f"{agency.id} on {day}: {sorted(ids - allowed)}"
            assert not any(e.hindsight for e in view), f"{agency.id} on {day}"
            assert ids == allowed


def test_hindsight_facts_exist_and_appear_in_no_view_on_any_day(pelka_case):
    wanted = {
        "text-message-box-room": "2011-10-07",
        "text-message-salt": "2011-10-21",
        "computer-searches": "2012-03-02",
    }
    for eid, day in wanted.items():
        e = pelka_case.event(eid)
        assert e.hindsight and e.date == day and e.known_to == () and e.emerged_text
    hindsight_ids = {e.id for e in knowledge.hindsight(pelka_case)}
    assert (
        set(wanted) | {"planned-punishments", "anna-told-to-say-nothing", "violence-to-ms-luczak-alleged"}
        <= hindsight_ids
    )
    for day in [*_days(pelka_case), dt.date(2030, 1, 1)]:
        assert not hindsight_ids & {e.id for e in knowledge.whole_picture(pelka_case, day)}
        for a in pelka_case.agencies:
            assert not hindsight_ids & {e.id for e in knowledge.held_by(pelka_case, a.id, day)}


def test_every_hindsight_fact_says_how_it_emerged_and_no_agency_held_it(pelka_case):
    for e in knowledge.hindsight(pelka_case):
        assert e.emerged_text and e.known_to == () and e.agencies == (), e.id


def test_known_to_never_starts_before_the_event(pelka_case):
    for e in pelka_case.events:
        for k in e.known_to:
            assert dates.end(k.from_) >= dates.end(e.date), (e.id, k.agency)


# --------------------------------------------------------------------------- decisions


def test_every_decision_context_is_held_by_its_role_on_its_date(pelka_case):
    for d in pelka_case.decisions:
        held = {e.id for e in knowledge.held_by(pelka_case, d.role, d.date)}
        assert set(d.context) <= held, (d.id, sorted(set(d.context) - held))
        assert not any(pelka_case.event(c).hindsight for c in d.context), d.id


def test_enough_real_decisions_two_to_eight_per_story_module_and_none_after_the_hindsight(pelka_case):
    real = [d for d in pelka_case.decisions if not d.practice]
    assert len(real) >= 12
    for m in ("m01-early-years", "m02-fracture", "m03-pregnancy", "m04-school"):
        n = len([d for d in pelka_case.decisions_in(m) if not d.practice])
        assert 2 <= n <= 8, (m, n)
    # m05 shows what emerged only afterwards: it is the synthesis module and asks no decisions
    assert pelka_case.decisions_in("m05-whole-picture") == ()
    assert all(d.id.startswith("d-") for d in pelka_case.decisions)


def test_practice_decision_is_fictional_and_in_the_welcome_module(pelka_case):
    practice = [d for d in pelka_case.decisions if d.practice]
    assert len(practice) == 1
    p = practice[0]
    assert p.module == "m00-welcome" and p.context == () and not p.review.quotes
    assert "not about Daniel" in p.scenario
    for name in ("Daniel", "Luczak", "Anna", "Krezolek"):
        assert name not in " ".join([p.question] + [o.text for o in p.options])


def test_decision_scoring_follows_the_review(pelka_case):
    for d in pelka_case.decisions:
        assert 3 <= len(d.options) <= 5 or d.practice, d.id
        assert d.max_points > 0
        if not d.multiple:
            assert all(o.points >= 0 for o in d.options), f"{d.id}: negative points only in choose-all questions"
            best = max(d.options, key=lambda o: o.points)
            assert d.score(best.id) == d.max_points
        else:
            positives = [o.id for o in d.options if o.points > 0]
            assert d.score(positives) == d.max_points
            assert d.score([o.id for o in d.options if o.points < 0]) == 0.0
        if not d.practice:
            assert d.review.quotes and d.review.themes and d.learning_together, d.id
            assert d.rationale_prompt and d.scenario and d.question


def test_went_well_is_always_backed_by_a_quotation(pelka_case):
    for d in pelka_case.decisions:
        for w in d.went_well:
            assert w.quote is not None and w.quote.quote, d.id


# --------------------------------------------------------------------------- shape other parts rely on


def test_required_agencies_present_with_short_names(pelka_case):
    ids = {a.id for a in pelka_case.agencies}
    assert ids >= AGENCY_IDS
    for a in pelka_case.agencies:
        assert (a.short and a.short == a.short.lower()) or a.short == "GP", a.id
    assert pelka_case.agency("school-nursing").short == "school nurse"


def test_required_themes_present(pelka_case):
    assert {t.id for t in pelka_case.themes} >= THEME_IDS
    for t in pelka_case.themes:
        assert t.quotes, t.id


def test_named_people_and_their_periods(pelka_case):
    names = {p.name for p in pelka_case.people}
    assert {"Daniel", "Anna", "Adam", "Ms Luczak", "Mr Pelka", "Mr A", "Mr Krezolek"} <= names
    by_id = {p.id: p for p in pelka_case.people}
    assert [(p.date, p.date_end) for p in by_id["mr-pelka"].periods] == [("2005", "2008")]
    assert [(p.date, p.date_end) for p in by_id["mr-a"].periods] == [("2008", "2010")]
    assert by_id["mr-a"].periods[0].date_text == "late 2008 until mid-2010"
    assert by_id["mr-krezolek"].periods[0].date_end == "2012-03-03"
    assert [p.date for p in by_id["adam"].periods] == ["2011-08"]
    for p in pelka_case.people:
        assert p.sources, p.id


def test_modules_are_the_six_fixed_ones(pelka_case):
    assert {m.id: m.order for m in pelka_case.modules} == MODULES
    for m in pelka_case.modules:
        assert 20 <= m.minutes <= 40, m.id
        assert m.objectives and m.key_points and m.agencies and m.learning_together, m.id
        assert pelka_case.events_in(m.id) or m.id == "m00-welcome", m.id
        if m.id != "m00-welcome":
            assert m.period_from and m.period_to and m.reflection, m.id
            levels = [lv.points for lv in m.reflection.rubric]
            assert levels == list(range(m.reflection.points + 1)), m.id
    assert pelka_case.module("m00-welcome").period_from is None


def test_post_death_facts_belong_to_the_whole_picture_and_their_agencies(pelka_case):
    died = pelka_case.event("daniel-dies")
    assert died.module == "m05-whole-picture" and not died.hindsight
    assert {k.agency for k in died.known_to} >= {"hospital", "ambulance"}
    assert pelka_case.event("ambulance-called").known_to[0].agency == "ambulance"
    assert pelka_case.event("post-mortem").date == "2012-03-06"
    assert pelka_case.event("charged-with-murder").date == "2012-03-09"
    trial = pelka_case.event("trial")
    assert (trial.date, trial.date_end) == ("2013-06", "2013-07")
    for eid in (
        "ambulance-called",
        "daniel-dies",
        "referral-after-death",
        "post-mortem",
        "charged-with-murder",
        "trial",
        "guilty-and-sentenced",
    ):
        assert pelka_case.event(eid).module == "m05-whole-picture", eid


def test_own_words_use_the_reviews_spelling_of_ms_luczak(pelka_case):
    wrong = re.compile(r"Lucza?c\b|Lucsak|Mc Lucsak")
    fields = []
    for e in pelka_case.events:
        fields += [(e.id, e.title), (e.id, e.summary), (e.id, e.date_note), (e.id, e.emerged_text)]
    for f in pelka_case.flows:
        fields.append((f.id, f.how))
    for d in pelka_case.decisions:
        fields += [(d.id, d.scenario), (d.id, d.question), (d.id, d.review.summary)]
        fields += [(d.id, o.text) for o in d.options] + [(d.id, o.feedback) for o in d.options]
        fields += [(d.id, w.text) for w in d.went_well]
    for t in pelka_case.themes:
        fields.append((t.id, t.summary))
    for m in pelka_case.modules:
        fields += [(m.id, m.summary)] + [(m.id, k) for k in m.key_points]
    for ident, text in fields:
        assert not wrong.search(text), f"{ident}: {text[:80]!r}"


# --------------------------------------------------------------------------- spot checks


def test_school_nurse_referral_on_12_october_2011(pelka_case):
    e = pelka_case.event("school-nurse-referral")
    assert e.date == "2011-10-12"
    assert {k.agency for k in e.known_to} == {"school-nursing", "community-paediatrics"}
    assert e.id in {x.id for x in knowledge.held_by(pelka_case, "school-nursing", "2011-10-12")}
    assert e.id not in {x.id for x in knowledge.held_by(pelka_case, "school-nursing", "2011-10-11")}


def test_school_view_never_shows_the_school_nurse_referral(pelka_case):
    for day in ("2011-10-11", "2011-10-12", "2012-03-02"):
        assert "school-nurse-referral" not in {x.id for x in knowledge.held_by(pelka_case, "school", day)}


def test_deputy_head_call_on_25_january_2012(pelka_case):
    e = pelka_case.event("deputy-head-calls-gp")
    assert e.date == "2012-01-25" and "25 January" in e.date_text
    assert {k.agency for k in e.known_to} == {"school", "gp"}
    assert e.id not in {x.id for x in knowledge.held_by(pelka_case, "gp", "2012-01-24")}
    assert e.id in {x.id for x in knowledge.held_by(pelka_case, "gp", "2012-01-25")}


def test_mid_december_ewo_visit_keeps_month_precision(pelka_case):
    e = pelka_case.event("ewo-home-visit")
    assert e.date == "2011-12" and "mid-December" in e.date_text
    # a December date counts only once December is over
    assert e.id not in {x.id for x in knowledge.held_by(pelka_case, "education-welfare", "2011-12-30")}
    assert e.id in {x.id for x in knowledge.held_by(pelka_case, "education-welfare", "2011-12-31")}


def test_facial_injuries_are_not_shown_before_the_end_of_february_2012(pelka_case):
    assert "facial-injuries" not in {x.id for x in knowledge.held_by(pelka_case, "school", "2012-02-28")}
    assert "facial-injuries" in {x.id for x in knowledge.held_by(pelka_case, "school", "2012-02-29")}


def test_the_overdose_referral_flow_stopped_with_no_named_referrer(pelka_case):
    f = next(f for f in pelka_case.flows if f.event == "overdose-referral")
    assert f.from_agency is None and f.to_agency == "clyp" and f.status == "stopped" and f.date == "2008-09"


def test_key_flows_are_present(pelka_case):
    flows = {f.id: f for f in pelka_case.flows}
    injuries = flows["facial-injuries-not-reported"]
    assert (injuries.from_agency, injuries.to_agency, injuries.status) == ("school", None, "stopped")
    assert flows["midwife-call-recorded-on-adam-only"].status == "stopped"
    assert flows["police-notifications-inconsistent"].status == "stopped"
    assert (flows["deputy-head-call-to-gp"].to_agency, flows["deputy-head-call-to-gp"].status) == ("gp", "passed")
    assert flows["paediatrician-letter-to-gp"].date == "2012-03-01"
    assert flows["school-letter-to-paediatrician"].status == "passed"
    assert flows["social-worker-seeks-not-shares"].status == "stopped"
    assert flows["closure-not-told-to-health-visitor"].status == "stopped"
    assert {flows["no-formal-medical-report"].status, flows["strategy-meeting-no-minutes"].status} == {"stopped"}


def test_health_visitor_learns_of_closure_only_in_june_2011(pelka_case):
    e = pelka_case.event("health-visitor-learns-closure")
    assert e.date == "2011-06"
    assert "case-closed-2011" not in {x.id for x in knowledge.held_by(pelka_case, "health-visiting", "2011-12-31")}
    assert e.id in {x.id for x in knowledge.held_by(pelka_case, "health-visiting", "2011-06-30")}


def test_the_whole_picture_on_1_march_2012_is_more_than_any_one_agency_held(pelka_case):
    whole = {e.id for e in knowledge.whole_picture(pelka_case, "2012-03-01")}
    for a in pelka_case.agencies:
        assert {e.id for e in knowledge.held_by(pelka_case, a.id, "2012-03-01")} < whole
