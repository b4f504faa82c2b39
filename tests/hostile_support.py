"""Hostile trainee input for the integrity tests (issue 17): payloads that would run in a browser if shown as
markup, damaged answers files, and a checker that finds executable markup in HTML or Markdown output."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

MARK = "XSS17"  # every payload carries this, so the checker can tell trainee markup from the page's own

PAYLOADS = (
    f"<script>alert('{MARK}')</script>",
    f'<img src="x" onerror="alert(\'{MARK}\')">',
    f"<a href=\"javascript:alert('{MARK}')\">click {MARK}</a>",
    f"[link {MARK}](javascript:alert('{MARK}'))",
    f'<iframe src="https://evil.example/{MARK}"></iframe>',
    f"<style>body {{ background: url(https://evil.example/{MARK}) }}</style>",
    f"<svg onload=\"alert('{MARK}')\"></svg>",
    f"<details open ontoggle=\"alert('{MARK}')\">x</details>",
    f"$\\href{{javascript:alert('{MARK}')}}{{maths {MARK}}}$",
)
HOSTILE_TEXT = "My honest reflection about sharing the bruise.\n\n" + "\n\n".join(PAYLOADS)

EXECUTABLE_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "style", "link", "meta", "base", "svg"}
VOID_TAGS = {"link", "meta", "base", "embed"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster", "srcdoc"}


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        if tag in EXECUTABLE_TAGS and tag not in VOID_TAGS:
            self._open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        if self._open and MARK in data:
            self.found.append(f"trainee text inside <{self._open[-1]}>: {data[:80]!r}")

    def _check(self, tag, attrs):
        text = " ".join(f"{k}={v}" for k, v in attrs)
        if tag in EXECUTABLE_TAGS and MARK in text:
            self.found.append(f"<{tag} {text[:80]}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") and MARK.lower() in value:
                self.found.append(f"<{tag} {name}=...> event handler from trainee text")
            if name in URL_ATTRS and re.sub(r"\s", "", value).startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.found.append(f"<{tag} {name}={value[:60]!r}>")
            if name == "style" and MARK.lower() in value:
                self.found.append(f"<{tag} style=...> from trainee text")


def executable_markup(html: str) -> list[str]:
    """Every place in an HTML page where trainee text (carrying MARK) became markup a browser would run or load,
    and every javascript: link whatever its origin."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.found


def executable_markup_in_markdown(text: str) -> list[str]:
    """The same, for a Markdown file as nbconvert (and so JupyterLab's preview) renders it."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return executable_markup(markdown2html_mistune(text))


def executable_markup_in_file(path: Path) -> list[str]:
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".md":
        return executable_markup_in_markdown(text)
    if path.suffix == ".ipynb":
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_filename(str(path))
        return executable_markup(body)
    return executable_markup(text)


TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \".*\", line \d+", re.MULTILINE)


def tracebacks(text: str) -> list[str]:
    return [m.group(0) for m in TRACEBACK.finditer(text)]


# --------------------------------------------------------------------------- damaged answers files


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def damaged_answers(good: dict, did: str = "hv-bruise") -> dict[str, bytes | None]:
    """name -> the bytes of a damaged answers.json (None: a folder named answers.json). `good` is a valid
    document holding decision `did` (a one-option question); the damage goes into that answer or around it."""

    def with_choice(choice):
        doc = json.loads(json.dumps(good))
        doc["decisions"].setdefault(did, {}).setdefault("first", {})["choice"] = choice
        return json.dumps(doc).encode()

    def with_rationale(value):
        doc = json.loads(json.dumps(good))
        doc["decisions"].setdefault(did, {}).setdefault("first", {})["rationale"] = value
        return json.dumps(doc).encode()

    text = json.dumps(good).replace("Because.", "Parce que j'ai décidé.")
    return {
        "folder": None,
        "cp1252": text.encode("cp1252"),
        "utf16-no-bom": json.dumps(good).encode("utf-16-le"),
        "random-bytes": bytes(range(256)) * 8,
        "deep": b'{"schema": 2, "decisions": ' + _deep(100_000) + b"}",
        "huge-int": b'{"schema": 1, "decisions": {}, "course": ' + b"9" * 5000 + b"}",
        "choice-3": with_choice(3),
        "choice-true": with_choice(True),
        "choice-2.5": with_choice(2.5),
        "choice-nested": with_choice([["refer"]]),
        "choice-object": with_choice({"refer": True}),
        "choice-list-for-single": with_choice(["refer"]),
        "rationale-number": with_rationale(42),
        "rationale-list": with_rationale(["a", "b"]),
    }


def write_damaged(folder: Path, content: bytes | None) -> Path:
    path = Path(folder) / "answers.json"
    if content is None:
        path.mkdir(parents=True)
        (path / "inside.txt").write_text("a folder where the answers file should be")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return path


def released_fixture_course(tmp_path_factory, case):
    """For a module-scoped fixture: the fictional course released once into an nbgrader course folder, with the
    environment its kernels need (as tests/test_grading.py's `released`). Yields (base folder, results)."""
    import pytest

    from course.grading.release import release
    from tests import grading_support as gs

    with pytest.MonkeyPatch.context() as mp:
        gs.use_fixture_case(mp)
        base = tmp_path_factory.mktemp("hostile")
        gs.write_source_course(case, base / "notebooks")
        results = release(base / "grading", base / "notebooks", log=lambda *_: None)
        yield base, results
