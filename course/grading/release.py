"""Release: build the trainee version of each module with nbgrader and check that nothing hidden got through."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..core import paths
from ..core.contract import ANSWERS_FILE, LEAK_MARKERS, is_answers_file
from .config import DEFAULT_COURSE_DIR, GradingError, ensure_course_dir, last_lines, make_api, module_ids

SOURCE_SKIP = (ANSWERS_FILE, f"{ANSWERS_FILE}.*", f".{ANSWERS_FILE}*", ".ipynb_checkpoints", "__pycache__", "*.pyc")


@dataclass
class ReleaseResult:
    module: str
    notebook: Path
    problems: list[str]
    graded: int = 0
    points: float = 0.0


def prepare_source(course_dir: Path, notebooks_dir: Path, modules: list[str]) -> None:
    """Copy each module's folder into <course>/source/<id>/, leaving behind any answers.json an author made."""
    for mid in modules:
        src = Path(notebooks_dir) / mid
        if not (src / f"{mid}.ipynb").exists():
            raise GradingError(f"{src / (mid + '.ipynb')}: module notebook not found. Check the module id.")
        dest = Path(course_dir) / "source" / mid
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*SOURCE_SKIP))


def leaks_in_folder(folder: Path, markers=LEAK_MARKERS) -> list[str]:
    """Every file in folder holding text a trainee must not see, or an answers file that is not theirs."""
    problems = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file():
            continue
        if is_answers_file(path.name):
            problems.append(
                f"{path}: an answers file must not be handed to trainees (remove it from the source folder)"
            )
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for marker in markers:
            if marker in text:
                problems.append(f"{path}: contains {marker!r}, which trainees must not see")
    return problems


def _release_notebook_problems(nb_path: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.get("outputs"):
            problems.append(f"{nb_path}: cell {i + 1} has outputs; release notebooks must be clean")
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code" and not meta.get("locked"):
            problems.append(f"{nb_path}: graded cell {meta.get('grade_id')!r} is not locked")
    return problems


def validate_notebook(nb_path: Path) -> list[str]:
    """Run nbgrader's Validator (the `nbgrader validate` CLI exits 0 even on failure); problems in plain words."""
    from nbgrader.validator import Validator

    results = Validator().validate(str(nb_path))  # nbgrader sets NBGRADER_EXECUTION: no answers are written
    problems = []
    for kind, cells in results.items():
        for cell in cells:
            if kind == "failed" and "did not provide a response" in cell.get("error", ""):
                continue  # an unanswered reflection: expected in a release, where nobody has answered yet
            first = (cell.get("source") or "").strip().splitlines()[:1]
            problems.append(
                f"{nb_path}: validation {kind}: {first[0] if first else '(empty cell)'}"
                + (f" -- {_plain(cell.get('error', ''))[:300]}" if cell.get("error") else "")
            )
    return problems


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def release(
    course_dir: Path = DEFAULT_COURSE_DIR,
    notebooks_dir: Path | None = None,
    modules: list[str] | None = None,
    validate: bool = True,
    log=print,
) -> list[ReleaseResult]:
    """Build the trainee version of each module with nbgrader and check that nothing hidden got through."""
    course_dir = ensure_course_dir(course_dir)
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else paths.default_notebooks()
    modules = modules or module_ids(notebooks_dir)
    if not modules:
        raise GradingError(f"{notebooks_dir}: no module notebooks found (expected <id>/<id>.ipynb folders).")
    prepare_source(course_dir, notebooks_dir, modules)
    api = make_api(course_dir)
    results = []
    for mid in modules:
        out = api.generate_assignment(mid, force=True, create=True)
        nb = course_dir / "release" / mid / f"{mid}.ipynb"
        if not out.get("success"):
            raise GradingError(
                f"{course_dir / 'source' / mid / (mid + '.ipynb')}: nbgrader could not build the "
                f"release:\n{last_lines(out.get('error') or out.get('log', ''))}"
            )
        problems = leaks_in_folder(nb.parent) + _release_notebook_problems(nb)
        if validate and not problems:
            problems += validate_notebook(nb)
        graded, points = _graded_summary(course_dir / "source" / mid / f"{mid}.ipynb")
        results.append(ReleaseResult(mid, nb, problems, graded, points))
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        log(f"{mid}: released ({graded} graded cells, {points:g} points): {status}")
        for p in problems:
            log(f"  - {p}")
    return results


def _graded_summary(nb_path: Path) -> tuple[int, float]:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    cells = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    graded = [m for m in cells if m.get("grade")]
    return len(graded), float(sum(m.get("points", 0) for m in graded))
