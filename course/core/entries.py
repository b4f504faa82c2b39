"""Reading a case pack's YAML files so that every problem is collected, not raised: each names the file, the
entry id and the field, so that a content author can act on it without reading Python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import dates

_YAML_LOADER: Any = None  # the YAML loader to use; None: the fastest one available (a benchmark sets the slow one)


def _yaml():
    """PyYAML and its fastest safe loader. Imported when a pack is parsed, not when the course is imported: a
    notebook kernel loads the cached pack and never parses YAML (importing yaml was 8 ms of the first cell).
    libyaml's safe loader, when PyYAML was built with it, reads the same documents about ten times faster
    (parsing dominated load_case for the real pack: ~0.8 s with the pure-Python loader)."""
    import yaml

    loader: Any = _YAML_LOADER or getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    return yaml, loader


class CaseError(Exception):
    """One or more problems in a case pack; `problems` lists each as 'file: entry: field: message'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        head = f"{len(problems)} problem(s) in the case pack:"
        super().__init__("\n".join([head, *("  - " + p for p in problems)]))


class _Problems:
    def __init__(self):
        self.items: list[str] = []

    def add(self, where: str, field_: str, message: str) -> None:
        self.items.append(f"{where}: {field_}: {message}" if field_ else f"{where}: {message}")


class _Entry:
    """Typed access to one YAML mapping that records problems instead of raising."""

    def __init__(self, raw: Any, where: str, problems: _Problems, prefix: str = ""):
        self.raw = raw if isinstance(raw, dict) else {}
        self.where = where
        self.problems = problems
        self.prefix = prefix
        if not isinstance(raw, dict):
            problems.add(where, prefix.rstrip("."), "expected a mapping of fields")

    def f(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def text(self, name: str, required: bool = True, default: str = "") -> str:
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return default
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.problems.add(self.where, self.f(name), f"expected text, got {type(value).__name__}")
            return default
        return str(value).strip()

    def integer(self, name: str, required: bool = True, default: int = 0) -> int:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            self.problems.add(self.where, self.f(name), f"expected a whole number, got {value!r}")
            return default
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            self.problems.add(self.where, self.f(name), f"expected true or false, got {value!r}")
            return default
        return value

    def items(self, name: str, required: bool = True) -> list:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return []
        if not isinstance(value, list):
            self.problems.add(self.where, self.f(name), "expected a list")
            return []
        return value

    def texts(self, name: str, required: bool = True) -> tuple[str, ...]:
        out = []
        for i, v in enumerate(self.items(name, required)):
            if not isinstance(v, str) or not v.strip():
                self.problems.add(self.where, f"{self.f(name)}[{i}]", "expected non-empty text")
            else:
                out.append(v.strip())
        return tuple(out)

    def sub(self, name: str, required: bool = True) -> _Entry | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return None
        return _Entry(value, self.where, self.problems, f"{self.f(name)}.")

    def date(self, name: str, required: bool = True) -> str | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, self.f(name), "missing")
            return None
        try:
            dates.parse(value)
        except dates.DateError as e:
            self.problems.add(self.where, self.f(name), str(e))
            return None
        return value


def _read_yaml(path: Path, key: str, problems: _Problems) -> list:
    rel = f"{path.parent.name}/{path.name}"
    if not path.exists():
        problems.add(rel, "", "file missing")
        return []
    yaml, loader = _yaml()
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as e:
        problems.add(rel, "", f"not valid YAML: {e}")
        return []
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get(key, []), list):
        problems.add(rel, key, f"expected a top-level '{key}:' list")
        return []
    return doc.get(key) or []


def _entries(path: Path, key: str, kind: str, problems: _Problems) -> list[tuple[str, _Entry]]:
    """(id, entry) for each list item, reporting missing and duplicate ids."""
    rel = f"{path.parent.name}/{path.name}"
    seen: set[str] = set()
    out = []
    for i, raw in enumerate(_read_yaml(path, key, problems)):
        ident = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(ident, str) or not ident.strip():
            problems.add(f"{rel}: {kind} #{i + 1}", "id", "missing")
            continue
        where = f"{rel}: {kind} '{ident}'"
        if ident in seen:
            problems.add(where, "id", "duplicate id")
            continue
        seen.add(ident)
        out.append((ident, _Entry(raw, where, problems)))
    return out
