"""The course's look, shared by every view, report and page: palette, type sizes, stylesheet, HTML escaping.

The palette is Okabe and Ito's colour-blind-safe set; every distinction drawn in colour is also made by
shape, line style or text, so nothing relies on colour alone.
"""

from __future__ import annotations

import html

# Okabe-Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}


GREY = "#6E6E6E"


# Sizes for a projector at the back of a room.
FONT_SIZE = 15


TITLE_SIZE = 17


# CSS shared by the HTML the views render. ipywidgets HTML is injected as is, so the classes are scoped.
STYLE = """<style>
.course-view { font-size: 1.05rem; line-height: 1.45; max-width: 60rem; }
.course-view h3 { font-size: 1.2rem; margin: 0.4em 0; }
.course-view h4 { font-size: 1.05rem; margin: 0.6em 0 0.3em; }
.course-view ul.course-items { padding-left: 1.2em; margin: 0.3em 0; }
.course-view ul.course-items li { margin: 0 0 0.6em; }
.course-view .course-when { font-weight: bold; }
.course-view .course-source { color: #333; font-size: 0.92em; }
.course-view .course-note { color: #333; font-style: italic; }
.course-hindsight { border: 3px dashed #D55E00; padding: 0.4em 0.8em; margin-top: 0.6em; background: #FFF7EE; }
.course-hindsight h3::before { content: "\\26A0\\FE0F  "; }
.course-review { border-left: 6px solid #0072B2; padding: 0.2em 0.8em; background: #F2F8FC; }
.course-practice { border-left: 6px solid #009E73; padding: 0.2em 0.8em; background: #F0FAF6; margin-top: 0.6em; }
.course-yours { border-left: 6px solid #E69F00; padding: 0.2em 0.8em; background: #FFF9EE; }
.course-view blockquote { margin: 0.4em 0 0.4em 0.6em; padding-left: 0.6em; border-left: 3px solid #6E6E6E; }
.course-view .course-attrib { display: block; font-size: 0.9em; color: #333; }
.course-status { font-weight: bold; }
.course-problem { border: 2px solid #D55E00; padding: 0.3em 0.6em; background: #FFF3EA; }
.course-view table { border-collapse: collapse; }
.course-view th, .course-view td { border: 1px solid #999; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
/* ipywidgets keeps radio and checkbox labels on one clipped line; options here are sentences. */
.course-decision .widget-radio-box label, .course-decision .jupyter-widget-radio-box label,
.course-decision .widget-checkbox, .course-decision .jupyter-widget-checkbox,
.course-decision .widget-checkbox label, .course-decision .jupyter-widget-checkbox label,
.course-decision .widget-checkbox .widget-label-basic, .course-decision .jupyter-widget-checkbox .widget-label-basic {
  height: auto; width: auto; line-height: 1.4; white-space: normal; overflow: visible; text-overflow: clip; }
.course-decision .widget-radio-box label, .course-decision .jupyter-widget-radio-box label,
.course-decision .widget-checkbox label, .course-decision .jupyter-widget-checkbox label {
  display: flex; align-items: flex-start; gap: 0.5em; margin: 0.3em 0; font-size: 1rem; }
.course-decision .widget-radio-box input, .course-decision .jupyter-widget-radio-box input,
.course-decision .widget-checkbox input, .course-decision .jupyter-widget-checkbox input {
  flex: none; order: -1; margin: 0.2em 0 0 0; }
.course-view .course-sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
</style>"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def problem_html(message: str) -> str:
    return f'<div class="course-view course-problem" role="alert">{esc(message)}</div>'


def status_html(message: str) -> str:
    return f'<div class="course-view course-status" role="status" aria-live="polite">{esc(message)}</div>'


def plural(n: int, word: str) -> str:
    """'1 event', '2 events'."""
    return f"{n} {word}" + ("" if n == 1 else "s")
