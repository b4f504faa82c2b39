"""The module summary's bar chart (points per decision), drawn once per set of points and cached per user."""

from __future__ import annotations

import io

from ..core import cache
from ..render.style import FONT_SIZE, OKABE_ITO
from ..render.summary import SummaryRow
from .base import chart_version


def summary_chart_png(rows: list[SummaryRow]) -> bytes:
    """The bar chart as PNG: a pure function of the points, so kept in the per-user cache (course.cache)."""
    name = (
        "summary-"
        + cache.digest("summary", chart_version(), repr([(r.label, r.points, r.max_points) for r in rows]))
        + ".png"
    )
    png = cache.get(name)
    if png is not None and png.startswith(b"\x89PNG\r\n\x1a\n"):
        return png
    png = _draw_summary_chart(rows)
    cache.put(name, png)
    return png


def _draw_summary_chart(rows: list[SummaryRow]) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = max(1, len(rows))
    top, bottom, height = 0.7, 0.8, 0.7 * n + 1.5  # inches: legend above, axis label below
    fig = Figure(figsize=(11, height), dpi=80)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.16, bottom / height, 0.8, 1 - (top + bottom) / height))
    ys = list(range(len(rows)))
    ax.barh(
        ys, [r.max_points for r in rows], color="white", edgecolor="black", hatch="..", lw=1.5, label="most available"
    )
    ax.barh(
        ys,
        [r.points for r in rows],
        color=OKABE_ITO["blue"],
        edgecolor="black",
        lw=1.5,
        height=0.5,
        label="your first answer",
    )
    ax.set_yticks(ys, [r.label for r in rows], fontsize=FONT_SIZE)
    ax.invert_yaxis()
    ax.set_xlabel("points", fontsize=FONT_SIZE)
    ax.tick_params(axis="x", labelsize=FONT_SIZE - 1)
    ax.legend(fontsize=FONT_SIZE - 2, loc="lower left", bbox_to_anchor=(0.0, 1.02), ncol=2, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # Room on the left for the longest decision label, as drawn ("Practice decision" at the projector's size was
    # cut off at a fixed margin), and a quarter inch to spare.
    renderer = canvas.get_renderer()
    widest = max((label.get_window_extent(renderer).width for label in ax.get_yticklabels()), default=0.0)
    left = min(0.5, (widest + 0.25 * fig.dpi) / (fig.get_figwidth() * fig.dpi))
    ax.set_position((left, bottom / height, 0.97 - left, 1 - (top + bottom) / height))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
