"""Running the workshop report (papermill over the report notebook, then one self-contained HTML page) and
printing a page to PDF with headless Chromium: the shell around the report's pure parts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..core import paths
from ..core.contract import read_only_env
from ..core.records import Case
from .analysis import WorkshopReport, build_report
from .collect import WorkshopError, collect

# The lab template without anything fetched from the internet: no require.js, no widget manager, no MathJax,
# no Mermaid, and our own small stylesheet instead of JupyterLab's (which is large and not needed here).
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block notebook_css -%}{%- endblock notebook_css -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


EXTERNAL_REF = (
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import"""
    r"""|import\(\s*["']?\s*(?:https?:)?//|["']https?://[^"']*\.m?js["']"""
)


def external_references(page: str) -> list[str]:
    """Anything in an HTML page that would make a browser fetch from another host."""
    return [m.group(0) for m in re.finditer(EXTERNAL_REF, page, flags=re.IGNORECASE)]


def notebook_to_html(nb, title: str) -> str:
    """A self-contained HTML page of a notebook's outputs: no code, no prompts, no external assets."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb.metadata["title"] = title
    # Warnings on stderr are not part of the report; errors stop papermill before we get here.
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"course_offline.html.j2": _OFFLINE_TEMPLATE})],
        template_file="course_offline.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}, enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    refs = external_references(body)
    if refs:  # never ship something that needs the internet
        raise WorkshopError([f"the report would load {len(refs)} external resource(s), e.g. {refs[0]!r}"])
    return body


def run_report(
    submissions: Path | str,
    out: Path | str,
    case: Case,
    group: str = "",
    modules=None,
    names: bool = False,
    progress: bool = True,
    template: Path | None = None,
) -> WorkshopReport:
    """Check the submissions, execute the report notebook with papermill (read-only, in a temporary folder)
    and write a self-contained HTML report to `out`. Returns the report as computed in this process."""
    import nbformat
    import papermill as pm

    out = Path(out)
    if out.is_dir():
        raise WorkshopError([f"--out {out} is a folder; give the report's file name, e.g. {out / 'report.html'}"])
    # A bad file never stops the report: it is named in collection.problems and left out of the counts.
    collection = collect(submissions, case, progress=progress)
    report = build_report(case, collection, group=group, modules=modules, names=names)
    template = Path(template or paths.REPORT_TEMPLATE)
    module_ids = " ".join(m.id for m in report.modules)
    params = {
        "submissions": str(Path(submissions).resolve()),
        "group": group,
        "modules": module_ids,
        "names": bool(names),
        "case_dir": str(Path(case.pack_dir).resolve()),
    }
    saved = dict(os.environ)
    os.environ.update(read_only_env())  # inherited by the kernel: nothing in the report run may write answers
    try:
        with tempfile.TemporaryDirectory(prefix="course-report-") as tmp:
            executed = Path(tmp) / "report.ipynb"
            try:
                pm.execute_notebook(
                    str(template),
                    str(executed),
                    parameters=params,
                    cwd=tmp,
                    kernel_name="python3",
                    progress_bar=progress,
                    log_output=False,
                    request_save_on_cell_execute=False,
                )
            except pm.PapermillExecutionError as e:
                raise WorkshopError([f"the report notebook failed: {e.ename}: {e.evalue}"]) from None
            nb = nbformat.read(executed, as_version=4)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    title = f"Workshop report — {group}" if group else "Workshop report"
    page = notebook_to_html(nb, title)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as e:
        raise WorkshopError([f"the report could not be written to {out} ({e.strerror or e})"]) from None
    return report


CHROMIUM = "/usr/bin/chromium"


def html_to_pdf(page: Path, pdf: Path, chromium: str | None = None) -> None:
    """Print an HTML file to PDF with headless Chromium (offline; no network, fresh profile)."""
    exe = chromium or shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if not exe:
        raise WorkshopError(
            [
                "a PDF needs Chromium (the Debian package 'chromium'), which was not found. "
                "Use --format html and print the page to PDF from any browser."
            ]
        )
    with tempfile.TemporaryDirectory(prefix="course-pdf-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            Path(page).resolve().as_uri(),
        ]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
            raise WorkshopError([f"Chromium could not print the certificate to PDF ({e})."]) from None
    if not Path(pdf).exists() or Path(pdf).stat().st_size == 0:
        raise WorkshopError(["Chromium did not write the PDF."])
