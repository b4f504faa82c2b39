"""Marking as docs/trainer-guide.md section 5 says, in Chromium at 1366x768: the commands, the keys and what the
terminal prints are read from the guide itself. A small real cohort (the course's m01, released, submitted and
graded with `course`) is marked from the keyboard; the gradebook then holds the scores and comments; a hostile
reflection shows as text and runs nothing; moderation is blind and never reaches the gradebook; the two markers see
their agreement, and feedback is sent only for marked work, never with a mark given before a resubmission."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from course.grading.marks import FIRST, MODERATION, MarkBook
from tests import marking_support as ms
from tests.paths import ROOT

from . import harness

pytestmark = pytest.mark.slow
GUIDE = ROOT / "docs" / "trainer-guide.md"
MODULE = "m01-early-years"
VIEWPORT = (1366, 768)


def guide_section() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("### 5. Marking reflections")
    return text[start : text.index("\n### 6.", start)]


def guide_commands() -> list[str]:
    return re.findall(r"```console\n(.+?)\n```", guide_section())


def guide_keys() -> dict[str, list[str]]:
    """The guide's key table: what to do -> the keys to press (`0`, `1`, ... for the number keys)."""
    table = guide_section().split("| To | Press |")[1].split("\n\n")[0]
    keys = {}
    for row in table.strip().splitlines()[1:]:
        what, press = (c.strip() for c in row.strip("|").split("|"))
        keys[what] = [k for k in re.findall(r"`([^`]+)`", press) if k != "..."]
    return keys


def guide_terminal_lines() -> list[re.Pattern]:
    """What the guide says the terminal shows with --no-browser, as patterns (its example numbers, name and address
    made general; the browser line replaced by the one the guide gives for --no-browser)."""
    block = guide_section().split("```text\n")[1].split("\n```")[0]
    no_browser = re.search(r"\| `--no-browser` \|[^|]*\(`([^`]+)`\)", guide_section())
    assert no_browser, "the guide says what --no-browser prints"
    out = []
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("The marking page is open in your browser"):
            line = no_browser.group(1)
        pattern = re.escape(line).replace("Jo,", r"\S.*,").replace("30", r"\d+")
        pattern = pattern.replace("PORT", r"\d+").replace(r"token=\.\.\.", r"token=[0-9a-f]+")
        out.append(re.compile(pattern))
    return out


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    trainees = {"ana": ms.REFLECTIONS[0], "ben": ms.REFLECTIONS[1], "cal": ms.HOSTILE, "dee": ""}
    return ms.build_cohort(tmp_path_factory.mktemp("cohort") / "grading", trainees, MODULE)


@contextlib.contextmanager
def course_mark(command: str, course_dir: Path, home: Path):
    """Run the guide's command as typed (with the guide's --course-dir and --no-browser options), yield the
    terminal's lines up to the address and the address; stop it by its process id."""
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/course"
    section = guide_section()
    assert "`--course-dir FOLDER`" in section and "`--no-browser`" in section
    argv = [str(harness.VENV_BIN / "course"), *argv[1:], "--course-dir", str(course_dir), "--no-browser"]
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=harness.server_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        url = next((ln.strip() for ln in lines if ln.strip().startswith("http://127.0.0.1:")), None)
        assert url, "course mark printed no address:\n" + "\n".join(lines) + (proc.stdout.read() or "")
        yield lines, url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def open_page(tab, url: str) -> None:
    tab.page.goto(url)
    tab.page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def shown(tab) -> str:
    return tab.page.evaluate("document.body.dataset.shown")


def press(tab, *keys: str) -> None:
    for k in keys:
        tab.page.keyboard.press(k)


def wait_shown(tab, trainee: str) -> float:
    tab.page.wait_for_selector(f"body[data-shown='{trainee}/{MODULE}']", timeout=10_000)
    return tab.page.evaluate("window.courseMarkReadyMs")


def outside_viewport(tab, selectors: list[str]) -> dict:
    """Each selector's elements not wholly visible without scrolling: outside the 1366x768 viewport, or cut off by a
    panel that scrolls (or without a box at all); and whether the page itself scrolls."""
    return tab.page.evaluate(
        """(sels) => {
          const out = {};
          const clipped = (e, r) => {
            for (let a = e.parentElement; a; a = a.parentElement) {
              const cs = getComputedStyle(a);
              if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
              const c = a.getBoundingClientRect();
              if (r.top < c.top - 1 || r.bottom > c.bottom + 1 || r.left < c.left - 1 || r.right > c.right + 1) return true;
            }
            return false;
          };
          for (const s of sels) {
            const els = [...document.querySelectorAll(s)];
            if (!els.length) { out[s] = 'missing'; continue; }
            for (const e of els) {
              const r = e.getBoundingClientRect();
              if (!r.width || !r.height || r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight
                  || clipped(e, r))
                out[s] = [r.left, r.top, r.right, r.bottom].map(Math.round);
            }
          }
          if (document.documentElement.scrollHeight > innerHeight) out.page = 'scrolls';
          return out;
        }""",
        selectors,
    )


def test_marking_as_the_guide_says_keyboard_only_into_the_gradebook(cohort, browser, tmp_path):
    from nbgrader.api import Gradebook

    from course.grading.config import load_config

    keys = guide_keys()
    first_command = guide_commands()[0]
    with course_mark(first_command, cohort, tmp_path) as (lines, url), browser.tab(viewport=VIEWPORT) as tab:
        for pattern in guide_terminal_lines():
            assert any(pattern.fullmatch(ln.strip()) for ln in lines), (pattern.pattern, lines)
        open_page(tab, url)
        assert shown(tab) == f"ana/{MODULE}"  # the first reflection still to mark
        parts = [
            "#reflection-panel", "#reflection", "#prompt", "#scheme-panel", "#criteria > .crit", "#decisions-panel",
            "#decisions > li", "#total", "#status", "#comment", "#stock-box", "#to-bank", "#prev", "#next",
        ]  # fmt: skip
        overflow = outside_viewport(tab, parts)
        tab.screenshot("marking-1366x768", full_page=False)
        assert overflow == {}, overflow
        page_text = tab.page.inner_text("body")
        assert "Why: As m01-early-years" in page_text and "[confidence 3]" in page_text  # decisions, rationales

        # ana: every line scored with the number keys, a stock comment inserted, then edited; next.
        score = keys[next(k for k in keys if k.startswith("score the highlighted line"))]
        stock = keys["insert the highlighted line's stock comment"][0]
        edit, leave = keys["edit the comment (leave it with `Escape`)"][0], "Escape"
        next_key = keys["save and go to the next reflection"][0]
        assert score[:2] == ["0", "1"]
        press(tab, "1", "1", "1", "1", "1", stock, edit)
        tab.page.keyboard.type(" Well argued.")
        press(tab, leave, next_key)
        ready = [wait_shown(tab, "ben")]
        # ben: scored 0 1 0 0 0, the stock comment for the last line; next.
        press(tab, "0", "1", "0", "0", "0", stock, next_key)
        ready.append(wait_shown(tab, "cal"))

        # cal's reflection is hostile markup: shown as the characters typed, nothing run or loaded.
        reflection = tab.page.locator("#reflection")
        assert "<script>window.courseHacked = 1</script>" in reflection.inner_text()
        assert '<img src=x onerror="window.courseHacked = 2">' in reflection.inner_text()
        assert (
            tab.page.evaluate("document.querySelectorAll('#reflection script, #reflection img, #reflection b').length")
            == 0
        )
        assert tab.page.evaluate("window.courseHacked === undefined")
        assert tab.js_errors() == [] and tab.blocked == []
        print(f"next reflection ready after {ready} ms")

    cfg = load_config(cohort)
    with Gradebook(cfg.CourseDirectory.db_url, cfg.CourseDirectory.course_id) as gb:
        got = {}
        for t in ("ana", "ben"):
            g = gb.find_grade(f"reflection-{MODULE}", MODULE, MODULE, t)
            c = gb.find_comment(f"reflection-{MODULE}", MODULE, MODULE, t)
            got[t] = (g.manual_score, g.needs_manual_grade, c.manual_comment)
    with MarkBook(cohort) as book:
        ana, ben = book.latest("ana", MODULE, FIRST), book.latest("ben", MODULE, FIRST)
    assert got["ana"] == (5.0, False, ana.comment) and ana.comment.endswith(" Well argued.")
    assert "well done" in ana.comment  # the stock comment for a line met
    assert got["ben"] == (1.0, False, ben.comment) and "not yet" in ben.comment
    assert ana.marker == ben.marker != "" and ana.scores == dict.fromkeys(ana.scores, 1)


def test_moderation_as_the_guide_says_is_blind_and_never_reaches_the_gradebook(cohort, browser, tmp_path):
    from course.grading.export import gradebook_rows

    with MarkBook(cohort) as book:
        firsts = book.latest_marks(FIRST)
    assert firsts, "the marking test runs first and gives first marks"
    before = gradebook_rows(cohort)
    moderation = next(c for c in guide_commands() if "--moderate" in c)
    marker = shlex.split(moderation)[shlex.split(moderation).index("--marker") + 1]
    with course_mark(moderation, cohort, tmp_path) as (_, url), browser.tab(viewport=VIEWPORT) as tab:
        open_page(tab, url)
        assert tab.page.is_visible("#moderation")
        assert "Moderation: you are the second marker" in tab.page.inner_text("#moderation")
        # The sample: every reflection with text (fewer than five here), never the empty one.
        assert tab.page.inner_text("#progress").startswith("1 of 3")
        assert shown(tab) == f"ana/{MODULE}"
        body = tab.page.inner_text("body")
        assert "Well argued" in firsts[("ana", MODULE)].comment  # the first marker's own words
        assert "Well argued" not in body and "Marked by" not in body and "well done" not in body
        assert tab.page.input_value("#comment") == ""
        press(tab, "0", "0", "0", "0", "0", "c", "j")
        wait_shown(tab, "ben")
        assert tab.js_errors() == []
    with MarkBook(cohort) as book:
        second = book.latest("ana", MODULE, MODERATION)
        assert second.marker == marker and second.total == 0
        assert book.latest("ana", MODULE, FIRST) == firsts[("ana", MODULE)]
    assert gradebook_rows(cohort) == before


def test_two_markers_see_their_agreement_and_feedback_never_carries_a_stale_mark(cohort, tmp_path):
    """The guide's last steps after the two markers above: `course moderation` shows where they stand;
    `course feedback` sends only marked work; after a resubmission the old mark is never sent."""
    from course.core.cached import load_case_cached
    from tests import grading_support as gs

    with MarkBook(cohort) as book:
        assert book.latest("ana", MODULE, MODERATION), "the moderation test runs first"
    course = str(harness.VENV_BIN / "course")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [course, *args, "--course-dir", str(cohort)], capture_output=True, text=True, cwd=ROOT, timeout=600
        )

    moderation = run("moderation")
    assert moderation.returncode == 0, moderation.stderr
    said = moderation.stdout
    assert "1 of 3 are double-marked" in said, said
    assert "Where the markers differ" in said and "ana" in said, said
    assert (cohort / "moderation.md").exists() and (cohort / "moderation.csv").exists()

    pages = cohort / "feedback"
    sent = run("feedback")
    assert sent.returncode == 1, sent.stdout  # something is held back
    assert "cal" in sent.stdout.split("Held back", 1)[1]  # not marked yet
    assert (pages / "ana" / MODULE / f"{MODULE}.html").exists() and (pages / "ben" / MODULE / f"{MODULE}.html").exists()
    assert not (pages / "cal").exists()
    ana_page = (pages / "ana" / MODULE / f"{MODULE}.html").read_text(encoding="utf-8")
    assert "Well argued." in ana_page

    # ana resubmits with a new reflection: the old mark is stale, and her page is withdrawn, not resent.
    case = load_case_cached()
    gs.submit(
        cohort,
        "ana",
        MODULE,
        ms.answers(case, MODULE, "A new reflection, written after the first feedback."),
        notebook_edit=ms._blank_reflection,
        timestamp="2026-01-11 10:00:00.000000 UTC",
    )
    graded = run("grade", "--no-progress", "--workers", "1")
    assert "Stale mark: ana/" in graded.stdout or "marked before a resubmission" in graded.stdout, graded.stdout
    again = run("feedback")
    held = again.stdout.split("Held back", 1)[1]
    assert "ana/" in held and "earlier submission" in held, again.stdout
    assert not (pages / "ana" / MODULE / f"{MODULE}.html").exists()
    assert (pages / "ben" / MODULE / f"{MODULE}.html").exists()


def test_the_module_with_the_most_decisions_still_fits_one_screen(tmp_path_factory, browser, tmp_path):
    """m04 has eight decisions (m01 five): the reflection, the scheme, every decision with its rationale, the total
    and the comment are still all on screen at 1366x768, the longest reflection of the cohort included."""
    from course.core.cached import load_case_cached

    module = "m04-school"
    assert len(load_case_cached().decisions_in(module)) == max(
        len(load_case_cached().decisions_in(m.id)) for m in load_case_cached().modules
    )
    course_dir = ms.build_cohort(
        tmp_path_factory.mktemp("m04") / "grading", {"ana": ms.REFLECTIONS[0] * 3, "ben": ms.REFLECTIONS[1]}, module
    )
    command = guide_commands()[0]
    with course_mark(command, course_dir, tmp_path) as (_, url), browser.tab(viewport=VIEWPORT) as tab:
        open_page(tab, url)
        assert shown(tab) == f"ana/{module}"
        parts = [
            "#reflection-panel", "#prompt", "#scheme-panel", "#criteria > .crit", "#decisions-panel",
            "#decisions > li", "#total", "#status", "#comment", "#stock-box", "#prev", "#next",
        ]  # fmt: skip
        assert tab.page.locator("#decisions > li").count() == 8
        overflow = outside_viewport(tab, parts)
        tab.screenshot("marking-m04-1366x768", full_page=False)
        assert overflow == {}, overflow
