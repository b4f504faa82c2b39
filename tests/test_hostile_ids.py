"""Trainee ids, file names, CSV cells and Markdown text (issue 17): ids nbgrader would glob or strip are named;
file stems are unique and never a generated file or a path out of the folder; no CSV cell is a formula; trainee
text in Markdown is never markup."""

from __future__ import annotations

import pytest

from course.core import contract
from tests import hostile_support as hs

# --------------------------------------------------------------------------- ids, file names, CSV, Markdown


@pytest.mark.parametrize("bad", ["lee[2]", "a*", "who?", "pat ", " pat", "", "a/b", "..", "tab\there", "x\udcff"])
def test_ids_nbgrader_would_glob_or_strip_are_named(bad):
    assert contract.trainee_id_problem(bad)


@pytest.mark.parametrize("good", ["lee2", "pat", "anne.marie@example.org", "o'brien", "index", "=cmd", "Jo Smith"])
def test_ordinary_ids_are_accepted(good):
    assert contract.trainee_id_problem(good) is None


def test_file_stems_are_unique_safe_and_never_a_generated_name():
    ids = [
        "index",
        "Index",
        "INDEX.",
        "../x",
        "x",
        "a" * 250,
        "a" * 251,
        "con",
        "lee2",
        "<img src=x onerror=y>",
        "=cmd",
    ]
    stems = [contract.file_stem(t) for t in ids]
    assert len(set(stems)) == len(ids)
    for stem in stems:
        assert stem.lower() not in ("index", "con") and "/" not in stem and not stem.startswith(".")
        assert len(stem) <= 64 and len(f"{stem}-reflective-log.md".encode()) < 255
    assert (
        contract.file_stem("lee2") == "lee2"
        and contract.file_stem("anne.marie@example.org") == "anne.marie@example.org"
    )


def test_spreadsheet_cells_are_never_formulas():
    for value in ('=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert contract.spreadsheet_safe(value).startswith("'")
    assert contract.spreadsheet_safe("lee2") == "lee2" and contract.spreadsheet_safe(-2.0) == -2.0


def test_markdown_literal_leaves_nothing_to_run():
    text = contract.markdown_literal(hs.HOSTILE_TEXT, one_line=False)
    assert hs.executable_markup_in_markdown(text) == []
    assert "My honest reflection" in text and "\n" in text
    assert hs.executable_markup_in_markdown(f"# {contract.markdown_literal('<img src=x onerror=alert(1)>XSS17')}") == []
