"""Load and validate a case pack (a folder of YAML files plus its source) into immutable records.

The engine is case-agnostic: it knows agencies, events and decision points, not any one review.
Every problem found is reported with the file, the entry id and the field (course.core.entries).
"""

from __future__ import annotations

import re
from pathlib import Path

from . import dates
from .entries import CaseError, _entries, _Entry, _Problems, _yaml
from .knowledge import held_by
from .paths import default_pack_dir
from .records import (
    Agency,
    Case,
    Criterion,
    CriterionLevel,
    DecisionPoint,
    Event,
    Flow,
    KnownTo,
    LearningTogether,
    Module,
    Option,
    Period,
    Person,
    Quote,
    Reflection,
    Relationship,
    Review,
    RubricLevel,
    Theme,
    WentWell,
)
from .source import Source, load_source

FLOW_STATUSES = ("passed", "stopped")


DATE_BASES = ("stated", "derived")


def load_case(pack_dir: Path | str | None = None) -> Case:
    """Load and validate the case pack in `pack_dir`; raise CaseError listing every problem."""
    pack_dir = Path(pack_dir) if pack_dir is not None else default_pack_dir()
    problems = _Problems()
    pack_path = pack_dir / "pack.yaml"
    rel_pack = f"{pack_dir.name}/pack.yaml"
    yaml, loader = _yaml()
    try:
        pack = yaml.load(pack_path.read_text(encoding="utf-8"), Loader=loader) or {}
    except FileNotFoundError:
        raise CaseError([f"{rel_pack}: file missing (is {pack_dir} a case pack?)"]) from None
    except yaml.YAMLError as e:
        raise CaseError([f"{rel_pack}: not valid YAML: {e}"]) from None
    meta = _Entry(pack, rel_pack, problems)
    source_meta = meta.sub("source")
    source = None
    if source_meta is not None:
        src_file = source_meta.text("file")
        headings = list(source_meta.texts("sections"))
        try:
            source = load_source(pack_dir / src_file, headings)
        except (OSError, ValueError) as e:
            problems.add(rel_pack, "source", str(e))
    first_year = meta.integer("first_year")
    last_year = meta.integer("last_year")
    if problems.items or source is None:
        raise CaseError(problems.items)

    ctx = _Context(pack_dir, source, first_year, last_year, problems)
    agencies = tuple(_agency(i, e) for i, e in _entries(pack_dir / "agencies.yaml", "agencies", "agency", problems))
    ctx.agencies = {a.id for a in agencies}
    modules = tuple(_module(i, e, ctx) for i, e in _entries(pack_dir / "modules.yaml", "modules", "module", problems))
    ctx.modules = {m.id for m in modules}
    themes = tuple(_theme(i, e, ctx) for i, e in _entries(pack_dir / "themes.yaml", "themes", "theme", problems))
    ctx.themes = {t.id for t in themes}
    people = tuple(_person(i, e, ctx) for i, e in _entries(pack_dir / "people.yaml", "people", "person", problems))
    ctx.people = {p.id for p in people}
    for p in people:
        for n, r in enumerate(p.relationships):
            if r.to not in ctx.people:
                problems.add(
                    f"{pack_dir.name}/people.yaml: person '{p.id}'",
                    f"relationships[{n}].to",
                    f"unknown person '{r.to}'",
                )
    events = tuple(_event(i, e, ctx) for i, e in _entries(pack_dir / "events.yaml", "events", "event", problems))
    ctx.events = {e.id: e for e in events}
    flows = tuple(_flow(i, e, ctx) for i, e in _entries(pack_dir / "flows.yaml", "flows", "flow", problems))
    decisions = tuple(
        _decision(i, e, ctx) for i, e in _entries(pack_dir / "decisions.yaml", "decisions", "decision", problems)
    )
    if problems.items:
        raise CaseError(problems.items)
    case = Case(
        id=str(pack.get("id", pack_dir.name)),
        title=str(pack.get("title", "")),
        version=str(pack.get("version", "0")),
        first_year=first_year,
        last_year=last_year,
        source=source,
        agencies=agencies,
        people=people,
        events=tuple(sorted(events, key=lambda e: e.sort_key)),
        flows=flows,
        themes=themes,
        decisions=decisions,
        modules=tuple(sorted(modules, key=lambda m: m.order)),
        pack_dir=pack_dir,
    )
    _check_decision_contexts(case, problems, pack_dir.name)
    if problems.items:
        raise CaseError(problems.items)
    return case


class _Context:
    def __init__(self, pack_dir, source, first_year, last_year, problems):
        self.pack_dir = pack_dir
        self.source: Source = source
        self.first_year = first_year
        self.last_year = last_year
        self.problems: _Problems = problems
        self.agencies: set[str] = set()
        self.modules: set[str] = set()
        self.themes: set[str] = set()
        self.people: set[str] = set()
        self.events: dict[str, Event] = {}

    def check_date(self, entry: _Entry, name: str, value: str | None, date_text: str = "") -> None:
        """Within the case's years; a day only where the source gives that day."""
        if value is None:
            return
        year, month, day = dates.parse(value)
        if not self.first_year <= year <= self.last_year:
            entry.problems.add(
                entry.where, entry.f(name), f"{value!r} is outside the case ({self.first_year}-{self.last_year})"
            )
        if day and month:
            phrase = f"{day} {dates.MONTHS[month - 1]}"
            # Whole numbers only: '1 March' must not be satisfied by '21 March'.
            stated = re.compile(rf"(?<!\d){phrase}\b")
            if not stated.search(self.source.text):
                entry.problems.add(
                    entry.where, entry.f(name), f"{value!r} gives a day, but '{phrase}' does not appear in the source"
                )
            elif date_text and not stated.search(date_text):
                entry.problems.add(
                    entry.where, entry.f(name), f"{value!r} gives a day that date_text {date_text!r} does not state"
                )

    def agency(self, entry: _Entry, name: str, value: str | None) -> None:
        if value is not None and value not in self.agencies:
            entry.problems.add(entry.where, entry.f(name), f"unknown agency '{value}'")

    def theme_ids(self, entry: _Entry, name: str) -> tuple[str, ...]:
        ids = entry.texts(name, required=False)
        for n, t in enumerate(ids):
            if t not in self.themes:
                entry.problems.add(entry.where, f"{entry.f(name)}[{n}]", f"unknown theme '{t}'")
        return ids

    def module_id(self, entry: _Entry, name: str) -> str:
        value = entry.text(name)
        if value and value not in self.modules:
            entry.problems.add(entry.where, entry.f(name), f"unknown module '{value}'")
        return value

    def quote(self, entry: _Entry | None) -> Quote | None:
        if entry is None:
            return None
        section = entry.text("section")
        text = entry.text("quote")
        by = entry.text("by", required=False, default="review")
        if section and self.source.section(section) is None:
            known = ", ".join(s.heading for s in self.source.sections)
            entry.problems.add(entry.where, entry.f("section"), f"unknown section {section!r} (known: {known})")
        elif section and text and not self.source.find(text, section):
            where_else = [s.heading for s in self.source.sections if self.source.find(text, s.heading)]
            hint = f" (it is in section {where_else[0]!r})" if where_else else ""
            entry.problems.add(
                entry.where, entry.f("quote"), f"quote not found verbatim in section {section!r}{hint}: {text[:70]!r}"
            )
        return Quote(section=section, quote=text, by=by)

    def quotes(self, entry: _Entry, name: str, required: bool = True) -> tuple[Quote, ...]:
        out = []
        for n, raw in enumerate(entry.items(name, required)):
            q = self.quote(_Entry(raw, entry.where, entry.problems, f"{entry.f(name)}[{n}]."))
            if q:
                out.append(q)
        return tuple(out)


def _agency(ident: str, e: _Entry) -> Agency:
    return Agency(ident, e.text("name"), e.text("short"), e.text("description", required=False))


def _theme(ident: str, e: _Entry, ctx: _Context) -> Theme:
    return Theme(ident, e.text("title"), e.text("summary"), ctx.quotes(e, "quotes"))


def _person(ident: str, e: _Entry, ctx: _Context) -> Person:
    rels = []
    for n, raw in enumerate(e.items("relationships", required=False)):
        r = _Entry(raw, e.where, e.problems, f"relationships[{n}].")
        rels.append(Relationship(r.text("to"), r.text("relation")))
    periods = []
    for n, raw in enumerate(e.items("periods", required=False)):
        p = _Entry(raw, e.where, e.problems, f"periods[{n}].")
        date_text = p.text("date_text")
        d = p.date("date")
        ctx.check_date(p, "date", d, date_text)
        d_end = p.date("date_end", required=False)
        ctx.check_date(p, "date_end", d_end)
        periods.append(Period(d or "", d_end, date_text, p.text("text")))
    return Person(ident, e.text("name"), e.text("description"), tuple(rels), tuple(periods), ctx.quotes(e, "sources"))


def _event(ident: str, e: _Entry, ctx: _Context) -> Event:
    date_text = e.text("date_text")
    d = e.date("date")
    ctx.check_date(e, "date", d, date_text)
    d_end = e.date("date_end", required=False)
    ctx.check_date(e, "date_end", d_end)
    if d and d_end and dates.end(d_end) < dates.start(d):
        e.problems.add(e.where, "date_end", f"{d_end!r} is before date {d!r}")
    basis = e.text("date_basis", required=False, default="stated")
    if basis not in DATE_BASES:
        e.problems.add(e.where, "date_basis", f"{basis!r} is not one of {', '.join(DATE_BASES)}")
    note = e.text("date_note", required=False)
    if basis == "derived" and not note:
        e.problems.add(e.where, "date_note", "a derived date must say how it follows from the source")
    agencies = e.texts("agencies", required=False)
    for n, a in enumerate(agencies):
        ctx.agency(e, f"agencies[{n}]", a)
    hindsight = e.boolean("hindsight")
    known = []
    for n, raw in enumerate(e.items("known_to", required=not hindsight)):
        k = _Entry(raw, e.where, e.problems, f"known_to[{n}].")
        agency = k.text("agency")
        ctx.agency(k, "agency", agency or None)
        explicit = k.date("from", required=False)
        ctx.check_date(k, "from", explicit)
        frm = explicit or d
        if frm and d and dates.end(frm) < dates.end(d):
            e.problems.add(
                e.where,
                f"known_to[{n}].from",
                f"{frm!r} ends before the event's date {d!r} does: nothing is known before it happens",
            )
        if agency and frm:
            known.append(KnownTo(agency, frm))
    if hindsight and known:
        e.problems.add(e.where, "known_to", "a hindsight fact was, by definition, held by no agency at the time")
    emerged = e.text("emerged_text", required=hindsight)
    kind = e.text("kind", required=False, default="event")
    if kind not in ("event", "aggregate"):
        e.problems.add(e.where, "kind", f"{kind!r} is not 'event' or 'aggregate'")
    return Event(
        id=ident,
        date=d or "",
        date_text=date_text,
        title=e.text("title"),
        summary=e.text("summary"),
        agencies=agencies,
        known_to=tuple(known),
        hindsight=hindsight,
        themes=ctx.theme_ids(e, "themes"),
        module=ctx.module_id(e, "module"),
        source=ctx.quote(e.sub("source")) or Quote("", ""),
        date_end=d_end,
        date_basis=basis,
        date_note=note,
        emerged_text=emerged,
        kind=kind,
    )


def _flow(ident: str, e: _Entry, ctx: _Context) -> Flow:
    date_text = e.text("date_text")
    d = e.date("date")
    ctx.check_date(e, "date", d, date_text)
    frm = e.raw.get("from")
    to = e.raw.get("to")
    ctx.agency(e, "from", frm)
    ctx.agency(e, "to", to)
    if frm is None and to is None:
        e.problems.add(e.where, "from", "a flow needs at least one of from and to")
    event = e.text("event")
    if event and event not in ctx.events:
        e.problems.add(e.where, "event", f"unknown event '{event}'")
    status = e.text("status")
    if status and status not in FLOW_STATUSES:
        e.problems.add(e.where, "status", f"{status!r} is not one of {', '.join(FLOW_STATUSES)}")
    return Flow(
        ident,
        d or "",
        date_text,
        frm,
        to,
        event,
        status,
        e.text("how"),
        ctx.quote(e.sub("source")) or Quote("", ""),
        ctx.theme_ids(e, "themes"),
    )


def _decision(ident: str, e: _Entry, ctx: _Context) -> DecisionPoint:
    practice = e.boolean("practice")
    role = e.text("role")
    ctx.agency(e, "role", role or None)
    date_text = e.text("date_text")
    d = e.date("date")
    ctx.check_date(e, "date", d, date_text)
    context = e.texts("context", required=not practice)
    for n, c in enumerate(context):
        if c not in ctx.events:
            e.problems.add(e.where, f"context[{n}]", f"unknown event '{c}'")
    options = []
    seen: set[str] = set()
    raw_options = e.items("options")
    low, high = (2, 5) if practice else (3, 5)
    if raw_options and not low <= len(raw_options) <= high:
        e.problems.add(e.where, "options", f"{len(raw_options)} options; a decision needs {low} to {high}")
    for n, raw in enumerate(raw_options):
        o = _Entry(raw, e.where, e.problems, f"options[{n}].")
        oid = o.text("id")
        if oid in seen:
            e.problems.add(e.where, f"options[{n}].id", f"duplicate option id '{oid}'")
        seen.add(oid)
        points = o.integer("points")
        if points < -5 or points > 10:
            e.problems.add(e.where, f"options[{n}].points", f"{points} is outside -5..10")
        options.append(Option(oid, o.text("text"), points, o.text("feedback")))
    if options and max(o.points for o in options) <= 0:
        e.problems.add(e.where, "options", "no option earns any points")
    review_entry = e.sub("review")
    review = Review("", (), ())
    if review_entry is not None:
        review = Review(
            review_entry.text("summary"),
            ctx.quotes(review_entry, "quotes", required=not practice),
            ctx.theme_ids(review_entry, "themes"),
        )
    went_well = []
    for n, raw in enumerate(e.items("went_well", required=False)):
        w = _Entry(raw, e.where, e.problems, f"went_well[{n}].")
        went_well.append(WentWell(w.text("text"), ctx.quote(w.sub("quote", required=False))))
    lt_entry = e.sub("learning_together", required=not practice)
    lt = None
    if lt_entry is not None:
        lt = LearningTogether(lt_entry.text("front_of_mind"), lt_entry.text("would_have_helped"))
    return DecisionPoint(
        id=ident,
        module=ctx.module_id(e, "module"),
        role=role,
        role_title=e.text("role_title"),
        date=d or "",
        date_text=date_text,
        context=context,
        scenario=e.text("scenario"),
        question=e.text("question"),
        multiple=e.boolean("multiple"),
        options=tuple(options),
        rationale_prompt=e.text("rationale_prompt"),
        review=review,
        went_well=tuple(went_well),
        learning_together=lt,
        practice=practice,
        outcome=e.text("outcome", required=False),
        practice_now=e.text("practice_now", required=False),
    )


def _module(ident: str, e: _Entry, ctx: _Context) -> Module:
    p_from = e.date("period_from", required=False)
    p_to = e.date("period_to", required=False)
    ctx.check_date(e, "period_from", p_from)
    ctx.check_date(e, "period_to", p_to)
    reflection = None
    r = e.sub("reflection", required=False)
    if r is not None:
        levels = []
        criteria = _criteria(r, e)
        for n, raw in enumerate(r.items("rubric", required=not criteria)):
            lv = _Entry(raw, e.where, e.problems, f"reflection.rubric[{n}].")
            levels.append(RubricLevel(lv.integer("points"), lv.text("descriptor")))
        points = r.integer("points")
        if levels and max(lv.points for lv in levels) != points:
            e.problems.add(
                e.where, "reflection.rubric", f"the top level must be worth the reflection's {points} points"
            )
        if criteria and sum(c.points for c in criteria) != points:
            e.problems.add(
                e.where,
                "reflection.criteria",
                f"the criteria are worth {sum(c.points for c in criteria)} points; the reflection is worth {points}",
            )
        reflection = Reflection(r.text("prompt"), points, tuple(levels), criteria)
    agencies = e.texts("agencies", required=False)
    for n, a in enumerate(agencies):
        ctx.agency(e, f"agencies[{n}]", a)
    return Module(
        id=ident,
        order=e.integer("order"),
        title=e.text("title"),
        period_from=p_from,
        period_to=p_to,
        period_text=e.text("period_text"),
        minutes=e.integer("minutes"),
        summary=e.text("summary"),
        objectives=e.texts("objectives"),
        key_points=e.texts("key_points"),
        agencies=agencies,
        reflection=reflection,
        learning_together=e.texts("learning_together", required=False),
    )


def _criteria(r: _Entry, e: _Entry) -> tuple[Criterion, ...]:
    """The reflection's analytic mark scheme: each criterion with a level for every score from 0 to its points."""
    out = []
    seen: set[str] = set()
    for n, raw in enumerate(r.items("criteria", required=False)):
        c = _Entry(raw, e.where, e.problems, f"reflection.criteria[{n}].")
        cid = c.text("id")
        if cid in seen:
            e.problems.add(e.where, f"reflection.criteria[{n}].id", f"duplicate criterion id '{cid}'")
        seen.add(cid)
        points = c.integer("points")
        levels = []
        for m, raw_level in enumerate(c.items("levels")):
            lv = _Entry(raw_level, e.where, e.problems, f"reflection.criteria[{n}].levels[{m}].")
            levels.append(CriterionLevel(lv.integer("points"), lv.text("descriptor"), lv.text("anchor")))
        if sorted(lv.points for lv in levels) != list(range(points + 1)):
            e.problems.add(
                e.where, f"reflection.criteria[{n}].levels", f"needs one level for each score from 0 to {points}"
            )
        out.append(Criterion(cid, c.text("text"), points, tuple(sorted(levels, key=lambda lv: lv.points))))
    return tuple(out)


def _check_decision_contexts(case: Case, problems: _Problems, pack_name: str) -> None:
    """Every decision's context must be held by its role on its date (the knowledge invariant)."""
    for d in case.decisions:
        if not d.date:
            continue
        held = {e.id for e in held_by(case, d.role, d.date)}
        for n, c in enumerate(d.context):
            if c not in held:
                ev = case.event(c)
                why = (
                    "it is hindsight"
                    if ev.hindsight
                    else f"the {case.agency(d.role).short} did not hold it by {d.date_text}"
                )
                problems.add(
                    f"{pack_name}/decisions.yaml: decision '{d.id}'",
                    f"context[{n}]",
                    f"event '{c}' cannot be shown to this role: {why}",
                )
