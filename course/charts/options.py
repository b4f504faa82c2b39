"""The workshop report's chart: how many in the room chose each option of a decision."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Protocol

from ..render.style import OKABE_ITO


class OptionBar(Protocol):
    """One bar: an option's text, how many chose it, its points and whether it is the review's position."""

    @property
    def text(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def points(self) -> int: ...
    @property
    def aligned(self) -> bool: ...


def option_chart_png(options: Sequence[OptionBar]) -> bytes:
    """A horizontal bar chart of how many chose each option: the review's position bluish green with diagonal
    hatching, options earning some points sky blue with dots, the rest vermillion, each bar labelled with its
    count and each label saying which kind it is (colour is never the only cue)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    opts = list(options)
    labels = [
        _wrap(o.text, 38) + ("\n(review's position)" if o.aligned else "\n(partly in line)" if o.points > 0 else "")
        for o in opts
    ]
    colours = [
        OKABE_ITO["bluish_green"] if o.aligned else (OKABE_ITO["sky_blue"] if o.points > 0 else OKABE_ITO["vermillion"])
        for o in opts
    ]
    hatches = ["//" if o.aligned else (".." if o.points > 0 else "") for o in opts]
    height = 0.9 + 0.75 * len(opts)
    fig = Figure(figsize=(8, height), dpi=100)
    ax = fig.add_subplot()
    y = list(range(len(opts)))[::-1]
    bars = ax.barh(y, [o.count for o in opts], color=colours, edgecolor="#000000", linewidth=0.8)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    ax.set_yticks(y, labels, fontsize=10)
    top = max([o.count for o in opts] + [1])
    ax.set_xlim(0, top * 1.15 + 0.5)
    for yy, o in zip(y, opts, strict=True):
        ax.text(o.count + top * 0.02, yy, str(o.count), va="center", fontsize=11)
    ax.set_xlabel("Number of participants choosing this option (first answers)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _wrap(text: str, width: int) -> str:
    import textwrap

    lines = textwrap.wrap(text, width)
    if len(lines) > 3:
        lines = lines[:3]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "\n".join(lines)
