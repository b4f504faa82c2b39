"""The Voila templates the course serves: offline (no CDN), and for trainees without nbgrader's answer cells.

Voila 0.5's lab template links Font Awesome 5 from cdn.jsdelivr.net (two <link> tags in
voila/templates/lab/index.html.j2); nothing else in the page comes from a CDN (Voila drops require.js, MathJax
and the widget-manager script, and its own bundle carries the Font Awesome styles with the fonts served
locally). `course-offline` removes exactly those links and nbconvert's Mermaid loader (the projector view);
`course-trainee` also leaves out the cell nbgrader keeps for the written reflection (trainees write in the
page's own box) and adds the trainee pages' look (the module pages and the course home).
"""

from __future__ import annotations

import json
from pathlib import Path

OFFLINE = "course-offline"
TRAINEE = "course-trainee"
# JupyterLab-only extensions that fail to load in Voila and log JavaScript errors there.
EXTENSION_DENYLIST = ["@jupyter/nbgrader", "@jupyter-notebook/lab-extension", "@voila-dashboards/jupyterlab-preview"]

OFFLINE_INDEX = """{%- extends 'voila/templates/lab/index.html.j2' -%}
{%- block notebook_css -%}
{%- set voila_css -%}{{ super() }}{%- endset -%}
{%- for line in voila_css.split('\\n') -%}
{%- if not ('href="https://' in line or 'href="http://' in line or 'href="//' in line) %}
{{ line }}
{%- endif -%}
{%- endfor -%}
{%- endblock notebook_css -%}
{#- nbconvert's lab template would import Mermaid from cdnjs for diagrams; we have none. -#}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

# Focus visible on every control (WCAG 2.2 focus appearance): a 3 px ring in the course's blue (5.2:1 on white)
# around whatever has the keyboard focus. ipywidgets sets `outline: none !important` on its drop-downs, text
# boxes and inputs (.widget-dropdown > select, ...), so the rule must be more specific than theirs to win.
# The skip link is out of sight until it has the focus.
TRAINEE_CSS = """\
  html body :focus-visible { outline: 3px solid #0072B2 !important; outline-offset: 2px !important; }
  body { font-size: 17px; }
  /* Room for the ring of a control or link at the edge of an output or a text block (they scroll, so they
     clip what goes past their edge). */
  #rendered_cells .jp-RenderedHTMLCommon { padding-left: 6px; }
  #rendered_cells .jp-OutputArea-output { padding: 6px; }
  /* ipywidgets' boxes, radio lists and check box labels hide their overflow, which cut the ring of the
     control inside them off (the options' ring was clipped); the page's own width rules still hold. */
  #rendered_cells .jupyter-widgets:not(textarea):not(select),
  #rendered_cells .jupyter-widgets :not(textarea):not(select) { overflow: visible !important; }
  .course-skip { position: absolute; left: 0.5rem; top: -10rem; z-index: 100; padding: 0.5em 1em;
    background: #ffffff; color: #00446b; font-weight: bold; border: 2px solid #0072B2; }
  .course-skip:focus { top: 0.5rem; }
  /* The way back to the course home (course/apps/home_page.py), at the top of every module page. */
  .course-nav { padding: 0.5rem 1rem 0; font-size: 1rem; }
  .course-nav a { color: #00446b; }
  /* Reasons and reflections are prose: the page's own font, not ipywidgets' typewriter one. */
  #rendered_cells textarea { font-family: inherit; font-size: 1rem; }
"""

# A keyboard user reaches the first decision in three key presses (Tab, Enter, Tab): the page's first stop is a
# link to the cell that introduces the first decision (its heading, "Decision point 1"), placed by the cell
# order of the notebook: the first cell nbgrader knows as `decision-<id>`, and the markdown just before it.
SKIP_TO_FIRST_DECISION = """\
{%- macro course_first_decision_at() -%}
{%- set ns = namespace(at=-1) -%}
{%- for c in nb.cells -%}
{%- set gid = (c.metadata.get('nbgrader') or {}).get('grade_id') or '' -%}
{%- if ns.at < 0 and c.cell_type == 'code' and gid is string and gid.startswith('decision-') -%}
{%- set ns.at = loop.index0 - 1 if loop.index0 > 0 and nb.cells[loop.index0 - 1].cell_type == 'markdown'
  else loop.index0 -%}
{%- endif -%}
{%- endfor -%}
{{ ns.at }}
{%- endmacro -%}
{%- block body_header -%}
{{ super() }}
{%- if course_first_decision_at() | int >= 0 %}
<a class="course-skip" href="#course-first-decision">Skip to the first decision</a>
{%- endif %}
<nav class="course-nav" aria-label="Course"><a href="{{ resources.base_url }}course/home" target="_self">Course home</a></nav>
{%- endblock body_header -%}
{%- block any_cell scoped -%}
{%- if cellloop.index0 == course_first_decision_at() | int -%}<span id="course-first-decision"></span>{%- endif -%}
{{ super() }}
{%- endblock any_cell -%}
"""

# The trainee pages: the offline page, without nbgrader's markdown answer cells (the reflection is written in
# the page's text box and placed into that cell at grading), with a visible focus on every control.
TRAINEE_INDEX = (
    OFFLINE_INDEX.replace(
        "{%- extends 'voila/templates/lab/index.html.j2' -%}",
        """\
{%- extends 'voila/templates/lab/index.html.j2' -%}
{%- block markdowncell scoped -%}
{%- if not (cell.metadata.get('nbgrader', {}).get('solution')) -%}{{ super() }}{%- endif -%}
{%- endblock markdowncell -%}""",
    )
    + """\
{%- block html_head_css -%}
{{ super() }}
<style>
"""
    + TRAINEE_CSS
    + """</style>
{%- endblock html_head_css -%}
"""
    + SKIP_TO_FIRST_DECISION
)


def write_templates(share: Path) -> Path:
    """Install both templates under `share` (a Jupyter data folder: put it on JUPYTER_PATH); returns `share`."""
    for name, index in ((OFFLINE, OFFLINE_INDEX), (TRAINEE, TRAINEE_INDEX)):
        folder = share / "voila" / "templates" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}), encoding="utf-8")
        (folder / "index.html.j2").write_text(index, encoding="utf-8")
    return share
