"""The primary source document: its sections, and checking that a quotation is verbatim in it.

Only three differences are forgiven when matching: runs of whitespace (the source is a text
extraction with hard line breaks), hyphens broken across lines, and curly versus straight quote
marks. An ellipsis in a quotation may join two verbatim parts that occur in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"'})
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")


def normalise(text: str) -> str:
    """Fold the differences a text extraction introduces, and nothing else."""
    text = text.translate(_QUOTES)
    text = re.sub(r"-[ \t]*\n\s*", "-", text)  # a hyphen broken across lines
    text = re.sub(r"\s+", " ", text)
    return text.strip()


@dataclass(frozen=True)
class Section:
    heading: str
    text: str  # normalised body text of the section


@dataclass(frozen=True)
class Source:
    """The source document split into the sections named by the case pack."""

    path: Path
    raw: str
    sections: tuple[Section, ...]

    @cached_property
    def text(self) -> str:
        # cached: the loader checks every day-precise date against the whole text
        return normalise(self.raw)

    def section(self, heading: str) -> Section | None:
        for s in self.sections:
            if s.heading == heading:
                return s
        return None

    def find(self, quote: str, heading: str | None = None) -> bool:
        """True when every ellipsis-separated part of `quote` occurs, in order, in the section
        (or anywhere in the source when no heading is given)."""
        if heading is None:
            haystack = self.text
        else:
            sec = self.section(heading)
            if sec is None:
                return False
            haystack = sec.text
        parts = [p for p in _ELLIPSIS.split(normalise(quote)) if p.strip()]
        if not parts:
            return False
        pos = 0
        for part in parts:
            found = haystack.find(part.strip(), pos)
            if found < 0:
                return False
            pos = found + len(part.strip())
        return True


def load_source(path: Path, headings: list[str]) -> Source:
    """Read the source and cut it into sections at the given heading lines, in order.

    A heading is a line whose stripped text equals the heading. Text before the first heading
    belongs to no section. Raises ValueError naming a heading that cannot be found.
    """
    raw = path.read_text(encoding="utf-8")
    lines = raw.splitlines()
    starts: list[tuple[int, int, str]] = []  # (heading line, first body line, heading)
    cursor = 0
    for heading in headings:
        wanted = normalise(heading)
        # A heading may wrap onto two lines in the extraction.
        for i in range(cursor, len(lines)):
            if normalise(lines[i]) == wanted:
                starts.append((i, i + 1, heading))
                break
            if i + 1 < len(lines) and normalise(lines[i] + " " + lines[i + 1]) == wanted:
                starts.append((i, i + 2, heading))
                break
        else:
            raise ValueError(f"{path}: section heading {heading!r} not found after line {cursor + 1}")
        cursor = starts[-1][1]
    sections = []
    for n, (_, body_start, heading) in enumerate(starts):
        body_end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        sections.append(Section(heading, normalise("\n".join(lines[body_start:body_end]))))
    return Source(path=path, raw=raw, sections=tuple(sections))
