"""The trainee's feedback page, in the course's words: nbgrader's GenerateFeedback with a template of the course's own.

nbgrader's feedback template (server_extensions/formgrader/templates/feedback) speaks to programming students:
"Test cell", "Grade cell: <code>score-…</code>", "Student's answer", "Written response", every code cell's source
with In/Out prompts, and MathJax from a CDN. Trainees wrote no code and may be offline. This template, given to
nbconvert's HTMLExporter as nbgrader itself does (`HTMLExporter.template_name`), shows no code and no prompts, calls a
decision a decision and the reflection "Your reflection", puts "Comment from your trainer" under it, and gives
points as "2 of 3 points". The words come from CleanFeedback, which labels each graded cell
(`metadata.course_feedback.label`) from the case pack.
"""

from __future__ import annotations

import json
from pathlib import Path

TEMPLATE = "course-feedback"
TEMPLATE_FOLDER = ".feedback-template"  # inside the course folder: written by configure_feedback_page

INDEX = r"""{%- extends 'classic/index.html.j2' -%}
{%- macro points(value, top) -%}
{%- set v = (value or 0) | float -%}{{ '%g' % v }} of {{ '%g' % (top | float) }} point{{ '' if (top | float) == 1 else 's' }}
{%- endmacro -%}
{%- macro label(cell) -%}
{{ cell.metadata.get('course_feedback', {}).get('label') or ('Your reflection' if cell.cell_type == 'markdown' else 'Your answer') }}
{%- endmacro -%}
{%- block header -%}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>Your feedback: {{ nb.metadata.get('course_feedback', {}).get('title') or resources.nbgrader.notebook }}</title>
{{ resources.include_css('bootstrap.min.css') }}
{% for css in resources.inlining.css -%}
<style type="text/css">
{{ css }}
</style>
{% endfor %}
<style>
body { font-size: 16px; padding-top: 1em; }
div#notebook { overflow: visible; border-top: none; font-size: 16px; }
div#notebook-container { width: 100%; box-shadow: none; padding: 0; }
div.prompt, div.input_prompt, div.output_prompt { display: none; }
.feedback-item { margin: 1em 0; }
.feedback-item > .panel-heading { font-weight: bold; }
.feedback-points { float: right; font-weight: normal; }
.trainer-comment { border-left: 4px solid #0072B2; padding: 0.5em 1em; background: #f4f8fb; }
.late { color: #a4161a; }
@media print { div.cell, .feedback-item { page-break-inside: avoid; } }
</style>
</head>
{%- endblock header -%}

{% block body_header %}
<body>
<main class="container">
  <h1>Your feedback: {{ nb.metadata.get('course_feedback', {}).get('title') or resources.nbgrader.notebook }}</h1>
  <p><strong>Your points: {{ points(resources.nbgrader.score, resources.nbgrader.max_score) }}</strong></p>
  <nav aria-label="On this page">
    <ol>
    {%- for cell in nb.cells -%}
      {%- set g = cell.metadata.get('nbgrader', {}) -%}
      {%- if g.get('grade') %}
      <li><a href="#{{ g.grade_id }}">{{ label(cell) }}</a>: {{ points(g.score, g.points) }}
        {%- if g.get('comment') %} (with a comment from your trainer){% endif %}</li>
      {%- endif -%}
    {%- endfor %}
    {%- if resources.nbgrader.late_penalty > 0 %}
      <li class="late">Sent in late: {{ '%g' % (resources.nbgrader.late_penalty | float) }} point(s) taken off</li>
    {%- endif %}
    </ol>
  </nav>
  <div id="notebook" class="border-box-sizing">
    <div class="container" id="notebook-container">
{% endblock body_header %}

{% block body_footer %}
    </div>
  </div>
</main>
</body>
{% endblock body_footer %}

{% block footer %}
</html>
{% endblock footer %}

{%- macro trainer_comment(cell) -%}
{%- if cell.metadata.nbgrader.get('comment') -%}
<div class="panel-footer trainer-comment">
  <p><strong>Comment from your trainer</strong></p>
  {{ cell.metadata.nbgrader.comment | markdown2html | strip_files_prefix }}
</div>
{%- endif -%}
{%- endmacro -%}

{% block markdowncell scoped %}
{%- set g = cell.metadata.get('nbgrader', {}) -%}
{%- if g.get('grade') or g.get('solution') or g.get('task') -%}
<section class="panel panel-default feedback-item" id="{{ g.grade_id }}">
  <div class="panel-heading">{{ label(cell) }}
    {%- if g.get('grade') %}<span class="feedback-points">{{ points(g.score, g.points) }}</span>{% endif %}</div>
  <div class="panel-body text_cell_render rendered_html">
    {{ cell.source | markdown2html | strip_files_prefix }}
  </div>
  {{ trainer_comment(cell) }}
</section>
{%- else -%}
<div class="cell border-box-sizing text_cell rendered">
  <div class="inner_cell">
    <div class="text_cell_render border-box-sizing rendered_html">
      {{ cell.source | markdown2html | strip_files_prefix }}
    </div>
  </div>
</div>
{%- endif -%}
{% endblock markdowncell %}

{% block codecell %}
{%- set g = cell.metadata.get('nbgrader', {}) -%}
{%- if g.get('grade') -%}
<section class="panel panel-default feedback-item" id="{{ g.grade_id }}">
  <div class="panel-heading">{{ label(cell) }}<span class="feedback-points">{{ points(g.score, g.points) }}</span></div>
  <div class="panel-body">{{ super() }}</div>
  {{ trainer_comment(cell) }}
</section>
{%- elif cell.outputs -%}
{{ super() }}
{%- endif -%}
{% endblock codecell %}

{#- Trainees wrote no code and see none: no source, no In/Out prompts. -#}
{% block input_group %}{% endblock input_group %}
{% block in_prompt %}{% endblock in_prompt %}
{% block empty_in_prompt %}{% endblock empty_in_prompt %}
{% block output_area_prompt %}{% endblock output_area_prompt %}
"""


def template_dir(course_dir: Path) -> Path:
    """Write the template into the course folder (where nbconvert finds it) and return the folder holding it."""
    base = Path(course_dir) / TEMPLATE_FOLDER
    folder = base / TEMPLATE
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("conf.json", json.dumps({"base_template": "classic"})), ("index.html.j2", INDEX)):
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return base


def configure_feedback_page(cfg, course_dir: Path | None = None) -> None:
    """Point nbgrader's GenerateFeedback at the course's template (cfg: a traitlets Config, the API's or
    nbgrader_config.py's `c`); nbgrader's own template folder stays on the path for its CSS."""
    import nbgrader

    root = Path(course_dir) if course_dir else Path(str(cfg.CourseDirectory.root))
    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    cfg.HTMLExporter.template_name = TEMPLATE
    cfg.HTMLExporter.extra_template_basedirs = [str(template_dir(root)), str(formgrader)]
