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
  :focus-visible { outline: 3px solid #0072B2 !important; outline-offset: 2px; }
  body { font-size: 17px; }
</style>
{%- endblock html_head_css -%}
"""
)


def write_templates(share: Path) -> Path:
    """Install both templates under `share` (a Jupyter data folder: put it on JUPYTER_PATH); returns `share`."""
    for name, index in ((OFFLINE, OFFLINE_INDEX), (TRAINEE, TRAINEE_INDEX)):
        folder = share / "voila" / "templates" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}), encoding="utf-8")
        (folder / "index.html.j2").write_text(index, encoding="utf-8")
    return share
