"""nbgrader preprocessors for the course: the reflection mark scheme for graders, feedback that is safe to give
trainees, and autograding that runs only course code (in a reused kernel inside `course grade` workers).

`InsertMarkScheme` runs last at autograde: before each reflection answer cell it puts a locked markdown cell
with the module's rubric (from the case pack), so formgrader, which renders the autograded notebook, shows
the grader the mark scheme beside the answer (nbgrader #1310, #1499).

`CleanFeedback` runs at generate_feedback: it removes that mark scheme, hidden test code, tracebacks and
stderr, and adds under each decision what the trainee recorded and what the review found.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer

MARK_SCHEME_TAG = "course-mark-scheme"
MARK_SCHEME_HEADING = "Mark scheme (for graders only, removed from trainee feedback)"
REVIEW_TAG = "course-feedback-review"
# A cell that only draws one of the module's views (contract: `m.lens()`, `m.decision("d-x")`, ...).
VIEW_CALL = re.compile(r"^\s*m\.(intro|lens|timeline|decision|summary|key_points)\([^\n]*\)\s*$")
HIDDEN_REGION = re.compile(r"^[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
MARK_SCHEME_REGION = re.compile(r"^[^\n]*BEGIN MARK SCHEME.*?END MARK SCHEME[^\n]*\n?", re.S | re.M)
NOT_RUN_MESSAGE = "This check could not be completed. Your trainer has the details and can explain your score."


def _load_case():
    from .case import load_case

    return load_case()


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_mark_scheme_cell(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", []) or []
    return MARK_SCHEME_TAG in tags or MARK_SCHEME_HEADING in cell.get("source", "")


def mark_scheme_markdown(module) -> str:
    r = module.reflection
    lines = [
        f"### {MARK_SCHEME_HEADING}",
        "",
        f"**{module.title}: reflection, {r.points} point{'s' if r.points != 1 else ''}.**",
        "",
        f"Prompt the trainee answered: *{r.prompt}*",
        "",
        "| Points | The answer |",
        "| --- | --- |",
    ]
    for level in sorted(r.rubric, key=lambda lv: lv.points):
        lines.append(f"| {level.points} | {level.descriptor.replace('|', '/')} |")
    lines += ["", "Between two levels, give the points in between. Say why in the comment box: the trainee sees it."]
    return "\n".join(lines)


class InsertMarkScheme(NbGraderPreprocessor):
    """Put the reflection's mark scheme, locked, just above each reflection answer cell."""

    def preprocess(self, nb, resources):
        case = None
        cells = []
        for cell in nb.cells:
            if is_mark_scheme_cell(cell):
                continue  # never two copies, whatever the input held
            grade_id = _nbgrader_meta(cell).get("grade_id", "")
            if cell.cell_type == "markdown" and grade_id.startswith("reflection-"):
                case = case or _load_case()
                module_id = grade_id[len("reflection-"):]
                try:
                    module = case.module(module_id)
                except KeyError:
                    module = None
                if module is not None and module.reflection is not None:
                    ms = nbformat.v4.new_markdown_cell(mark_scheme_markdown(module))
                    ms.metadata = {"tags": [MARK_SCHEME_TAG], "editable": False, "deletable": False}
                    cells.append(ms)
            cells.append(cell)
        nb.cells = cells
        return nb, resources


def _read_first_answers(folder: Path) -> tuple[dict, str]:
    """The recorded decisions beside the notebook, and a plain note when there are none."""
    from .answers import AnswersError, read_answers

    path = folder / "answers.json"
    if not path.exists():
        return {}, "No answers file was submitted with this module, so no decision was recorded."
    try:
        answers = read_answers(path)  # never writes; upgrades older files
    except AnswersError:
        return {}, "Your answers file could not be read, so no decision could be scored."
    return {d: {"first": answers.first(d)} for d in answers}, ""


def _review_markdown(decision, recorded: dict | None, note: str) -> str:
    lines = [f"#### What the review found: {decision.question}", ""]
    first = (recorded or {}).get("first") if isinstance(recorded, dict) else None
    if isinstance(first, dict):
        choice = first.get("choice")
        chosen = [choice] if isinstance(choice, str) else list(choice or [])
        for cid in chosen:
            opt = decision.option(str(cid))
            if opt is not None:
                lines.append(f"- You chose **{opt.text}**. {opt.feedback}")
    else:
        lines.append(f"- {note or 'You did not record an answer to this decision.'}")
    lines += ["", decision.review.summary, ""]
    for q in decision.review.quotes:
        lines += [f"> \u201c{q.quote}\u201d", ">", f"> \u2014 {q.attribution}", ""]
    return "\n".join(lines).rstrip() + "\n"


class CleanFeedback(NbGraderPreprocessor):
    """Make an autograded notebook safe to hand back: no mark scheme, hidden tests, tracebacks or stderr."""

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        case = None
        answers = note = None
        cells = []
        for cell in nb.cells:
            if is_mark_scheme_cell(cell) or REVIEW_TAG in (cell.get("metadata", {}).get("tags", []) or []):
                continue
            cell.source = MARK_SCHEME_REGION.sub("", cell.source)
            if cell.cell_type == "code":
                hidden = "HIDDEN TESTS" in cell.source
                cell.source = HIDDEN_REGION.sub("", cell.source).rstrip()
                cell.outputs = self._safe_outputs(cell.outputs, drop_results=hidden)
            cells.append(cell)
            grade_id = _nbgrader_meta(cell).get("grade_id", "")
            if cell.cell_type == "code" and grade_id.startswith("score-"):
                case = case or _load_case()
                try:
                    decision = case.decision(grade_id[len("score-"):])
                except KeyError:
                    continue
                if answers is None:
                    answers, note = _read_first_answers(folder)
                md = nbformat.v4.new_markdown_cell(_review_markdown(decision, answers.get(decision.id), note))
                md.metadata = {"tags": [REVIEW_TAG]}
                cells.append(md)
        nb.cells = cells
        return nb, resources

    @staticmethod
    def _safe_outputs(outputs, drop_results: bool):
        safe = []
        failed = False
        for out in outputs:
            if out.get("output_type") == "error" or (out.get("output_type") == "stream" and out.get("name") == "stderr"):
                failed = True
                continue
            if drop_results and out.get("output_type") == "execute_result":
                continue  # the value a hidden check returned: the score header already says it plainly
            if "traceback" in json.dumps(out.get("data", {})).lower() and "Traceback (most recent call last)" in json.dumps(out):
                failed = True
                continue
            safe.append(out)
        if failed:
            safe.append(nbformat.v4.new_output("stream", name="stdout", text=NOT_RUN_MESSAGE + "\n"))
        return safe


# --------------------------------------------------------------------------- autograde integrity and speed


class DropAddedCode(NbGraderPreprocessor):
    """Before execution, remove code cells the course did not ship (trainees see and write no code).

    A trainee could otherwise add a cell such as `m.score = lambda d: 2` above a graded cell and take full
    marks: nbgrader restores the cells it knows, but runs the ones a trainee adds.
    """

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook, MissingEntry

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            try:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            known = {c.name for c in notebook.source_cells} | {c.name for c in notebook.grade_cells}
        kept, seen = [], set()
        for cell in nb.cells:
            grade_id = _nbgrader_meta(cell).get("grade_id")
            if cell.cell_type == "code" and (grade_id not in known or grade_id in seen):
                self.log.warning("Not running a code cell that is not part of the course: %r", cell.source[:80])
                continue
            seen.add(grade_id)
            kept.append(cell)
        nb.cells = kept
        return nb, resources


RESET_KERNEL = """
get_ipython().run_line_magic("reset", "-f")
import os as _os, sys as _sys
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
if "ipywidgets" in _sys.modules:
    _sys.modules["ipywidgets"].Widget.close_all()
_os.chdir({path!r})
get_ipython().execution_count = 1
import course.feedback_preprocessor as _fp
_fp.share_case_between_submissions()
del _os, _sys, _fp
"""


def share_case_between_submissions() -> None:
    """In a reused grading kernel, load each case pack once: its records are frozen, so one copy serves every
    submission (checking every quotation against the source again for each trainee costs about a second).
    A change to any YAML file in the pack loads it afresh."""
    import sys

    from . import case as case_mod

    original = getattr(case_mod, "_load_case_uncached", None)
    if original is None:
        original = case_mod.load_case
        memo: dict = {}

        def load_case(pack_dir=None):
            folder = Path(pack_dir) if pack_dir is not None else case_mod.default_pack_dir()
            key = (str(folder.resolve()),
                   tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.yaml"))))
            if key not in memo:
                memo[key] = original(pack_dir)
            return memo[key]

        case_mod._load_case_uncached = original
        case_mod._load_case_shared = load_case
    for mod in list(sys.modules.values()):
        if getattr(mod, "load_case", None) is original:
            mod.load_case = case_mod._load_case_shared


class SharedKernelExecute(Execute):
    """nbgrader's Execute, but in `course grade` workers (COURSE_SHARED_KERNEL=1) one kernel per worker is
    reused across submissions: between notebooks the namespace is reset, figures and widgets are closed,
    the kernel moves to the submission's folder and the case pack is loaded once. This saves the kernel
    start, the heavy imports (ipywidgets, matplotlib) and the case check per submission. Only course code
    runs (DropAddedCode) and the course's modules keep no state between calls, so one trainee's notebook
    cannot reach another's. Elsewhere (plain `nbgrader autograde`) every notebook gets a fresh kernel.
    """

    _shared_km = None
    _uses = 0
    # A fresh kernel after this many submissions keeps a worker's memory bounded however big the cohort
    # (measured: about 280 MB after 20 submissions, 350 MB after 90, growing slowly).
    reuse_limit = Integer(30, help="Submissions graded in one kernel before a fresh one is started.").tag(config=True)

    skip_views = Bool(True, help=(
        "Do not draw the module's interactive views (lens, timeline, decision widgets, summary) at autograde: "
        "scores come from answers.json alone, and widget output cannot be shown in formgrader or feedback "
        "(nbgrader keeps no widget state), so drawing them only costs time.")).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if (self.skip_views and cell.cell_type == "code" and not _nbgrader_meta(cell).get("grade")
                and VIEW_CALL.match(cell.source)):
            cell.outputs = []
            cell.execution_count = None
            return cell, resources
        return super().preprocess_cell(cell, resources, index)

    def preprocess(self, nb, resources=None, km=None):
        if os.environ.get("COURSE_SHARED_KERNEL") != "1":
            return super().preprocess(nb, resources, km)
        from nbclient import NotebookClient

        cls = SharedKernelExecute
        if cls._shared_km is not None and (not cls._shared_km.has_kernel or cls._uses >= self.reuse_limit):
            shutdown_shared_kernel()
        cls._uses += 1
        path = (resources or {}).get("metadata", {}).get("path") or os.getcwd()
        NotebookClient.__init__(self, nb, cls._shared_km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        if cls._shared_km is None:  # first notebook of this worker: start the kernel it will keep
            self.create_kernel_manager()
            self.start_new_kernel()
            cls._shared_km = self.km
        self.owns_km = False  # so nbclient neither shuts it down nor stops it after this notebook
        try:
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                reply = self.wait_for_reply(self.kc.execute(RESET_KERNEL.format(path=os.path.abspath(path)),
                                                            silent=True, store_history=False))
                if not reply or reply["content"]["status"] != "ok":
                    content = (reply or {}).get("content", {})
                    raise RuntimeError(f"the shared grading kernel could not be reset: {content.get('evalue')}")
                for index, cell in enumerate(self.nb.cells):
                    self.preprocess_cell(cell, resources, index)
        except Exception:
            shutdown_shared_kernel()  # never carry a kernel in an unknown state to the next trainee
            raise
        finally:
            if self.kc is not None:
                self.kc.stop_channels()
                self.kc = None
        self.set_widgets_metadata()
        return self.nb, self.resources


def shutdown_shared_kernel() -> None:
    km = SharedKernelExecute._shared_km
    SharedKernelExecute._shared_km = None
    SharedKernelExecute._uses = 0
    if km is not None:
        from jupyter_core.utils import run_sync

        try:
            run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # the worker is ending or the kernel is already gone
            pass
