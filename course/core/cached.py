"""The case pack loaded once: kept per process and pickled in the per-user cache (course.core.cache).

Any change to any file in the pack, or to the loader's code, means a fresh, fully validated load.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
from pathlib import Path

from . import cache
from .pack import load_case
from .paths import default_pack_dir
from .records import Case

LOADER_FILES = ("records.py", "entries.py", "pack.py", "knowledge.py", "source.py", "dates.py")
_LOADED: dict[str, Case] = {}


def _pack_fingerprint(pack_dir: Path) -> str:
    """A digest of every file in the pack (path, size, mtime and content), the loader's own code and Python."""
    here = Path(__file__).resolve().parent
    parts: list[bytes | str] = [
        str(pack_dir.resolve()),
        sys.version,
        cache.code_version(*(here / f for f in LOADER_FILES)),
    ]
    for f in sorted(p for p in pack_dir.rglob("*") if p.is_file()):
        st = f.stat()
        parts += [str(f.relative_to(pack_dir)), f"{st.st_size} {st.st_mtime_ns}", f.read_bytes()]
    return cache.digest(*parts)


def load_case_cached(pack_dir: Path | str | None = None) -> Case:
    """`load_case`, reusing a case already loaded and validated from exactly the same files: kept per process
    and pickled in the per-user cache (course.cache). Any change to any file in the pack, or to the loader's
    code, means a fresh, fully validated load. `course check` never uses this."""
    pack_dir = Path(pack_dir) if pack_dir is not None else default_pack_dir()
    try:
        key = _pack_fingerprint(pack_dir)
    except OSError:
        return load_case(pack_dir)  # let the loader report a missing or unreadable pack
    case = _LOADED.get(key)
    if case is not None:
        return case
    name = f"case-{key}.pickle"
    payload = cache.get(name)
    if payload is not None:
        try:
            case = pickle.loads(payload)
        except Exception:  # an entry from other code or damaged: load afresh and overwrite it
            case = None
        if not isinstance(case, Case):
            case = None
    if case is None:
        case = load_case(pack_dir)
        with contextlib.suppress(pickle.PicklingError, TypeError, AttributeError):
            cache.put(name, pickle.dumps(case, protocol=pickle.HIGHEST_PROTOCOL))
    _LOADED[key] = case
    return case
