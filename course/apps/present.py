"""`course present`: the agency lens and timeline in Voila, for a projector: no code, no answers, offline.

Offline: Voila 0.5's lab template links Font Awesome 5 from cdn.jsdelivr.net (two <link> tags in
voila/templates/lab/index.html.j2). Nothing else in the page comes from a CDN: Voila already drops
require.js, MathJax and the widget-manager script of the nbconvert template, and its own bundle
(voila-style.js) carries the Font Awesome 5 styles with the font files served from Voila's static folder.
So we serve a template, `course-offline`, that extends Voila's lab template and removes exactly those
external links and the Mermaid loader; the page then requests nothing beyond the local server (checked in tests).

The projector notebook is generated at run time in a temporary folder, which is the kernel's working
directory, and the server runs with COURSE_READ_ONLY=1: nothing it does can write an answers file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..core.contract import read_only_env
from ..core.entries import CaseError
from ..core.pack import load_case
from .server import PortError, check_port, free_port, stop, stop_on_sigterm, wait_until_answering
from .voila_templates import EXTENSION_DENYLIST, OFFLINE, write_templates

TEMPLATE_NAME = OFFLINE
VOILA_EXTENSION_DENYLIST = EXTENSION_DENYLIST

CONTENT_WARNING = (
    "**Content warning.** This session is about the abuse, neglect and death of a four-year-old child. "
    "You may step out at any time, without explanation; the facilitator will check in with you afterwards."
)


# Larger type for the back of a room: JupyterLab's and ipywidgets' own size variables, and the course views.
PROJECTOR_CSS = (
    "<style>:root { --jp-content-font-size1: 24px; --jp-widgets-font-size: 22px; --jp-ui-font-size1: 22px; "
    "--jp-content-font-size2: 28px; --jp-content-font-size3: 34px; --jp-content-font-size4: 42px; "
    "--jp-widgets-inline-height: 40px; } "
    "body, .jp-RenderedMarkdown p, .jp-RenderedMarkdown li { font-size: 24px; } "
    "#rendered_cells .course-view { font-size: 24px; max-width: none; line-height: 1.4; } "
    "#rendered_cells .course-view h3 { font-size: 30px; } "
    "#rendered_cells figure.course-view img { width: 100%; max-width: none; } "
    "#rendered_cells figure.course-view > div { display: block !important; width: 100%; } "
    ".widget-readout { max-width: none !important; min-width: 10em; overflow: visible; } "
    ".widget-hbox > .jupyter-button { flex-shrink: 0; min-width: max-content; }</style>"
)


class PresentError(Exception):
    """The projector view cannot start; the message says why."""


def write_template(root: Path) -> Path:
    """Install the offline Voila template under `root` (a Jupyter data folder); return the template folder."""
    write_templates(root)
    return root / "voila" / "templates" / TEMPLATE_NAME


def projector_notebook(module: str | None = None, data: Path | None = None):
    """The notebook Voila shows: a title, the content warning, the agency lens and the timeline."""
    case = load_case(data)
    if module and module not in {m.id for m in case.modules}:
        raise PresentError(f"unknown module {module!r}; this course has {', '.join(m.id for m in case.modules)}")
    mod = case.module(module) if module else None
    heading = f"{mod.title}" if mod else case.title
    period = f"\n\n*Period:* {mod.period_text}." if mod and mod.period_text else ""
    pack = str(Path(case.pack_dir).resolve())
    setup = (
        "from IPython.display import HTML, display\n"
        "from course.core.pack import load_case\n"
        "from course.widgets.lens import Lens\n"
        "from course.widgets.linking import link_views\n"
        "from course.widgets.timeline import Timeline\n"
        f"case = load_case({pack!r})\n"
        f"module = case.module({module!r}) if {module!r} else None\n"
    )
    hidden = {"jupyter": {"source_hidden": True}, "editable": False, "deletable": False}
    nb = new_notebook(
        cells=[
            new_markdown_cell(f"# {heading}{period}\n\n{CONTENT_WARNING}"),
            new_code_cell(setup + f"display(HTML({PROJECTOR_CSS!r}))", metadata=hidden),
            new_markdown_cell(
                "## What each agency held, and when\n\nChoose an agency and a date. Facts that "
                "emerged only afterwards are kept apart and clearly marked as hindsight."
            ),
            new_code_cell(
                "lens = Lens(case, module)\nlens.start_with_something_to_show()\ndisplay(lens)", metadata=hidden
            ),
            new_markdown_cell("## Timeline\n\nThe timeline follows the date and the agency chosen above."),
            new_code_cell(
                "timeline = Timeline(case, module)\nlink_views(lens, timeline)\ndisplay(timeline)", metadata=hidden
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "title": f"Projector view: {heading}",
        },
    )
    return case, nb


def prepare(folder: Path, module: str | None = None, data: Path | None = None) -> tuple[Path, Path]:
    """Write the projector notebook and the offline template into `folder`; return (notebook, jupyter data dir)."""
    _, nb = projector_notebook(module, data)
    path = folder / "present.ipynb"
    nbformat.write(nb, path)
    share = folder / "share" / "jupyter"
    write_template(share)
    return path, share


def voila_command(notebook: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--template={TEMPLATE_NAME}",
        "--theme=light",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--Voila.port_retries=0",  # never serve on another port than the one printed
        # JupyterLab-only extensions in this environment fail to load in Voila and log JavaScript errors
        # (nbgrader: "Shared module @jupyterlab/filebrowser doesn't exist"); the projector needs neither.
        *(f"--VoilaConfiguration.extension_denylist={name}" for name in VOILA_EXTENSION_DENYLIST),
    ]


def voila_environment(share: Path, data: Path | None) -> dict:
    env = read_only_env()
    env["JUPYTER_PATH"] = os.pathsep.join([str(share), *filter(None, [env.get("JUPYTER_PATH")])])
    if data is not None:
        env["COURSE_DATA"] = str(Path(data).resolve())
    return env


def serve(
    module: str | None = None, port: int = 0, no_browser: bool = False, data: Path | None = None, on_ready=None
) -> int:
    """Start Voila on 127.0.0.1:`port` (a free port when 0), print the address, and run until interrupted.
    A port given is checked first: out of range or in use is a PresentError, not another port."""
    try:
        port = check_port(port) if port else free_port()
    except PortError as e:
        raise PresentError(str(e)) from None
    with tempfile.TemporaryDirectory(prefix="course-present-") as tmp:
        try:
            notebook, share = prepare(Path(tmp), module, data)
        except CaseError as e:
            raise PresentError(f"the case pack cannot be loaded:\n{e}") from None
        proc = subprocess.Popen(
            voila_command(notebook, port), cwd=tmp, env=voila_environment(share, data), stdout=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}/"
        stop_on_sigterm()
        try:
            # The static endpoint answers without starting a kernel; the notebook page starts one per visit.
            if not wait_until_answering(url + "voila/static/voila.js", proc):
                raise PresentError(
                    f"Voila stopped while starting (exit code {proc.returncode})"
                    if proc.poll() is not None
                    else "Voila did not start within 60 s"
                )
            print(f"Projector view: {url}", flush=True)
            print("Press Ctrl+C to stop.", flush=True)
            if on_ready is not None:
                on_ready(url)
                return 0
            if not no_browser:
                import webbrowser

                webbrowser.open(url)
            return proc.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop(proc)
