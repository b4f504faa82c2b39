"""Build the module notebooks from their narrative (course.authoring.narrative) and the case pack.

Everything about the case (titles, decisions, points, reflection prompts, key points) comes from data/*.yaml,
so nothing about the case is typed twice. The build is deterministic: the same narrative and pack give
byte-identical notebooks, stored without outputs.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from ..core import dates, paths
from ..core.contract import ANSWER_PLACEHOLDER, reflection_id, score_id
from ..core.records import Case, DecisionPoint, Module
from ..render.module import about_markdown, criteria_markdown
from ..render.style import plural
from .narrative import BLOCKS, DEFAULT_NARRATIVE, INLINE, AuthoringError, parse_narrative

FACADE = "course.notebook"
NBGRADER_SCHEMA = 3
BUILT_BY = "course build-notebooks"


def _cell_id(text: str) -> str:
    """nbformat cell ids: 1-64 of [A-Za-z0-9_-]."""
    cid = re.sub(r"[^A-Za-z0-9_-]", "-", text)
    if len(cid) > 64:
        import hashlib

        cid = cid[:55] + "-" + hashlib.sha1(cid.encode()).hexdigest()[:8]
    return cid


def _markdown(cell_id: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source.strip("\n"), id=_cell_id(cell_id))
    cell.metadata = {"deletable": False, "editable": False}
    return cell


def _code(cell_id: str, source: str, **nbgrader) -> nbformat.NotebookNode:
    """A collapsed, read-only code cell, locked by nbgrader so a changed copy is restored at grading."""
    cid = _cell_id(cell_id)
    cell = nbformat.v4.new_code_cell(source.strip("\n"), id=cid)
    meta = {
        "grade": False,
        "grade_id": cid,
        "locked": True,
        "schema_version": NBGRADER_SCHEMA,
        "solution": False,
        "task": False,
    }
    meta.update(nbgrader)
    cell.metadata = {"deletable": False, "editable": False, "jupyter": {"source_hidden": True}, "nbgrader": meta}
    return cell


def _reflection_answer(module: Module) -> nbformat.NotebookNode:
    assert module.reflection is not None
    grade_id = reflection_id(module.id)
    cell = nbformat.v4.new_markdown_cell(ANSWER_PLACEHOLDER, id=_cell_id(grade_id))
    cell.metadata = {
        "deletable": False,
        "nbgrader": {
            "grade": True,
            "grade_id": grade_id,
            "locked": False,
            "points": module.reflection.points,
            "schema_version": NBGRADER_SCHEMA,
            "solution": True,
            "task": False,
        },
    }
    return cell


def graded_source(decision_id: str) -> str:
    """The autograded cell of the course contract: visible record, hidden score."""
    return f'm.recorded("{decision_id}")\n### BEGIN HIDDEN TESTS\nm.score("{decision_id}")\n### END HIDDEN TESTS'


def _decision_heading(number: int, d: DecisionPoint, lead_in: str = "") -> str:
    title = "Practice decision" if d.practice else f"Decision point {number}"
    lead = f"{lead_in.strip()}\n\n" if lead_in.strip() else ""
    return (
        f"### {title}\n\n{lead}"
        "*Read what you knew at the time, choose, say how sure you are and why, then press **Submit my answer**. "
        "The review's view appears only after you submit, and your first answer is the one that counts.*"
    )


def _sorted_decisions(ds) -> list[DecisionPoint]:
    return sorted(ds, key=lambda d: (not d.practice, dates.start(d.date) if d.date else dates.start("1900"), d.id))


def build_notebook(
    case: Case, module_id: str, narrative: str = DEFAULT_NARRATIVE, where: str = "narrative", facade: str = FACADE
) -> nbformat.NotebookNode:
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
        raise AuthoringError(
            f"{where}: decisions {', '.join(d.id for d in rest)} of module '{module_id}' are not "
            "placed: add {{decision <id>}} lines or a {{decisions}} line"
        )
    if "intro" not in kinds:
        raise AuthoringError(f"{where}: no {{{{intro}}}} line: the module must be opened before its views")
    if "reflection" not in kinds and module.reflection is not None:
        raise AuthoringError(
            f"{where}: module '{module_id}' has a reflection in modules.yaml but no {{{{reflection}}}}"
        )
    first_code = next(i for i, k in enumerate(kinds) if k not in ("text", "title", "learning_together"))
    if kinds[first_code] != "intro":
        raise AuthoringError(
            f"{where}: line {blocks[first_code].line}: {{{{{kinds[first_code]}}}}} comes before "
            "{{intro}}, which opens the module"
        )

    placed_order = []
    for b in blocks:
        if b.kind == "decision":
            placed_order.append(in_module[b.arg])
        elif b.kind == "decisions":
            placed_order += rest
    non_practice = [d for d in placed_order if not d.practice]
    number = {d.id: n for n, d in enumerate(non_practice, start=1)}

    def inline(text: str, line: int) -> str:
        values = {
            "minutes": str(module.minutes),
            "period": module.period_text,
            "decision_count": plural(len(non_practice), "decision point"),
        }

        def value(m: re.Match) -> str:
            name, arg = m.group(1), m.group(2)
            if name == "agency":
                try:
                    return case.agency(arg).name
                except KeyError:
                    raise AuthoringError(
                        f"{where}: line {line}: {{{{agency {arg}}}}} names no agency in agencies.yaml"
                    ) from None
            if name != "when":
                return values[name]
            if arg not in in_module:
                raise AuthoringError(
                    f"{where}: line {line}: {{{{when {arg}}}}} names no decision of module '{module_id}'"
                )
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
        cells.append(_code(score_id(d.id), graded_source(d.id), grade=True, points=d.max_points))

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
                cells.append(
                    _markdown(
                        "learning-together",
                        f"{text}\n\n{items}" if text else f"#### Questions to talk through\n\n{items}",
                    )
                )
        elif b.kind == "reflection":
            r = module.reflection
            if r is None:
                continue
            worth = f"{plural(r.points, 'point')}, marked by your trainer"
            text = lead_in()
            body = (
                f"{text}\n\n**The question ({worth}):**\n\n> {r.prompt}"
                if text
                else f"### Your reflection ({worth})\n\n{r.prompt}"
            )
            marking = criteria_markdown(module)
            if marking:
                body += f"\n\n{marking}"
            cells.append(_markdown("prompt-reflection", body))
            cells[-1].metadata["nbgrader"] = {
                "grade": False,
                "grade_id": "prompt-reflection",
                "locked": True,
                "schema_version": NBGRADER_SCHEMA,
                "solution": False,
                "task": False,
            }
            cells.append(_reflection_answer(module))
            # The page's own box (the answer cell above is nbgrader's: grading puts the box's text into it).
            cells.append(_code("write-reflection", "m.reflection()"))
            # Submitting from the page, right after the reflection (on a single computer: where the work is kept).
            cells.append(_code("submit", "m.submit()"))

    ids = [c.id for c in cells]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise AuthoringError(f"{where}: cells would share the id(s) {', '.join(dupes)}")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"module": module.id, "built_by": BUILT_BY, "narrative": f"notebooks/src/{module.id}.md"},
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


def build_all(
    case: Case, src_dir: Path = paths.NARRATIVES, nb_root: Path = paths.NOTEBOOKS, modules: list[str] | None = None
) -> dict[str, str]:
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


def stale_notebooks(case: Case, src_dir: Path = paths.NARRATIVES, nb_root: Path = paths.NOTEBOOKS) -> list[str]:
    """Module notebooks that differ from what the builder makes now (edited by hand, or data changed)."""
    built = build_all(case, src_dir, nb_root)
    stale = []
    for mid, text in built.items():
        path = notebook_path(nb_root, mid)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(
                f"{_rel(path)}: not what `course build-notebooks` builds from "
                f"{_rel(narrative_path(src_dir, mid))} and the case pack (rebuild it)"
            )
    return stale


def write_all(
    case: Case,
    src_dir: Path = paths.NARRATIVES,
    nb_root: Path = paths.NOTEBOOKS,
    modules: list[str] | None = None,
    log=print,
) -> list[Path]:
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
        return str(Path(path).resolve().relative_to(paths.PROJECT))
    except ValueError:
        return str(path)
