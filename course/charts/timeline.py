"""The swimlane timeline drawn with matplotlib (imported only when an image must be drawn).

The figure is built once. Moving the date updates only the date artists (line, label, shading of what came
later). The chart without them is encoded to PNG once per static state (lanes, highlighted agency,
hindsight lane); the date layer is then drawn from those same artists as a small SVG over the <img>, so a
slider step re-encodes no image. No
pyplot figure is ever opened, so nothing leaks. Background images (with the geometry the date layer needs)
are kept in the per-user cache (course.core.cache), so with a warm cache a module never imports matplotlib.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import textwrap
from typing import TYPE_CHECKING, Any

from ..core import cache
from ..core.records import Case, Module
from ..render.lens import Stop
from ..render.style import FONT_SIZE, GREY, OKABE_ITO, TITLE_SIZE, esc
from ..render.timeline import HINDSIGHT_LANE, TimelineData, timeline_data
from .base import chart_version

if TYPE_CHECKING:
    pass


C_EVENT = OKABE_ITO["blue"]


C_SPAN = OKABE_ITO["sky_blue"]


C_PASSED = OKABE_ITO["bluish_green"]


C_STOPPED = OKABE_ITO["vermillion"]


C_HIGHLIGHT = OKABE_ITO["yellow"]


C_LINE = OKABE_ITO["black"]


LATER_ALPHA = 0.6  # the white veil over what came after the date shown


DATE_LINE_WIDTH = 3  # points


_EPOCH = dt.date(1970, 1, 1).toordinal()


# The attributes that are matplotlib objects: made on first use, so a chart whose images come from the cache
# never imports matplotlib.
_FIGURE_PARTS = frozenset(
    {"figure", "canvas", "ax", "_line", "_label", "_later", "_hind_artists", "_hind_band", "_highlight_band", "_legend"}
)


def _datenum(d: dt.date) -> float:
    """matplotlib's date number for a day (days since its default epoch, 1970-01-01), without matplotlib."""
    return float(d.toordinal() - _EPOCH)


class TimelineFigure:
    """The matplotlib side: one Figure, updated in place and encoded to PNG.

    The Figure is made on first need. The background image of each static state (highlighted agency,
    hindsight lane) is a pure function of the chart's data, so it is kept in the per-user cache
    (course.cache) with the few numbers the SVG date layer needs (canvas size, axes box, the x transform):
    with a warm cache no Figure is made and matplotlib is not imported at all."""

    def __init__(self, case: Case, module: Module | None = None, data: TimelineData | None = None, dpi: int = 80):
        self.case = case
        self.module = module
        self.data = data or timeline_data(case, module)
        self.dpi = dpi
        self._names = [textwrap.fill(case.agency(a).name, 26) for a in self.data.lanes]
        self._background = None
        self._background_pngs: dict[tuple[str | None, bool], bytes] = {}
        self._background_b64: tuple[bytes, str] | None = None
        self._geometry: dict | None = None
        self._key: str | None = None
        self.background_renders = 0  # how many times the background was drawn and encoded (it should be rare)
        self.background_cache_hits = 0  # how many backgrounds were read from the disk cache instead
        self.show_hindsight = False
        self.highlight: str | None = None
        self.day: dt.date = self.data.start
        self._label_text = ""

    def __getattr__(self, name: str):
        # Only called for attributes not set yet: the matplotlib parts before the Figure is made.
        if name in _FIGURE_PARTS and not self.__dict__.get("_building"):
            self._make_figure()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def built(self) -> bool:
        """Whether the matplotlib Figure exists (it is made on first need, then only ever updated)."""
        return "figure" in self.__dict__

    # ------------------------------------------------------------ building (once)

    def _x(self, d: dt.date) -> float:
        return _datenum(d)

    def _make_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self._building = True
        try:
            n = len(self.data.lanes)
            # Sizes in inches, so that lanes keep the same height however many there are.
            width, top, bottom = 13.0, 0.9, 1.75
            height = top + bottom + 0.62 * (n + 1)
            longest = max(
                len(line) for name in [*self._names, HINDSIGHT_LANE.replace(" (", "\n(")] for line in name.splitlines()
            )
            left = min(3.6, 0.3 + 0.125 * longest * FONT_SIZE / 14)
            self.figure = Figure(figsize=(width, height), dpi=self.dpi)
            self.canvas = FigureCanvasAgg(self.figure)
            self.ax = self.figure.add_axes(
                (left / width, bottom / height, 1 - (left + 0.8) / width, 1 - (top + bottom) / height)
            )
            self._build()
        finally:
            self._building = False
        # The state chosen before the Figure existed.
        self._hind_band.set_visible(self.show_hindsight)
        for a in self._hind_artists:
            a.set_visible(self.show_hindsight)
        self._show_highlight()
        self._apply_ylim()
        self._set_day_artists()

    def _build(self) -> None:
        import matplotlib.dates as mdates
        from matplotlib.lines import Line2D

        ax, data = self.ax, self.data
        n = len(data.lanes)
        for lane in range(n + 1):
            if lane % 2 == 0:
                ax.axhspan(lane - 0.5, lane + 0.5, color="#EEEEEE", zorder=0, lw=0)
        self._hind_band = ax.axhspan(
            n - 0.5,
            n + 0.5,
            facecolor="#FFF7EE",
            edgecolor=C_STOPPED,
            hatch="//",
            lw=0,
            alpha=0.5,
            zorder=0,
            visible=False,
        )
        self._highlight_band = ax.axhspan(-0.5, 0.5, color=C_HIGHLIGHT, alpha=0.35, zorder=0.5, lw=0, visible=False)

        days = [m for m in data.marks if m.precision == "day"]
        spans = [m for m in data.marks if m.precision != "day"]
        ax.scatter(
            [self._x(m.start) for m in days],
            [m.lane + m.offset for m in days],
            s=170,
            marker="o",
            color=C_EVENT,
            edgecolors="black",
            linewidths=1.2,
            zorder=4,
        )
        for m in spans:
            y = m.lane + m.offset
            ax.plot([self._x(m.start), self._x(m.end)], [y, y], color=C_SPAN, lw=8, solid_capstyle="butt", zorder=3)
            ax.plot(
                [self._x(m.start), self._x(m.end)],
                [y, y],
                ls="none",
                marker="|",
                ms=18,
                mew=2.5,
                color=C_EVENT,
                zorder=4,
            )

        self._hind_artists = []
        for m in data.hindsight_marks:
            y = m.lane + m.offset
            if m.precision == "day":
                self._hind_artists += ax.plot(
                    self._x(m.start), y, marker="D", ms=12, color=GREY, mec="black", zorder=4, visible=False
                )
            else:
                self._hind_artists += ax.plot(
                    [self._x(m.start), self._x(m.end)],
                    [y, y],
                    color=GREY,
                    lw=5,
                    ls=(0, (2, 1)),
                    zorder=3,
                    visible=False,
                )

        y0: float
        y1: float
        for i, f in enumerate(data.flows):
            x = self._x(f.at) + (i % 3 - 1) * 0.004 * (self._x(data.end) - self._x(data.start))
            if f.status == "passed":
                if f.from_lane is not None:
                    y0 = f.from_lane
                    y1 = f.to_lane if f.to_lane is not None else y0 + 0.5
                else:
                    assert f.to_lane is not None  # a flow has at least one of from and to (the loader checks)
                    y0, y1 = f.to_lane - 0.5, f.to_lane
                ax.annotate(
                    "",
                    xy=(x, y1),
                    xytext=(x, y0),
                    zorder=5,
                    arrowprops=dict(arrowstyle="-|>", color=C_PASSED, lw=3, mutation_scale=26, shrinkA=8, shrinkB=8),
                )
            else:
                if f.from_lane is not None and f.to_lane is not None:
                    # The line runs to the edge of the receiving lane and stops there: it never arrived.
                    direction = 1 if f.to_lane > f.from_lane else -1
                    y0, y1 = f.from_lane, f.to_lane - direction * 0.42
                elif f.from_lane is not None:
                    y0, y1 = f.from_lane, f.from_lane + 0.45
                else:
                    assert f.to_lane is not None
                    y0, y1 = f.to_lane - 0.5, f.to_lane - 0.12
                ax.plot([x, x], [y0, y1], ls=(0, (4, 2)), color=C_STOPPED, lw=3, zorder=5)
                ax.plot(x, y1, marker="X", ms=17, color=C_STOPPED, mec="black", mew=1.2, zorder=6)

        # The parts that move with the date: drawn over a cached background (blitting).
        x0, x1 = self._x(data.start), self._x(data.end)
        self._later = ax.axvspan(x0, x1, facecolor="white", alpha=LATER_ALPHA, zorder=7, lw=0, animated=True)
        self._line = ax.axvline(x0, color=C_LINE, lw=DATE_LINE_WIDTH, zorder=8, animated=True)
        self._label = ax.text(
            x0,
            1.01,
            "",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=FONT_SIZE,
            fontweight="bold",
            zorder=9,
            animated=True,
            clip_on=False,
        )

        ax.set_xlim(x0 - 2, x1 + 2)
        span = (data.end - data.start).days
        if span <= 900:
            ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, round(span / 30 / 10))))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        else:
            ax.xaxis.set_major_locator(mdates.YearLocator(max(1, round(span / 365 / 10))))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.tick_params(axis="x", labelsize=FONT_SIZE - 1)
        ax.grid(axis="x", color="#BBBBBB", lw=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        self.figure.text(
            0.01,
            1 - 0.12 / self.figure.get_figheight(),
            textwrap.shorten(f"Who held what: {data.period_text}", 110, placeholder=" ..."),
            fontsize=TITLE_SIZE,
            ha="left",
            va="top",
            fontweight="bold",
        )
        handles = [
            Line2D([], [], ls="none", marker="o", ms=12, color=C_EVENT, mec="black", label="event (day given)"),
            Line2D(
                [], [], color=C_SPAN, lw=8, marker="|", ms=16, mew=2.5, mec=C_EVENT, label="event (month or year only)"
            ),
            Line2D([], [], color=C_PASSED, lw=3, marker=">", ms=11, label="information passed"),
            Line2D(
                [],
                [],
                color=C_STOPPED,
                lw=3,
                ls=(0, (4, 2)),
                marker="X",
                ms=13,
                mec="black",
                label="information stopped (not passed on, or not recorded)",
            ),
            Line2D([], [], color=C_LINE, lw=3, label="date shown (later events faded)"),
        ]
        self._legend = self.figure.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.01, 0.0),
            ncol=3,
            fontsize=FONT_SIZE - 2,
            frameon=False,
            columnspacing=1.2,
            handletextpad=0.5,
        )

    def _apply_ylim(self) -> None:
        """Lanes top to bottom; the hindsight lane only when asked for."""
        names = list(self._names)
        if self.show_hindsight:
            names.append(HINDSIGHT_LANE.replace(" (", "\n("))
        lane = self.data.lanes.index(self.highlight) if self.highlight in self.data.lanes else None
        self.ax.set_yticks(range(len(names)), names, fontsize=FONT_SIZE)
        for i, t in enumerate(self.ax.get_yticklabels()):
            t.set_fontweight("bold" if i == lane else "normal")
        self.ax.set_ylim(len(names) - 0.5, -0.5)

    def _show_highlight(self) -> None:
        lane = self.data.lanes.index(self.highlight) if self.highlight in self.data.lanes else None
        self._highlight_band.set_visible(lane is not None)
        if lane is not None:
            self._highlight_band.set_y(lane - 0.5)

    # ------------------------------------------------------------ updating

    def set_static(self, highlight: str | None = None, show_hindsight: bool | None = None) -> None:
        """Change what the background shows; the next render draws it once (or finds it in the cache)."""
        if show_hindsight is not None and show_hindsight != self.show_hindsight:
            self.show_hindsight = show_hindsight
            if self.built:
                self._hind_band.set_visible(show_hindsight)
                for a in self._hind_artists:
                    a.set_visible(show_hindsight)
                self._apply_ylim()
                self._background = None
        if highlight != self.highlight:
            self.highlight = highlight
            if self.built:
                self._show_highlight()
                self._apply_ylim()
                self._background = None

    def set_day(self, stop: Stop) -> None:
        self.day = stop.day
        self._label_text = stop.label
        if self.built:
            self._set_day_artists()

    def _set_day_artists(self) -> None:
        x = self._x(self.day)
        self._line.set_xdata([x, x])
        x1 = self._x(self.data.end) + 2
        self._later.set_x(x)
        self._later.set_width(max(0.0, x1 - x))
        self._later.set_visible(x < x1)
        self._label.set_x(x)
        self._label.set_text(self._label_text)

    def _draw_background(self) -> None:
        if self._background is None:
            self.canvas.draw()  # animated artists (date line, shading, label) are left out of this
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def _encode(self) -> bytes:
        from PIL import Image as PILImage

        w, h = self.canvas.get_width_height()
        image = PILImage.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG", compress_level=1)
        return out.getvalue()

    # ------------------------------------------------------------ the background image and its cache

    def _measure(self) -> dict:
        """What the SVG date layer needs from the Figure: canvas size, axes box, the data-to-pixel x transform."""
        w, h = self.canvas.get_width_height()
        box = self.ax.bbox
        m = self.ax.transData.get_affine().get_matrix()
        return {
            "w": int(w),
            "h": int(h),
            "box": [float(box.x0), float(box.y0), float(box.x1), float(box.y1)],
            "ax": float(m[0, 0]),
            "bx": float(m[0, 1]),
            "cx": float(m[0, 2]),
        }

    def _cache_name(self) -> str:
        if self._key is None:
            self._key = cache.digest("timeline", chart_version(), repr(self.data), repr(self._names), str(self.dpi))
        return f"timeline-{cache.digest(self._key, repr(self.highlight), repr(self.show_hindsight))}.json"

    def _from_cache(self) -> tuple[bytes, dict] | None:
        payload = cache.get(self._cache_name())
        if payload is None:
            return None
        try:
            entry = json.loads(payload)
            png = base64.b64decode(entry["png"], validate=True)
            g = entry["geometry"]
            geometry: dict[str, Any] = {
                "w": int(g["w"]),
                "h": int(g["h"]),
                "box": [float(v) for v in g["box"]],
                "ax": float(g["ax"]),
                "bx": float(g["bx"]),
                "cx": float(g["cx"]),
            }
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if len(geometry["box"]) != 4 or not png.startswith(b"\x89PNG\r\n\x1a\n"):
            return None
        return png, geometry

    def background_png(self) -> bytes:
        """The chart without the date layer, once per static state (highlighted agency, hindsight lane): kept
        in memory, so switching back and forth between agencies redraws nothing, and in the disk cache."""
        key = (self.highlight, self.show_hindsight)
        png = self._background_pngs.get(key)
        if png is None:
            cached = self._from_cache()
            if cached is not None:
                png, self._geometry = cached
                self.background_cache_hits += 1
            else:
                self._draw_background()
                self.canvas.restore_region(self._background)
                png = self._encode()
                self.background_renders += 1
                self._geometry = self._measure()
                entry = {"png": base64.b64encode(png).decode("ascii"), "geometry": self._geometry}
                cache.put(self._cache_name(), json.dumps(entry).encode("utf-8"))
            self._background_pngs[key] = png
        return png

    def background_b64(self) -> str:
        png = self.background_png()
        if self._background_b64 is None or self._background_b64[0] is not png:
            self._background_b64 = (png, base64.b64encode(png).decode("ascii"))
        return self._background_b64[1]

    def date_layer_svg(self) -> str:
        """The date layer (shading of what came later, the date line, its label) as SVG in the figure's pixel
        space: the same geometry and styles as the date artists, so a slider step re-encodes no image."""
        g = self._geometry
        if g is None:
            g = self._geometry = self._measure()
        w, h = g["w"], g["h"]
        bx0, by0, bx1, by1 = g["box"]
        num = self._x(self.day)
        x = g["ax"] * num + g["bx"] * 0.0 + g["cx"]
        x = min(max(x, bx0), bx1)
        top, bottom = h - by1, h - by0
        scale = self.dpi / 72
        parts = [
            f'<svg viewBox="0 0 {w} {h}" preserveAspectRatio="none" aria-hidden="true" focusable="false" '
            'style="position:absolute;left:0;top:0;width:100%;height:100%;overflow:visible">'
        ]
        if num < self._x(self.data.end) + 2 and bx1 > x:
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{bx1 - x:.1f}" height="{bottom - top:.1f}" '
                f'fill="white" fill-opacity="{LATER_ALPHA}"/>'
            )
        parts.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="{C_LINE}" '
            f'stroke-width="{DATE_LINE_WIDTH * scale:.1f}"/>'
        )
        size = FONT_SIZE * scale
        parts.append(
            f'<text x="{x:.1f}" y="{top - 0.3 * size:.1f}" text-anchor="middle" font-size="{size:.1f}" '
            'font-weight="bold" font-family="DejaVu Sans, Verdana, sans-serif" fill="black">'
            f"{esc(self._label_text)}</text></svg>"
        )
        return "".join(parts)
