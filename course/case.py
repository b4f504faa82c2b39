"""Load and validate a case pack (a folder of YAML files plus its source) into immutable records.

The engine is case-agnostic: it knows agencies, events and decision points, not any one review.
Every problem found is reported with the file, the entry id and the field, so that a content
author can act on it without reading Python.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import dates
from .source import Source, load_source

PACK_FILES = ("agencies", "people", "events", "flows", "themes", "decisions", "modules")
FLOW_STATUSES = ("passed", "stopped")
DATE_BASES = ("stated", "derived")
_YAML_LOADER = None  # the YAML loader to use; None: the fastest one available (a benchmark sets the slow one)


def _yaml():
    """PyYAML and its fastest safe loader. Imported when a pack is parsed, not when the course is imported: a
    notebook kernel loads the cached pack and never parses YAML (importing yaml was 8 ms of the first cell).
    libyaml's safe loader, when PyYAML was built with it, reads the same documents about ten times faster
    (parsing dominated load_case for the real pack: ~0.8 s with the pure-Python loader)."""
    import yaml

    return yaml, _YAML_LOADER or getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def default_pack_dir() -> Path:
    """The case pack this installation teaches: $COURSE_DATA, else the project's data/ folder."""
    env = os.environ.get("COURSE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data"


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Quote:
    """A verbatim passage of the source, with the section it stands in and whose words they are."""

    section: str
    quote: str
    by: str = "review"  # "review": the overview report, as quoted in the briefing; "briefing": the
    # briefing's own summary; anything else names the speaker (e.g. "Andrew Webb, ADCS")

    @property
    def attribution(self) -> str:
        if self.by == "review":
            return f"Serious Case Review overview report, quoted in the briefing ({self.section})"
        if self.by == "briefing":
            return f"LGIU briefing on the review ({self.section})"
        return f"{self.by}, quoted in the briefing ({self.section})"


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    short: str
    description: str = ""


@dataclass(frozen=True)
class Relationship:
    to: str
    relation: str


@dataclass(frozen=True)
class Period:
    date: str
    date_end: str | None
    date_text: str
    text: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    description: str
    relationships: tuple[Relationship, ...]
    periods: tuple[Period, ...]
    sources: tuple[Quote, ...]


@dataclass(frozen=True)
class KnownTo:
    agency: str
    from_: str  # partial date from which the agency held the fact

    @property
    def from_day(self):
        return dates.end(self.from_)


@dataclass(frozen=True)
class Event:
    id: str
    date: str
    date_text: str
    title: str
    summary: str
    agencies: tuple[str, ...]
    known_to: tuple[KnownTo, ...]
    hindsight: bool
    themes: tuple[str, ...]
    module: str
    source: Quote
    date_end: str | None = None
    date_basis: str = "stated"
    date_note: str = ""
    emerged_text: str = ""  # for hindsight facts: how and when they came to light
    kind: str = "event"  # "event", or "aggregate" for counts and patterns over a period

    @property
    def date_label(self) -> str:
        return self.date_text

    @property
    def sort_key(self):
        return (dates.start(self.date), dates.end(self.date), self.id)


@dataclass(frozen=True)
class Flow:
    """Information moving (or failing to move) between agencies."""

    id: str
    date: str
    date_text: str
    from_agency: str | None  # None where the source does not say who
    to_agency: str | None  # None where the information reached nobody
    event: str
    status: str  # "passed" or "stopped"
    how: str  # own words: what happened to the information
    source: Quote
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Theme:
    id: str
    title: str
    summary: str
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    points: int
    feedback: str


@dataclass(frozen=True)
class Review:
    summary: str
    quotes: tuple[Quote, ...]
    themes: tuple[str, ...]


@dataclass(frozen=True)
class WentWell:
    text: str
    quote: Quote | None


@dataclass(frozen=True)
class LearningTogether:
    front_of_mind: str
    would_have_helped: str


@dataclass(frozen=True)
class DecisionPoint:
    id: str
    module: str
    role: str
    role_title: str
    date: str
    date_text: str
    context: tuple[str, ...]
    scenario: str
    question: str
    multiple: bool
    options: tuple[Option, ...]
    rationale_prompt: str
    review: Review
    went_well: tuple[WentWell, ...]
    learning_together: LearningTogether | None
    practice: bool = False

    @property
    def max_points(self) -> int:
        if self.multiple:
            return sum(o.points for o in self.options if o.points > 0)
        return max(o.points for o in self.options)

    def option(self, option_id: str) -> Option | None:
        for o in self.options:
            if o.id == option_id:
                return o
        return None

    def score(self, choice: str | list[str] | tuple[str, ...] | None) -> float:
        """Points for a choice: the option's points, or for multiple choice the sum of the chosen
        options' points (wrong picks may subtract), kept between 0 and max_points."""
        if choice is None:
            return 0.0
        chosen = [choice] if isinstance(choice, str) else list(choice)
        if not chosen or (not self.multiple and len(chosen) != 1):
            return 0.0
        total = 0
        for cid in dict.fromkeys(chosen):
            opt = self.option(cid)
            if opt is None:
                return 0.0
            total += opt.points
        return float(max(0, min(total, self.max_points)))


@dataclass(frozen=True)
class RubricLevel:
    points: int
    descriptor: str


@dataclass(frozen=True)
class Reflection:
    prompt: str
    points: int
    rubric: tuple[RubricLevel, ...]


@dataclass(frozen=True)
class Module:
    id: str
    order: int
    title: str
    period_from: str | None
    period_to: str | None
    period_text: str
    minutes: int
    summary: str
    objectives: tuple[str, ...]
    key_points: tuple[str, ...]
    agencies: tuple[str, ...]
    reflection: Reflection | None
    learning_together: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    version: str
    first_year: int
    last_year: int
    source: Source
    agencies: tuple[Agency, ...]
    people: tuple[Person, ...]
    events: tuple[Event, ...]
    flows: tuple[Flow, ...]
    themes: tuple[Theme, ...]
    decisions: tuple[DecisionPoint, ...]
    modules: tuple[Module, ...]
    pack_dir: Path = field(compare=False, default=Path("."))

    def agency(self, agency_id: str) -> Agency:
        return _index(self.agencies)[agency_id]

    def event(self, event_id: str) -> Event:
        return _index(self.events)[event_id]

    def decision(self, decision_id: str) -> DecisionPoint:
        return _index(self.decisions)[decision_id]

    def module(self, module_id: str) -> Module:
        return _index(self.modules)[module_id]

    def theme(self, theme_id: str) -> Theme:
        return _index(self.themes)[theme_id]

    def decisions_in(self, module_id: str) -> tuple[DecisionPoint, ...]:
        return tuple(d for d in self.decisions if d.module == module_id)

    def events_in(self, module_id: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.module == module_id)

    def quotes(self) -> list[tuple[str, Quote]]:
        """Every quotation in the pack, with where it is used."""
        out: list[tuple[str, Quote]] = []
        out += [(f"events.yaml: event '{e.id}'", e.source) for e in self.events]
        out += [(f"flows.yaml: flow '{f.id}'", f.source) for f in self.flows]
        for p in self.people:
            out += [(f"people.yaml: person '{p.id}'", q) for q in p.sources]
        for t in self.themes:
            out += [(f"themes.yaml: theme '{t.id}'", q) for q in t.quotes]
        for d in self.decisions:
            out += [(f"decisions.yaml: decision '{d.id}'", q) for q in d.review.quotes]
            out += [(f"decisions.yaml: decision '{d.id}'", w.quote) for w in d.went_well if w.quote]
        return out


def _index(items):
    return {i.id: i for i in items}


# --------------------------------------------------------------------------- errors


class CaseError(Exception):
    """One or more problems in a case pack; `problems` lists each as 'file: entry: field: message'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        head = f"{len(problems)} problem(s) in the case pack:"
        super().__init__("\n".join([head, *("  - " + p for p in problems)]))


class _Problems:
    def __init__(self):
        self.items: list[str] = []

    def add(self, where: str, field_: str, message: str) -> None:
        self.items.append(f"{where}: {field_}: {message}" if field_ else f"{where}: {message}")


class _Entry:
    """Typed access to one YAML mapping that records problems instead of raising."""

    def __init__(self, raw: Any, where: str, problems: _Problems, prefix: str = ""):
        self.raw = raw if isinstance(raw, dict) else {}
        self.where = where
        self.problems = problems
        self.prefix = prefix
        if not isinstance(raw, dict):
            problems.add(where, prefix.rstrip("."), "expected a mapping of fields")

    def f(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def text(self, name: str, required: bool = True, default: str = "") -> str:
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return default
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.problems.add(self.where, self.f(name), f"expected text, got {type(value).__name__}")
            return default
        return str(value).strip()

    def integer(self, name: str, required: bool = True, default: int = 0) -> int:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            self.problems.add(self.where, self.f(name), f"expected a whole number, got {value!r}")
            return default
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            self.problems.add(self.where, self.f(name), f"expected true or false, got {value!r}")
            return default
        return value

    def items(self, name: str, required: bool = True) -> list:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return []
        if not isinstance(value, list):
            self.problems.add(self.where, self.f(name), "expected a list")
            return []
        return value

    def texts(self, name: str, required: bool = True) -> tuple[str, ...]:
        out = []
        for i, v in enumerate(self.items(name, required)):
            if not isinstance(v, str) or not v.strip():
                self.problems.add(self.where, f"{self.f(name)}[{i}]", "expected non-empty text")
            else:
                out.append(v.strip())
        return tuple(out)

    def sub(self, name: str, required: bool = True) -> _Entry | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return None
        return _Entry(value, self.where, self.problems, f"{self.f(name)}.")

    def date(self, name: str, required: bool = True) -> str | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return None
        try:
            dates.parse(value)
        except dates.DateError as e:
            self.problems.add(self.where, self.f(name), str(e))
            return None
        return value


# --------------------------------------------------------------------------- loading


def _read_yaml(path: Path, key: str, problems: _Problems) -> list:
    rel = f"{path.parent.name}/{path.name}"
    if not path.exists():
        problems.add(rel, "", "file missing")
        return []
    yaml, loader = _yaml()
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as e:
        problems.add(rel, "", f"not valid YAML: {e}")
        return []
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get(key, []), list):
        problems.add(rel, key, f"expected a top-level '{key}:' list")
        return []
    return doc.get(key) or []


def _entries(path: Path, key: str, kind: str, problems: _Problems) -> list[tuple[str, _Entry]]:
    """(id, entry) for each list item, reporting missing and duplicate ids."""
    rel = f"{path.parent.name}/{path.name}"
    seen: set[str] = set()
    out = []
    for i, raw in enumerate(_read_yaml(path, key, problems)):
        ident = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(ident, str) or not ident.strip():
            problems.add(f"{rel}: {kind} #{i + 1}", "id", "missing")
            continue
        where = f"{rel}: {kind} '{ident}'"
        if ident in seen:
            problems.add(where, "id", "duplicate id")
            continue
        seen.add(ident)
        out.append((ident, _Entry(raw, where, problems)))
    return out


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
                problems.add(f"{pack_dir.name}/people.yaml: person '{p.id}'", f"relationships[{n}].to",
                             f"unknown person '{r.to}'")
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


_LOADED: dict[str, Case] = {}


def _pack_fingerprint(pack_dir: Path) -> str:
    """A digest of every file in the pack (path, size, mtime and content), the loader's own code and Python."""
    from . import cache

    here = Path(__file__).resolve().parent
    parts: list[bytes | str] = [str(pack_dir.resolve()), sys.version,
                                cache.code_version(here / "case.py", here / "source.py", here / "dates.py")]
    for f in sorted(p for p in pack_dir.rglob("*") if p.is_file()):
        st = f.stat()
        parts += [str(f.relative_to(pack_dir)), f"{st.st_size} {st.st_mtime_ns}", f.read_bytes()]
    return cache.digest(*parts)


def load_case_cached(pack_dir: Path | str | None = None) -> Case:
    """`load_case`, reusing a case already loaded and validated from exactly the same files: kept per process
    and pickled in the per-user cache (course.cache). Any change to any file in the pack, or to the loader's
    code, means a fresh, fully validated load. `course check` never uses this."""
    from . import cache

    pack_dir = Path(pack_dir) if pack_dir is not None else default_pack_dir()
    try:
        key = _pack_fingerprint(pack_dir)
    except OSError:
        return load_case(pack_dir)  # let the loader report a missing or unreadable pack
    case = _LOADED.get(key)
    if case is not None:
        return case
    name = f"case-{key}.pickle"
    payload = cache.get(name)
    if payload is not None:
        try:
            case = pickle.loads(payload)
        except Exception:  # an entry from other code or damaged: load afresh and overwrite it
            case = None
        if not isinstance(case, Case):
            case = None
    if case is None:
        case = load_case(pack_dir)
        try:
            cache.put(name, pickle.dumps(case, protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError):
            pass
    _LOADED[key] = case
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
            entry.problems.add(entry.where, entry.f(name),
                               f"{value!r} is outside the case ({self.first_year}-{self.last_year})")
        if day:
            phrase = f"{day} {dates.MONTHS[month - 1]}"
            # Whole numbers only: '1 March' must not be satisfied by '21 March'.
            stated = re.compile(rf"(?<!\d){phrase}\b")
            if not stated.search(self.source.text):
                entry.problems.add(entry.where, entry.f(name),
                                   f"{value!r} gives a day, but '{phrase}' does not appear in the source")
            elif date_text and not stated.search(date_text):
                entry.problems.add(entry.where, entry.f(name),
                                   f"{value!r} gives a day that date_text {date_text!r} does not state")

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
            entry.problems.add(entry.where, entry.f("quote"),
                               f"quote not found verbatim in section {section!r}{hint}: {text[:70]!r}")
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
    return Person(ident, e.text("name"), e.text("description"), tuple(rels), tuple(periods),
                  ctx.quotes(e, "sources"))


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
            e.problems.add(e.where, f"known_to[{n}].from",
                           f"{frm!r} ends before the event's date {d!r} does: nothing is known before it happens")
        if agency and frm:
            known.append(KnownTo(agency, frm))
    if hindsight and known:
        e.problems.add(e.where, "known_to", "a hindsight fact was, by definition, held by no agency at the time")
    emerged = e.text("emerged_text", required=hindsight)
    kind = e.text("kind", required=False, default="event")
    if kind not in ("event", "aggregate"):
        e.problems.add(e.where, "kind", f"{kind!r} is not 'event' or 'aggregate'")
    return Event(
        id=ident, date=d or "", date_text=date_text, title=e.text("title"), summary=e.text("summary"),
        agencies=agencies, known_to=tuple(known), hindsight=hindsight, themes=ctx.theme_ids(e, "themes"),
        module=ctx.module_id(e, "module"), source=ctx.quote(e.sub("source")) or Quote("", ""),
        date_end=d_end, date_basis=basis, date_note=note, emerged_text=emerged, kind=kind,
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
    return Flow(ident, d or "", date_text, frm, to, event, status, e.text("how"),
                ctx.quote(e.sub("source")) or Quote("", ""), ctx.theme_ids(e, "themes"))


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
        review = Review(review_entry.text("summary"), ctx.quotes(review_entry, "quotes", required=not practice),
                        ctx.theme_ids(review_entry, "themes"))
    went_well = []
    for n, raw in enumerate(e.items("went_well", required=False)):
        w = _Entry(raw, e.where, e.problems, f"went_well[{n}].")
        went_well.append(WentWell(w.text("text"), ctx.quote(w.sub("quote", required=False))))
    lt_entry = e.sub("learning_together", required=not practice)
    lt = None
    if lt_entry is not None:
        lt = LearningTogether(lt_entry.text("front_of_mind"), lt_entry.text("would_have_helped"))
    return DecisionPoint(
        id=ident, module=ctx.module_id(e, "module"), role=role, role_title=e.text("role_title"),
        date=d or "", date_text=date_text, context=context, scenario=e.text("scenario"),
        question=e.text("question"), multiple=e.boolean("multiple"), options=tuple(options),
        rationale_prompt=e.text("rationale_prompt"), review=review, went_well=tuple(went_well),
        learning_together=lt, practice=practice,
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
        for n, raw in enumerate(r.items("rubric")):
            lv = _Entry(raw, e.where, e.problems, f"reflection.rubric[{n}].")
            levels.append(RubricLevel(lv.integer("points"), lv.text("descriptor")))
        points = r.integer("points")
        if levels and max(lv.points for lv in levels) != points:
            e.problems.add(e.where, "reflection.rubric", f"the top level must be worth the reflection's {points} points")
        reflection = Reflection(r.text("prompt"), points, tuple(levels))
    agencies = e.texts("agencies", required=False)
    for n, a in enumerate(agencies):
        ctx.agency(e, f"agencies[{n}]", a)
    return Module(
        id=ident, order=e.integer("order"), title=e.text("title"), period_from=p_from, period_to=p_to,
        period_text=e.text("period_text"), minutes=e.integer("minutes"), summary=e.text("summary"),
        objectives=e.texts("objectives"), key_points=e.texts("key_points"), agencies=agencies,
        reflection=reflection, learning_together=e.texts("learning_together", required=False),
    )


def _check_decision_contexts(case: Case, problems: _Problems, pack_name: str) -> None:
    """Every decision's context must be held by its role on its date (the knowledge invariant)."""
    from .knowledge import held_by  # knowledge depends on case; import here to avoid a cycle

    for d in case.decisions:
        if not d.date:
            continue
        held = {e.id for e in held_by(case, d.role, d.date)}
        for n, c in enumerate(d.context):
            if c not in held:
                ev = case.event(c)
                why = "it is hindsight" if ev.hindsight else f"the {case.agency(d.role).short} did not hold it by {d.date_text}"
                problems.add(f"{pack_name}/decisions.yaml: decision '{d.id}'", f"context[{n}]",
                             f"event '{c}' cannot be shown to this role: {why}")
