"""A small per-user disk cache for things that are pure functions of their inputs (rendered chart images, the
parsed case pack), so a module notebook does not redo them in every fresh kernel.

Where: $COURSE_CACHE, else $XDG_CACHE_HOME/course, else ~/.cache/course. COURSE_CACHE=off (or 0, none,
false, or empty) turns it off. Never inside the notebook folders. The cache never makes anything fail: a
folder that cannot be created or written, or that other users could write to (the cache holds pickles),
means no cache; an entry that is unreadable, truncated or does not match its checksum is ignored (and the
caller's fresh result is written over it). Writes are atomic (temp file + os.replace), so concurrent
kernels never read half an entry. The cache does not follow COURSE_READ_ONLY: that protects the answers
file, and the cache is outside the trainee's folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

_MAGIC = b"course-cache 1\n"
_OFF = {"", "0", "off", "none", "false", "no"}


def cache_dir() -> Path | None:
    """The cache folder, created if needed (mode 0700); None when caching is off or not possible here."""
    env = os.environ.get("COURSE_CACHE")
    if env is not None and env.strip().lower() in _OFF:
        return None
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "course"
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = base.stat()
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
            return None  # someone else could plant entries here
        if not os.access(base, os.W_OK | os.X_OK):
            return None
    except (OSError, RuntimeError):  # RuntimeError: no home folder to expand
        return None
    return base


def digest(*parts: bytes | str) -> str:
    """A hex key for the given parts (unambiguous: each part is length-prefixed)."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


def get(name: str) -> bytes | None:
    """The payload stored under `name`, or None (missing, unreadable, corrupt or caching off)."""
    base = cache_dir()
    if base is None:
        return None
    try:
        raw = (base / name).read_bytes()
    except OSError:
        return None
    if not raw.startswith(_MAGIC):
        return None
    head, sep, payload = raw[len(_MAGIC) :].partition(b"\n")
    if not sep or hashlib.sha256(payload).hexdigest().encode("ascii") != head:
        return None
    return payload


def put(name: str, payload: bytes) -> bool:
    """Store `payload` under `name` atomically; False (and nothing raised) when it could not be stored."""
    base = cache_dir()
    if base is None:
        return False
    tmp = None
    try:
        import tempfile  # here, not at the top: importing it is 2 ms of every notebook kernel's first cell

        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=base)
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload)
        os.replace(tmp, base / name)
        return True
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False


def code_version(*files: str | os.PathLike) -> str:
    """A digest of source files, so entries made by other code are never used."""
    parts = []
    for f in files:
        try:
            parts.append(Path(f).read_bytes())
        except OSError:
            parts.append(str(f).encode())
    return digest(*parts)


MAX_BYTES = 100 * 1024 * 1024  # far above one course version's entries (~10 MB with every timeline state)


def entries(base: Path | None = None) -> list[Path]:
    base = base if base is not None else cache_dir()
    if base is None:
        return []
    try:
        return [p for p in base.iterdir() if p.is_file() and not p.name.startswith(".")]
    except OSError:
        return []


def size() -> tuple[int, int]:
    """(number of entries, bytes) in the cache."""
    total, n = 0, 0
    for p in entries():
        try:
            total += p.stat().st_size
            n += 1
        except OSError:
            pass
    return n, total


def prune(max_bytes: int = MAX_BYTES) -> int:
    """Remove the oldest entries (by last write) until the cache holds at most `max_bytes`; also stale temp
    files a killed writer left. Entries from older course or matplotlib versions are never read again, so
    they age out here. Returns how many files were removed; never raises."""
    base = cache_dir()
    if base is None:
        return 0
    removed = 0
    stats = []
    try:
        listing = list(base.iterdir())
    except OSError:
        return 0
    for p in listing:
        try:
            st = p.stat()
        except OSError:
            continue
        if p.name.startswith(".") and p.name.endswith(".tmp"):
            import time

            if time.time() - st.st_mtime > 3600:  # an hour-old temp file: its writer is gone
                try:
                    p.unlink()
                    removed += 1
                except OSError:
                    pass
            continue
        if p.is_file():
            stats.append((st.st_mtime, st.st_size, p))
    total = sum(s for _, s, _ in stats)
    for _, s, p in sorted(stats, key=lambda t: t[0]):
        if total <= max_bytes:
            break
        try:
            p.unlink()
            removed += 1
            total -= s
        except OSError:
            pass
    return removed


def clear() -> int:
    """Remove every entry; returns how many."""
    return prune(max_bytes=0)
