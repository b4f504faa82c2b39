"""`course check`: validate the case pack and the notebooks, with messages a content author can act on."""

from __future__ import annotations

import json
from pathlib import Path

from ..authoring.checks import module_notebook_problems
from ..core import paths
from ..core.entries import CaseError
from ..core.pack import load_case


def notebook_problems(root: Path) -> list[str]:
    """Problems with the stored notebooks under `root`: outputs or execution counts kept, unreadable JSON."""
    problems = []
    for path in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        rel = path.relative_to(root.parent) if root.parent in path.parents else path
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            problems.append(f"{rel}: not a readable notebook: {e}")
            continue
        for n, cell in enumerate(nb.get("cells", [])):
            if cell.get("cell_type") != "code":
                continue
            if cell.get("outputs"):
                problems.append(f"{rel}: cell {n + 1}: stored with outputs (clear them before committing)")
            if cell.get("execution_count") is not None:
                problems.append(f"{rel}: cell {n + 1}: stored with an execution count (clear it before committing)")
    return problems


def run_checks(pack_dir: Path | None = None, notebooks: bool = True) -> int:
    """Print what was checked; return 0 when everything holds, 1 otherwise."""
    pack_dir = pack_dir or paths.default_pack_dir()
    failures: list[str] = []
    try:
        case = load_case(pack_dir)
    except CaseError as e:
        failures += e.problems
        case = None
    if case is not None:
        n_quotes = len(case.quotes())
        print(f"Case pack {pack_dir}: {case.title}")
        print(
            f"  {len(case.agencies)} agencies, {len(case.people)} people, {len(case.events)} events "
            f"({sum(e.hindsight for e in case.events)} known only afterwards), {len(case.flows)} information flows"
        )
        print(f"  {len(case.themes)} themes, {len(case.decisions)} decision points, {len(case.modules)} modules")
        print(f"  {n_quotes} quotations verified verbatim against {case.source.path.name}")
    if notebooks:
        nb_root = paths.NOTEBOOKS
        if nb_root.exists():
            nb_failures = notebook_problems(nb_root)
            if case is not None and nb_root.exists():
                nb_failures += module_notebook_problems(case, nb_root)
            failures += nb_failures
            print(f"Notebooks in {nb_root}: {'ok' if not nb_failures else f'{len(nb_failures)} problem(s)'}")
    if failures:
        print(f"\n{len(failures)} problem(s):")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("All checks passed.")
    return 0
