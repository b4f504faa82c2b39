"""The room's first answers against the review's position: per decision, per option, with confidence, and where
the room diverged most."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core.records import Case, DecisionPoint, Module
from .collect import Collection, Submission, WorkshopError

CONFIDENT = 4  # confidence 4 or 5 of 5 counts as "confident"


@dataclass(frozen=True)
class OptionCount:
    id: str
    text: str
    points: int
    count: int
    aligned: bool


@dataclass(frozen=True)
class DecisionSummary:
    decision: DecisionPoint
    participants: int  # included participants (the denominator for "not answered")
    answered: int
    options: tuple[OptionCount, ...]
    aligned: int  # first answers scoring the maximum (the review's position)
    fractions: tuple[float, ...]  # score / max_points for each answer
    confidence: tuple[int, int, int, int, int]  # how many answered with confidence 1..5
    confident_divergent: int  # confidence >= CONFIDENT but scoring under half the points

    @property
    def aligned_share(self) -> float | None:
        return self.aligned / self.answered if self.answered else None

    @property
    def mean_fraction(self) -> float | None:
        return sum(self.fractions) / len(self.fractions) if self.fractions else None

    @property
    def mean_confidence(self) -> float | None:
        n = sum(self.confidence)
        return sum((i + 1) * c for i, c in enumerate(self.confidence)) / n if n else None


def summarise_decision(d: DecisionPoint, subs: Iterable[Submission]) -> DecisionSummary:
    subs = list(subs)
    counts = {o.id: 0 for o in d.options}
    aligned = 0
    fractions: list[float] = []
    conf: list[int] = [0, 0, 0, 0, 0]
    confident_divergent = 0
    for s in subs:
        rec = s.first.get(d.id)
        if rec is None:
            continue
        choice = rec.get("choice")
        chosen = [choice] if isinstance(choice, str) else list(choice or [])
        for c in dict.fromkeys(chosen):
            if c in counts:  # collect leaves out answers with unknown options; never a KeyError here
                counts[c] += 1
        score = d.score(choice)
        frac = score / d.max_points if d.max_points else 0.0
        fractions.append(frac)
        if score >= d.max_points:
            aligned += 1
        c = rec.get("confidence")
        if isinstance(c, int) and 1 <= c <= 5:
            conf[c - 1] += 1
            if c >= CONFIDENT and frac < 0.5:
                confident_divergent += 1
    good = set(d.aligned_options())
    options = tuple(OptionCount(o.id, o.text, o.points, counts[o.id], o.id in good) for o in d.options)
    return DecisionSummary(
        d,
        len(subs),
        len(fractions),
        options,
        aligned,
        tuple(fractions),
        (conf[0], conf[1], conf[2], conf[3], conf[4]),
        confident_divergent,
    )


@dataclass(frozen=True)
class WorkshopReport:
    case: Case
    group: str
    modules: tuple[Module, ...]
    collection: Collection
    names: bool
    decisions: tuple[DecisionSummary, ...]
    generated: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%d %B %Y, %H:%M UTC"))

    @property
    def counted(self) -> tuple[Submission, ...]:
        """The participants this report counts: those with a first answer to at least one of its decisions."""
        ids = [d.decision.id for d in self.decisions]
        return tuple(s for s in self.collection.submissions if any(s.answered(i) for i in ids))

    @property
    def participants(self) -> int:
        return len(self.counted)

    @property
    def other_modules_only(self) -> int:
        """Trainees whose answers (for this course version) are all for modules outside this report."""
        return len(self.collection.submissions) - self.participants

    def diverged_most(self, limit: int = 3) -> list[DecisionSummary]:
        """Decisions answered by someone, least aligned first; ties broken by more confident divergence,
        then lower mean score, then course order."""
        order = {d.decision.id: i for i, d in enumerate(self.decisions)}
        answered = [d for d in self.decisions if d.answered]
        answered.sort(key=lambda s: (s.aligned_share, -s.confident_divergent, s.mean_fraction, order[s.decision.id]))
        return [s for s in answered[:limit] if (s.aligned_share or 0.0) < 1.0]

    def confident_divergence(self, limit: int = 5) -> list[DecisionSummary]:
        """The decisions with the largest share of confident (4 or 5) answers scoring under half."""
        order = {d.decision.id: i for i, d in enumerate(self.decisions)}
        ranked = sorted(
            (d for d in self.decisions if d.confident_divergent),
            key=lambda s: (-s.confident_divergent / s.answered, order[s.decision.id]),
        )
        return ranked[:limit]


def select_modules(case: Case, modules: Iterable[str] | str | None) -> tuple[Module, ...]:
    """The modules to report on, in course order (all modules with decisions when none are named)."""
    if isinstance(modules, str):
        modules = [m.strip() for m in modules.replace(",", " ").split() if m.strip()]
    modules = list(modules or [])
    if not modules:
        return tuple(m for m in case.modules if case.decisions_in(m.id))
    known = {m.id for m in case.modules}
    unknown = [m for m in modules if m not in known]
    if unknown:
        raise WorkshopError(
            [
                f"unknown module id(s) {', '.join(map(repr, unknown))}; this course has "
                f"{', '.join(m.id for m in case.modules)}."
            ]
        )
    return tuple(m for m in case.modules if m.id in modules)


def build_report(
    case: Case, collection: Collection, group: str = "", modules=None, names: bool = False
) -> WorkshopReport:
    chosen = select_modules(case, modules)
    ids = {m.id for m in chosen}
    mine = [d for d in case.decisions if d.module in ids]
    counted = [s for s in collection.submissions if any(s.answered(d.id) for d in mine)]
    decisions = tuple(summarise_decision(d, counted) for d in mine)
    return WorkshopReport(case, group.strip(), chosen, collection, names, decisions)
