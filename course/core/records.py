"""The case as immutable, typed records: agencies, people, events, flows, themes, decision points, modules.

Pure data: no I/O. `course.core.pack` builds a Case from a case pack and validates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import dates
from .source import Source


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
    outcome: str = ""  # own words: what happened at this point, shown only after the trainee has answered
    practice_now: str = ""  # the course's own voice: what good practice looks like now (not a case fact)

    @property
    def max_points(self) -> int:
        if self.multiple:
            return sum(o.points for o in self.options if o.points > 0)
        return max(o.points for o in self.options)

    def aligned_options(self) -> tuple[str, ...]:
        """The options that carry the review's position: the top-scoring option(s), or for a choose-all
        question every option that earns points."""
        if self.multiple:
            return tuple(o.id for o in self.options if o.points > 0)
        return tuple(o.id for o in self.options if o.points == self.max_points)

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
class CriterionLevel:
    points: int
    descriptor: str  # what earns these points (shown to trainees and markers)
    anchor: str  # an example answer at this level (markers only)


@dataclass(frozen=True)
class Criterion:
    """One line of an analytic mark scheme, scored on its own so that two markers can agree line by line."""

    id: str
    text: str
    points: int
    levels: tuple[CriterionLevel, ...]


@dataclass(frozen=True)
class Reflection:
    prompt: str
    points: int
    rubric: tuple[RubricLevel, ...]  # a holistic scheme (levels); used where no criteria are given
    criteria: tuple[Criterion, ...] = ()


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
