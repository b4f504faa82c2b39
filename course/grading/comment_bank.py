"""The comment bank: stock comments per module, criterion and level, kept in `comment-bank.json` in the course
folder, which trainers edit by hand or add to from the marking page.

Seeded from the mark scheme's descriptors (what trainees may see: never the anchor answers, which are for markers
only). A bank that cannot be used is refused with a message naming the file and the field, never half-read.

    {"version": 1,
     "modules": {"<module id>": {"<criterion id>": {"<points>": ["a stock comment", ...], ...}, ...}, ...}}
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .config import GradingError
from .marks import criteria_points

BANK_FILE = "comment-bank.json"
VERSION = 1
MAX_COMMENT = 4000


def _case(pack_dir: Path | None):
    from ..core.cached import load_case_cached

    return load_case_cached(pack_dir)


def seed_comments(pack_dir: Path | None = None) -> dict:
    """Stock comments from the mark schemes: at the top level what the answer did; below it, what earns more."""
    modules: dict[str, dict] = {}
    for m in _case(pack_dir).modules:
        r = m.reflection
        if r is None:
            continue
        lines = (
            [(c.id, c.text, [(lv.points, lv.descriptor) for lv in c.levels]) for c in r.criteria]
            if r.criteria
            else [("overall", "Your reflection", sorted((lv.points, lv.descriptor) for lv in r.rubric))]
        )
        per: dict[str, dict[str, list[str]]] = {}
        for cid, text, levels in lines:
            levels = sorted(levels)
            per[cid] = {}
            for i, (points, descriptor) in enumerate(levels):
                if i == len(levels) - 1:
                    stock = f"{text.rstrip('.')}: well done. {descriptor}"
                else:
                    stock = f"{text.rstrip('.')}: not yet. To go further: {levels[i + 1][1]}"
                per[cid][str(points)] = [stock]
        modules[m.id] = per
    return {"version": VERSION, "modules": modules}


def _where(path: Path, *field: str) -> str:
    return f"{path}: " + ".".join(field)


def validate(doc: object, path: Path, pack_dir: Path | None = None) -> dict:
    """The bank as read, checked against the mark schemes: GradingError naming the file and field otherwise."""
    if not isinstance(doc, dict):
        raise GradingError(f"{path}: the comment bank must be a JSON object with 'version' and 'modules'.")
    if doc.get("version") != VERSION:
        raise GradingError(f"{_where(path, 'version')}: must be {VERSION}, not {doc.get('version')!r}.")
    modules = doc.get("modules")
    if not isinstance(modules, dict):
        raise GradingError(f"{_where(path, 'modules')}: must be an object of module id -> criteria.")
    for mid, crits in modules.items():
        try:
            allowed = criteria_points(mid, pack_dir)
        except GradingError:
            raise GradingError(f"{_where(path, 'modules', mid)}: no module {mid!r} with a reflection.") from None
        if not isinstance(crits, dict):
            raise GradingError(f"{_where(path, 'modules', mid)}: must be an object of criterion id -> levels.")
        for cid, levels in crits.items():
            if cid not in allowed:
                raise GradingError(
                    f"{_where(path, 'modules', mid, cid)}: no criterion {cid!r} in {mid}'s mark scheme "
                    f"(it has {', '.join(allowed)})."
                )
            if not isinstance(levels, dict):
                raise GradingError(f"{_where(path, 'modules', mid, cid)}: must be an object of points -> comments.")
            for pts, comments in levels.items():
                if not (pts.isdigit() and 0 <= int(pts) <= allowed[cid]):
                    raise GradingError(
                        f"{_where(path, 'modules', mid, cid, pts)}: a level is points from 0 to {allowed[cid]}."
                    )
                if not isinstance(comments, list):
                    raise GradingError(f"{_where(path, 'modules', mid, cid, pts)}: must be a list of comments.")
                for i, text in enumerate(comments):
                    if not isinstance(text, str) or not text.strip() or len(text) > MAX_COMMENT:
                        raise GradingError(
                            f"{_where(path, 'modules', mid, cid, pts)}[{i}]: a comment is text "
                            f"(not empty, at most {MAX_COMMENT} characters)."
                        )
    return doc


def _write(path: Path, doc: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".comment-bank-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_bank(course_dir: Path, pack_dir: Path | None = None) -> dict:
    """The course's comment bank, written from the mark schemes the first time; modules or criteria added to the
    case pack since are seeded too, and nothing a trainer wrote is changed."""
    path = Path(course_dir) / BANK_FILE
    if not path.exists():
        doc = seed_comments(pack_dir)
        _write(path, doc)
        return doc
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise GradingError(f"{path}: not UTF-8 text; save it as UTF-8.") from None
    except ValueError as e:
        raise GradingError(f"{path}: not valid JSON ({e}).") from None
    doc = validate(doc, path, pack_dir)
    missing = False
    for mid, crits in seed_comments(pack_dir)["modules"].items():
        have = doc["modules"].setdefault(mid, {})
        for cid, levels in crits.items():
            if cid not in have:
                have[cid] = levels
                missing = True
    if missing:
        _write(path, doc)
    return doc


def add_comment(course_dir: Path, module: str, criterion: str, points: object, text: object, pack_dir=None) -> dict:
    """Add a marker's own comment to the bank under a criterion and level (once: a comment already there is not
    added again); returns the bank."""
    doc = load_bank(course_dir, pack_dir)
    comment = text.strip() if isinstance(text, str) else ""
    allowed = criteria_points(module, pack_dir)
    if criterion not in allowed:
        raise GradingError(f"{module}: no criterion {criterion!r} in its mark scheme.")
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= allowed[criterion]:
        raise GradingError(f"{module}: criterion {criterion} has levels 0 to {allowed[criterion]}, not {points!r}.")
    if not comment or len(comment) > MAX_COMMENT:
        raise GradingError(f"a comment for the bank is text, not empty, at most {MAX_COMMENT} characters.")
    comments = doc["modules"].setdefault(module, {}).setdefault(criterion, {}).setdefault(str(points), [])
    if comment not in comments:
        comments.append(comment)
        _write(Path(course_dir) / BANK_FILE, doc)
    return doc
