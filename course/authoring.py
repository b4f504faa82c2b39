"""Build the module notebooks from their narrative (notebooks/src/<module>.md) and the case pack.

The narrative file holds only our own framing text; everything about the case (titles, decisions, points,
reflection prompts, key points) comes from data/*.yaml, so nothing about the case is typed twice. The
build is deterministic: the same narrative and pack give byte-identical notebooks, stored without outputs.

Narrative format: markdown. A line `+++` ends a markdown cell. A line holding only a marker puts generated
cells there:

    {{title}}              the module's title (markdown, from modules.yaml)
    {{intro}}              'About this module' (markdown: objectives, time, period), then the cell that opens
                           the module (facade)
    {{lens}}               the agency lens for the module's period
    {{timeline}}           the swimlane timeline for the module's period
    {{decision d-x}}       one decision point: heading, widget, and its autograded cell
    {{decisions}}          every decision of the module not placed by name, in date order
    {{learning_together}}  the module's Learning Together prompts (markdown, from modules.yaml)
    {{reflection}}         the reflection prompt (locked) and the trainee's answer cell (manually graded)
    {{summary}}            the module summary: the trainee's answers beside the review's
    {{key_points}}         the key points, 7-minute-briefing style

Inline, `{{minutes}}`, `{{period}}` and `{{decision_count}}` are replaced by the module's values, and
`{{when d-x}}` by the date_text of one of its decisions, `{{agency id}}` by an agency's name.
Lines starting with `%%` are notes for authors and are left out.

Run `python -m course.authoring` (or `course build-notebooks`) to rewrite notebooks/<id>/<id>.ipynb.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import dates
from .case import Case, DecisionPoint, Module, default_pack_dir, load_case

PROJECT = Path(__file__).resolve().parent.parent
NOTEBOOKS = PROJECT / "notebooks"
SOURCES = NOTEBOOKS / "src"
FACADE = "course.notebook"
NBGRADER_SCHEMA = 3
REFLECTION_STUB = "YOUR ANSWER HERE"  # nbgrader's ClearSolutions.text_stub: what a release shows anyway

MARKER = re.compile(r"^\{\{\s*([a-z_]+)(?:\s+([A-Za-z0-9_.-]+))?\s*\}\}$")
INLINE = re.compile(r"\{\{\s*(minutes|period|decision_count|when|agency)(?:\s+([A-Za-z0-9_.-]+))?\s*\}\}")
BLOCKS = ("title", "intro", "lens", "timeline", "decision", "decisions", "learning_together", "reflection",
          "summary", "key_points")

# What a module with no narrative file of its own would say (used for the fictional test course).
DEFAULT_NARRATIVE = "\n".join(
    "{{" + b + "}}" for b in ("title", "intro", "lens", "timeline", "decisions", "learning_together", "reflection",
                              "summary")
)


class AuthoringError(Exception):
    """A narrative file that does not fit the case pack; the message names the file, line and fix."""


@dataclass(frozen=True)
class _Block:
    kind: str  # "text" or a marker name
    text: str = ""
    arg: str = ""
    line: int = 0


def parse_narrative(text: str, where: str = "narrative") -> list[_Block]:
    """Split a narrative file into markdown text blocks and markers, checking marker names."""
    blocks: list[_Block] = []
    buf: list[str] = []
    start = 1

    def flush():
        body = "\n".join(buf).strip("\n")
        if body.strip():
            blocks.append(_Block("text", body, line=start))
        buf.clear()

    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("%%"):
            continue
        stripped = line.strip()
        if stripped == "+++":
            flush()
            start = n + 1
            continue
        m = MARKER.match(stripped)
        if m:
            flush()
            name, arg = m.group(1), m.group(2) or ""
            if name not in BLOCKS:
                raise AuthoringError(f"{where}: line {n}: unknown marker {{{{{name}}}}} "
                                     f"(known: {', '.join(BLOCKS)})")
            if (name == "decision") != bool(arg):
                raise AuthoringError(f"{where}: line {n}: {{{{decision d-...}}}} takes one decision id; "
                                     f"{{{{{name}}}}} takes none")
            blocks.append(_Block(name, arg=arg, line=n))
            start = n + 1
            continue
        if "{{" in stripped and not INLINE.search(stripped):
            raise AuthoringError(f"{where}: line {n}: a marker must stand alone on its line: {stripped[:60]!r}")
        if not buf:
            start = n
        buf.append(line)
    flush()
    return blocks


# --------------------------------------------------------------------------- cells


def _cell_id(text: str) -> str:
    """nbformat cell ids: 1-64 of [A-Za-z0-9_-]."""
    cid = re.sub(r"[^A-Za-z0-9_-]", "-", text)
    if len(cid) > 64:
        import hashlib

        cid = cid[:55] + "-" + hashlib.sha1(cid.encode()).hexdigest()[:8]
    return cid


def about_markdown(case: Case, module: Module) -> str:
    """'About this module': what it covers, its period, time and number of decisions, and its objectives (the
    same facts as ModuleSession.intro(), from modules.yaml and decisions.yaml)."""
    n = len(case.decisions_in(module.id))
    objectives = "\n".join(f"- {o}" for o in module.objectives)
    return (f"## About this module\n\n{module.summary}\n\n**Period:** {module.period_text}. **Time:** about "
            f"{module.minutes} minutes. **Decisions:** {n}.\n\n### By the end you will be able to\n\n{objectives}")


def _markdown(cell_id: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source.strip("\n"), id=_cell_id(cell_id))
    cell.metadata = {"deletable": False, "editable": False}
    return cell


def _code(cell_id: str, source: str, **nbgrader) -> nbformat.NotebookNode:
    """A collapsed, read-only code cell, locked by nbgrader so a changed copy is restored at grading."""
    cid = _cell_id(cell_id)
    cell = nbformat.v4.new_code_cell(source.strip("\n"), id=cid)
    meta = {"grade": False, "grade_id": cid, "locked": True, "schema_version": NBGRADER_SCHEMA,
            "solution": False, "task": False}
    meta.update(nbgrader)
    cell.metadata = {"deletable": False, "editable": False, "jupyter": {"source_hidden": True},
                     "nbgrader": meta}
    return cell


def _reflection_answer(module: Module) -> nbformat.NotebookNode:
    grade_id = f"reflection-{module.id}"
    cell = nbformat.v4.new_markdown_cell(REFLECTION_STUB, id=_cell_id(grade_id))
    cell.metadata = {"deletable": False, "nbgrader": {
        "grade": True, "grade_id": grade_id, "locked": False, "points": module.reflection.points,
        "schema_version": NBGRADER_SCHEMA, "solution": True, "task": False}}
    return cell


def graded_source(decision_id: str) -> str:
    """The autograded cell of the course contract: visible record, hidden score."""
    return (f'm.recorded("{decision_id}")\n'
            "### BEGIN HIDDEN TESTS\n"
            f'm.score("{decision_id}")\n'
            "### END HIDDEN TESTS")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _decision_heading(number: int, d: DecisionPoint, lead_in: str = "") -> str:
    title = "Practice decision" if d.practice else f"Decision point {number}"
    lead = f"{lead_in.strip()}\n\n" if lead_in.strip() else ""
    return (f"### {title}\n\n{lead}"
            "*Read what you knew at the time, choose, say how sure you are and why, then press **Submit my answer**. "
            "The review's view appears only after you submit, and your first answer is the one that counts.*")


def _sorted_decisions(ds) -> list[DecisionPoint]:
    return sorted(ds, key=lambda d: (not d.practice, dates.start(d.date) if d.date else dates.start("1900"), d.id))


# --------------------------------------------------------------------------- build


def build_notebook(case: Case, module_id: str, narrative: str = DEFAULT_NARRATIVE, where: str = "narrative",
                   facade: str = FACADE) -> nbformat.NotebookNode:
    """The module's notebook, from its narrative and the case pack. Raises AuthoringError on a mismatch."""
    try:
        module = case.module(module_id)
    except KeyError:
        raise AuthoringError(f"{where}: module '{module_id}' is not in modules.yaml") from None
    blocks = parse_narrative(narrative, where)
    in_module = {d.id: d for d in case.decisions_in(module_id)}
    named = [b for b in blocks if b.kind == "decision"]
    seen: set[str] = set()
    for b in named:
        if b.arg not in in_module:
            other = next((d.module for d in case.decisions if d.id == b.arg), None)
            hint = f" (it belongs to module '{other}')" if other else " (no such decision in decisions.yaml)"
            raise AuthoringError(f"{where}: line {b.line}: decision '{b.arg}' is not in module '{module_id}'{hint}")
        if b.arg in seen:
            raise AuthoringError(f"{where}: line {b.line}: decision '{b.arg}' is placed twice")
        seen.add(b.arg)
    rest = _sorted_decisions(d for d in in_module.values() if d.id not in seen)
    kinds = [b.kind for b in blocks]
    for once in BLOCKS:
        if once != "decision" and kinds.count(once) > 1:
            raise AuthoringError(f"{where}: {{{{{once}}}}} appears {kinds.count(once)} times; use it once")
    if rest and "decisions" not in kinds:
        raise AuthoringError(f"{where}: decisions {', '.join(d.id for d in rest)} of module '{module_id}' are not "
                             "placed: add {{decision <id>}} lines or a {{decisions}} line")
    if "intro" not in kinds:
        raise AuthoringError(f"{where}: no {{{{intro}}}} line: the module must be opened before its views")
    if "reflection" not in kinds and module.reflection is not None:
        raise AuthoringError(f"{where}: module '{module_id}' has a reflection in modules.yaml but no {{{{reflection}}}}")
    first_code = next(i for i, k in enumerate(kinds) if k not in ("text", "title", "learning_together"))
    if kinds[first_code] != "intro":
        raise AuthoringError(f"{where}: line {blocks[first_code].line}: {{{{{kinds[first_code]}}}}} comes before "
                             "{{intro}}, which opens the module")

    placed_order = []
    for b in blocks:
        if b.kind == "decision":
            placed_order.append(in_module[b.arg])
        elif b.kind == "decisions":
            placed_order += rest
    non_practice = [d for d in placed_order if not d.practice]
    number = {d.id: n for n, d in enumerate(non_practice, start=1)}

    def inline(text: str, line: int) -> str:
        values = {"minutes": str(module.minutes), "period": module.period_text,
                  "decision_count": _plural(len(non_practice), "decision point")}

        def value(m: re.Match) -> str:
            name, arg = m.group(1), m.group(2)
            if name == "agency":
                try:
                    return case.agency(arg).name
                except KeyError:
                    raise AuthoringError(f"{where}: line {line}: {{{{agency {arg}}}}} names no agency in "
                                         "agencies.yaml") from None
            if name != "when":
                return values[name]
            if arg not in in_module:
                raise AuthoringError(f"{where}: line {line}: {{{{when {arg}}}}} names no decision of module "
                                     f"'{module_id}'")
            return in_module[arg].date_text

        return INLINE.sub(value, text)

    cells: list[nbformat.NotebookNode] = []
    text_no = 0

    def lead_in() -> str:
        """The narrative text just before a generated cell, taken out to be merged into it (one cell, not two)."""
        if cells and cells[-1].id.startswith("text-"):
            return cells.pop().source
        return ""

    def decision_cells(d: DecisionPoint):
        cells.append(_markdown(f"decision-{d.id}-heading", _decision_heading(number.get(d.id, 0), d, lead_in())))
        cells.append(_code(f"decision-{d.id}", f'm.decision("{d.id}")'))
        cells.append(_code(f"score-{d.id}", graded_source(d.id), grade=True, points=d.max_points))

    for b in blocks:
        if b.kind == "text":
            text_no += 1
            cells.append(_markdown(f"text-{text_no:02d}", inline(b.text, b.line)))
        elif b.kind == "title":
            head = f"# Module {module.order}: {module.title}" if module.order else f"# {module.title}"
            cells.append(_markdown("title", head))
        elif b.kind == "intro":
            # Written into the notebook, not shown by a code cell: it is there before anything runs (and in
            # nbgrader's views of a submission), and each output a cell adds costs JupyterLab a re-layout on
            # Run All (bench/bench_browser.py). The cell that opens the module then shows nothing.
            cells.append(_markdown("about", about_markdown(case, module)))
            cells.append(_code("intro", f'from {facade} import open_module\n\nm = open_module("{module.id}")'))
        elif b.kind in ("lens", "timeline", "summary"):
            cells.append(_code(b.kind, f"m.{b.kind}()"))
        elif b.kind == "key_points":
            cells.append(_code("key-points", "m.key_points()"))
        elif b.kind == "decision":
            decision_cells(in_module[b.arg])
        elif b.kind == "decisions":
            for d in rest:
                decision_cells(d)
        elif b.kind == "learning_together":
            if module.learning_together:
                items = "\n".join(f"- {q}" for q in module.learning_together)
                text = lead_in()
                cells.append(_markdown("learning-together", f"{text}\n\n{items}" if text
                                       else f"#### Questions to talk through\n\n{items}"))
        elif b.kind == "reflection":
            r = module.reflection
            if r is None:
                continue
            worth = f"{_plural(r.points, 'point')}, marked by your trainer"
            text = lead_in()
            body = (f"{text}\n\n**The question ({worth}):**\n\n> {r.prompt}" if text
                    else f"### Your reflection ({worth})\n\n{r.prompt}")
            cells.append(_markdown("prompt-reflection", body))
            cells[-1].metadata["nbgrader"] = {"grade": False, "grade_id": "prompt-reflection", "locked": True,
                                              "schema_version": NBGRADER_SCHEMA, "solution": False, "task": False}
            cells.append(_reflection_answer(module))

    ids = [c.id for c in cells]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise AuthoringError(f"{where}: cells would share the id(s) {', '.join(dupes)}")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"module": module.id, "built_by": "python -m course.authoring",
                   "narrative": f"notebooks/src/{module.id}.md"},
    }
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The stored form: nbformat's own JSON layout, ending in a newline."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def notebook_path(nb_root: Path, module_id: str) -> Path:
    return Path(nb_root) / module_id / f"{module_id}.ipynb"


def narrative_path(src_dir: Path, module_id: str) -> Path:
    return Path(src_dir) / f"{module_id}.md"


def build_all(case: Case, src_dir: Path = SOURCES, nb_root: Path = NOTEBOOKS,
              modules: list[str] | None = None) -> dict[str, str]:
    """The stored text of each module's notebook, keyed by module id; raises AuthoringError listing problems."""
    out: dict[str, str] = {}
    problems: list[str] = []
    for module in case.modules:
        if modules and module.id not in modules:
            continue
        src = narrative_path(src_dir, module.id)
        rel = _rel(src)
        if not src.exists():
            problems.append(f"{rel}: narrative file missing (every module needs one)")
            continue
        try:
            out[module.id] = notebook_text(build_notebook(case, module.id, src.read_text(encoding="utf-8"), rel))
        except AuthoringError as e:
            problems.append(str(e))
    if problems:
        raise AuthoringError("\n".join(problems))
    return out


def stale_notebooks(case: Case, src_dir: Path = SOURCES, nb_root: Path = NOTEBOOKS) -> list[str]:
    """Module notebooks that differ from what the builder makes now (edited by hand, or data changed)."""
    built = build_all(case, src_dir, nb_root)
    stale = []
    for mid, text in built.items():
        path = notebook_path(nb_root, mid)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(f"{_rel(path)}: not what `python -m course.authoring` builds from "
                         f"{_rel(narrative_path(src_dir, mid))} and the case pack (rebuild it)")
    return stale


def write_all(case: Case, src_dir: Path = SOURCES, nb_root: Path = NOTEBOOKS, modules: list[str] | None = None,
              log=print) -> list[Path]:
    written = []
    for mid, text in build_all(case, src_dir, nb_root, modules).items():
        path = notebook_path(nb_root, mid)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            log(f"{_rel(path)}: unchanged")
            continue
        path.write_text(text, encoding="utf-8")
        written.append(path)
        log(f"{_rel(path)}: written")
    return written


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(PROJECT))
    except ValueError:
        return str(path)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="a case pack folder (default: $COURSE_DATA or the course's data/)")
    p.add_argument("--src", default=str(SOURCES), help="folder of narrative .md files (default: notebooks/src)")
    p.add_argument("--out", default=str(NOTEBOOKS), help="folder of module notebooks (default: notebooks)")
    p.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    p.add_argument("modules", nargs="*", help="module ids (default: all)")


def run(args: argparse.Namespace) -> int:
    from .case import CaseError

    try:
        case = load_case(Path(args.data) if args.data else default_pack_dir())
        if args.check:
            stale = stale_notebooks(case, Path(args.src), Path(args.out))
            for s in stale:
                print(s)
            print("All module notebooks are up to date." if not stale else f"{len(stale)} notebook(s) out of date.")
            return 1 if stale else 0
        write_all(case, Path(args.src), Path(args.out), args.modules or None)
    except (CaseError, AuthoringError) as e:
        print(e, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course.authoring", description=__doc__.splitlines()[0])
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
