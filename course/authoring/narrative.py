"""Build the module notebooks from their narrative (notebooks/src/<module>.md) and the case pack.

The narrative file holds only our own framing text; everything about the case (titles, decisions, points,
reflection prompts, key points) comes from data/*.yaml, so nothing about the case is typed twice. The
build is deterministic: the same narrative and pack give byte-identical notebooks, stored without outputs.

Narrative format: markdown. A line `+++` ends a markdown cell. A line holding only a marker puts generated
cells there:

    {{title}}              the module's title (markdown, from modules.yaml)
    {{intro}}              'About this module' (markdown: objectives, time, period), then the cell that opens
                           the module (facade)
    {{lens}}               the agency lens for the module's period
    {{timeline}}           the swimlane timeline for the module's period
    {{decision d-x}}       one decision point: heading, widget, and its autograded cell
    {{decisions}}          every decision of the module not placed by name, in date order
    {{learning_together}}  the module's Learning Together prompts (markdown, from modules.yaml)
    {{reflection}}         the reflection prompt (locked) and the trainee's answer cell (manually graded)
    {{summary}}            the module summary: the trainee's answers beside the review's
    {{key_points}}         the key points, 7-minute-briefing style

Inline, `{{minutes}}`, `{{period}}` and `{{decision_count}}` are replaced by the module's values, and
`{{when d-x}}` by the date_text of one of its decisions, `{{agency id}}` by an agency's name.
Lines starting with `%%` are notes for authors and are left out.

`course build-notebooks` rewrites notebooks/<id>/<id>.ipynb (course.authoring.build).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = re.compile(r"^\{\{\s*([a-z_]+)(?:\s+([A-Za-z0-9_.-]+))?\s*\}\}$")


INLINE = re.compile(r"\{\{\s*(minutes|period|decision_count|when|agency)(?:\s+([A-Za-z0-9_.-]+))?\s*\}\}")


BLOCKS = (
    "title",
    "intro",
    "lens",
    "timeline",
    "decision",
    "decisions",
    "learning_together",
    "reflection",
    "summary",
    "key_points",
)


# What a module with no narrative file of its own would say (used for the fictional test course).
DEFAULT_NARRATIVE = "\n".join(
    "{{" + b + "}}"
    for b in ("title", "intro", "lens", "timeline", "decisions", "learning_together", "reflection", "summary")
)


class AuthoringError(Exception):
    """A narrative file that does not fit the case pack; the message names the file, line and fix."""


@dataclass(frozen=True)
class _Block:
    kind: str  # "text" or a marker name
    text: str = ""
    arg: str = ""
    line: int = 0


def parse_narrative(text: str, where: str = "narrative") -> list[_Block]:
    """Split a narrative file into markdown text blocks and markers, checking marker names."""
    blocks: list[_Block] = []
    buf: list[str] = []
    start = 1

    def flush():
        body = "\n".join(buf).strip("\n")
        if body.strip():
            blocks.append(_Block("text", body, line=start))
        buf.clear()

    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("%%"):
            continue
        stripped = line.strip()
        if stripped == "+++":
            flush()
            start = n + 1
            continue
        m = MARKER.match(stripped)
        if m:
            flush()
            name, arg = m.group(1), m.group(2) or ""
            if name not in BLOCKS:
                raise AuthoringError(f"{where}: line {n}: unknown marker {{{{{name}}}}} (known: {', '.join(BLOCKS)})")
            if (name == "decision") != bool(arg):
                raise AuthoringError(
                    f"{where}: line {n}: {{{{decision d-...}}}} takes one decision id; {{{{{name}}}}} takes none"
                )
            blocks.append(_Block(name, arg=arg, line=n))
            start = n + 1
            continue
        if "{{" in stripped and not INLINE.search(stripped):
            raise AuthoringError(f"{where}: line {n}: a marker must stand alone on its line: {stripped[:60]!r}")
        if not buf:
            start = n
        buf.append(line)
    flush()
    return blocks
