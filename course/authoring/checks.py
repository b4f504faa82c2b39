"""Checks on the module notebooks against the case pack: every decision placed once, graded cells and points
as the data says, code hidden and locked, one reflection per module, no answers file and no mark scheme."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..core.contract import GRADER_ONLY, grade_kind, reflection_id, score_id
from ..core.records import Case
from .build import stale_notebooks
from .narrative import AuthoringError

DECISION_CALL = re.compile(r"""\bm\.decision\(\s*["']([^"']+)["']\s*\)""")
OPEN_CALL = re.compile(r"""open_module\(\s*["']([^"']+)["']""")


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _meta(cell) -> dict:
    return cell.get("metadata", {}) or {}


def _nbg(cell) -> dict:
    return _meta(cell).get("nbgrader", {}) or {}


def _code_cell_problems(rel: str, n: int, cell) -> list[str]:
    meta = _meta(cell)
    problems = []
    if not (meta.get("jupyter", {}) or {}).get("source_hidden"):
        problems.append(f"{rel}: cell {n}: code is not collapsed (metadata.jupyter.source_hidden must be true)")
    if meta.get("editable") is not False or meta.get("deletable") is not False:
        problems.append(f"{rel}: cell {n}: code is not read-only (metadata editable and deletable must be false)")
    if not _nbg(cell).get("locked"):
        problems.append(f"{rel}: cell {n}: code is not locked for nbgrader (metadata.nbgrader.locked must be true)")
    return problems


def notebook_decisions(nb: dict) -> list[str]:
    """Decision ids a notebook shows (m.decision calls), in order."""
    found = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            found += DECISION_CALL.findall(_source(cell))
    return found


def _module_problems(case: Case, module, nb: dict, rel: str) -> list[str]:
    problems = []
    cells = nb.get("cells", [])
    in_data = {d.id: d for d in case.decisions_in(module.id)}
    shown = notebook_decisions(nb)
    opened = {m for c in cells if c.get("cell_type") == "code" for m in OPEN_CALL.findall(_source(c))}
    if opened != {module.id}:
        problems.append(f"{rel}: opens module(s) {sorted(opened) or 'none'}; it must open exactly '{module.id}'")
    for did in shown:
        if did not in in_data:
            owner = next((d.module for d in case.decisions if d.id == did), None)
            problems.append(
                f"{rel}: decision '{did}' "
                + (f"belongs to module '{owner}' in decisions.yaml" if owner else "is not in decisions.yaml")
            )
    graded: dict[str, list] = {}
    for n, cell in enumerate(cells, start=1):
        text = _source(cell)
        for marker in GRADER_ONLY:
            if marker in text:
                problems.append(f"{rel}: cell {n}: holds {marker!r}, which is for graders only")
        if cell.get("cell_type") == "code":
            problems += _code_cell_problems(rel, n, cell)
        meta = _nbg(cell)
        if meta.get("grade"):
            graded.setdefault(meta.get("grade_id", ""), []).append((n, cell))
        elif grade_kind(str(meta.get("grade_id", ""))) != "other":
            problems.append(f"{rel}: cell {n}: named {meta.get('grade_id')!r} like a graded cell, but it is not one")
        elif meta and meta.get("schema_version") != 3:
            problems.append(f"{rel}: cell {n}: nbgrader metadata must have schema_version 3")
    for did, d in in_data.items():
        if did not in shown:
            problems.append(f"{rel}: decision '{did}' of module '{module.id}' is not shown (no m.decision call)")
        gid = score_id(did)
        entries = graded.pop(gid, [])
        if len(entries) != 1:
            problems.append(f"{rel}: needs exactly one graded cell '{gid}', found {len(entries)}")
            continue
        n, cell = entries[0]
        meta = _nbg(cell)
        text = _source(cell)
        if cell.get("cell_type") != "code" or not meta.get("locked") or meta.get("solution"):
            problems.append(f"{rel}: cell {n} ('{gid}'): must be a locked, autograded code cell")
        if meta.get("points") != d.max_points:
            problems.append(
                f"{rel}: cell {n} ('{gid}'): worth {meta.get('points')} points; decisions.yaml gives {d.max_points}"
            )
        if meta.get("schema_version") != 3:
            problems.append(f"{rel}: cell {n} ('{gid}'): nbgrader metadata must have schema_version 3")
        hidden = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)\n### END HIDDEN TESTS", text, re.DOTALL)
        if f'm.recorded("{did}")' not in text or not hidden or f'm.score("{did}")' not in hidden.group(1):
            problems.append(
                f"{rel}: cell {n} ('{gid}'): must show m.recorded and score with m.score inside the hidden tests"
            )
    for did, counts in sorted(shown_counts(shown).items()):
        if counts > 1:
            problems.append(f"{rel}: decision '{did}' is shown {counts} times")
    rid = reflection_id(module.id)
    reflections = graded.pop(rid, [])
    if module.reflection is not None:
        if len(reflections) != 1:
            problems.append(f"{rel}: needs exactly one reflection answer cell '{rid}', found {len(reflections)}")
        else:
            n, cell = reflections[0]
            meta = _nbg(cell)
            if cell.get("cell_type") != "markdown" or not meta.get("solution") or meta.get("locked"):
                problems.append(
                    f"{rel}: cell {n} ('{rid}'): must be an unlocked markdown answer cell (nbgrader solution and grade)"
                )
            if meta.get("points") != module.reflection.points:
                problems.append(
                    f"{rel}: cell {n} ('{rid}'): worth {meta.get('points')} points; modules.yaml "
                    f"gives {module.reflection.points}"
                )
            if n < 2 or module.reflection.prompt not in _source(cells[n - 2]):
                problems.append(
                    f"{rel}: cell {n} ('{rid}'): the reflection prompt from modules.yaml must be in "
                    "the cell just above it"
                )
        everything = "\n".join(_source(c) for c in cells)
        # Graders' text: the anchor answers of an analytic scheme (its criteria are shown to trainees on
        # purpose), or the levels of a holistic one.
        if module.reflection.criteria:
            private = [lv.anchor for c in module.reflection.criteria for lv in c.levels]
        else:
            private = [lv.descriptor for lv in module.reflection.rubric]
        for text in private:
            if len(text) > 40 and text in everything:
                problems.append(f"{rel}: holds mark scheme text ({text[:40]!r}...), which is for graders only")
    for gid in sorted(graded):
        problems.append(f"{rel}: graded cell '{gid}' matches no decision or reflection of module '{module.id}'")
    return problems


def shown_counts(ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in ids:
        out[i] = out.get(i, 0) + 1
    return out


def answers_files(nb_root: Path) -> list[Path]:
    return sorted(p for p in Path(nb_root).rglob("answers.json*") if p.is_file())


def module_notebook_problems(case: Case, nb_root: Path, src_dir: Path | None = None) -> list[str]:
    """Problems linking notebooks to the case pack; empty when all hold."""
    nb_root = Path(nb_root)
    problems = [
        f"{p}: an answers file must never be kept in the notebooks folder (it would be released to trainees); delete it"
        for p in answers_files(nb_root)
    ]
    where_shown: dict[str, list[str]] = {}
    for module in case.modules:
        path = nb_root / module.id / f"{module.id}.ipynb"
        rel = f"{nb_root.name}/{module.id}/{module.id}.ipynb"
        if not path.exists():
            problems.append(f"{rel}: missing (every module in modules.yaml needs its notebook)")
            continue
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            problems.append(f"{rel}: not a readable notebook: {e}")
            continue
        for did in notebook_decisions(nb):
            where_shown.setdefault(did, []).append(module.id)
        problems += _module_problems(case, module, nb, rel)
    for d in case.decisions:
        places = sorted(set(where_shown.get(d.id, [])))
        if not places:
            problems.append(f"decisions.yaml: decision '{d.id}' appears in no module notebook (expected in {d.module})")
        elif len(places) > 1:
            problems.append(f"decisions.yaml: decision '{d.id}' appears in more than one notebook: {', '.join(places)}")
    src_dir = Path(src_dir) if src_dir is not None else nb_root / "src"
    if src_dir.is_dir() and not problems:
        try:
            problems += stale_notebooks(case, src_dir, nb_root)
        except AuthoringError as e:
            problems += str(e).splitlines()
    return problems
