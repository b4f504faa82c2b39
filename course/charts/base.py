"""What every chart image depends on besides its data: the chart code, the shared look and matplotlib's version.
Cached images carry it in their key, so an image drawn by other code is never reused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..core import cache

_HERE = Path(__file__).resolve().parent
_STYLE = _HERE.parent / "render" / "style.py"
_CODE_VERSION: str | None = None


def _matplotlib_version() -> str:
    try:
        spec = importlib.util.find_spec("matplotlib")
    except (ImportError, ValueError):
        return "none"
    if spec is None or not spec.origin:
        return "none"
    try:
        return Path(spec.origin).with_name("_version.py").read_text(encoding="utf-8")
    except OSError:
        return spec.origin


def chart_version() -> str:
    """A digest of the chart code, the shared look and matplotlib's version (computed once per process)."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        files = sorted(_HERE.glob("*.py"))
        _CODE_VERSION = cache.digest(cache.code_version(*files, _STYLE), _matplotlib_version())
    return _CODE_VERSION
