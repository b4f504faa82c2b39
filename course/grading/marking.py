"""What the marking page (`course mark`) shows and saves: the autograded reflections in marking order, each with
its mark scheme line by line, the trainee's decisions and rationales for that module, and its current mark;
saving records the mark (course.grading.marks) and, for a first mark, puts it into nbgrader's gradebook.

Everything a trainee wrote is returned as plain text: the page shows it as text, never as markup.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from ..core.answers import AnswersError, read_answers
from ..core.contract import ANSWERS_FILE, reflection_id
from .config import GradingError
from .marks import FIRST, MODERATION, Mark, MarkBook, check_scores, criteria_points, fingerprint, write_to_gradebook


def _case(pack_dir: Path | None):
    from ..core.cached import load_case_cached

    return load_case_cached(pack_dir)


def mark_scheme(module_id: str, pack_dir: Path | None = None) -> dict:
    """The module's reflection mark scheme as the page scores it: one line per criterion (a holistic scheme is one
    line, `overall`), each with its levels (points, what earns them, an anchor answer for markers)."""
    module = _case(pack_dir).module(module_id)
    r = module.reflection
    if r is None:
        raise GradingError(f"{module_id}: this module has no reflection to mark.")
    if r.criteria:
        lines = [
            {
                "id": c.id,
                "text": c.text,
                "points": c.points,
                "levels": [{"points": lv.points, "descriptor": lv.descriptor, "anchor": lv.anchor} for lv in c.levels],
            }
            for c in r.criteria
        ]
    else:
        levels = sorted(r.rubric, key=lambda lv: lv.points)
        lines = [
            {
                "id": "overall",
                "text": "The answer as a whole",
                "points": r.points,
                "levels": [{"points": lv.points, "descriptor": lv.descriptor, "anchor": ""} for lv in levels],
            }
        ]
    assert [ln["id"] for ln in lines] == list(criteria_points(module_id, pack_dir))
    return {"module": module.id, "title": module.title, "prompt": r.prompt, "points": r.points, "criteria": lines}


def _notebook(course_dir: Path, trainee: str, module: str) -> Path:
    return Path(course_dir) / "autograded" / trainee / module / f"{module}.ipynb"


def autograded_reflections(course_dir: Path, pack_dir: Path | None = None) -> list[tuple[str, str]]:
    """(trainee, module) for every autograded submission of a module with a reflection, module by module (so a
    marker keeps one mark scheme in mind), trainees in name order."""
    case = _case(pack_dir)
    with_reflection = {m.id for m in case.modules if m.reflection is not None}
    root = Path(course_dir) / "autograded"
    found = []
    if root.is_dir():
        for trainee in root.iterdir():
            for module in with_reflection:
                if _notebook(course_dir, trainee.name, module).is_file():
                    found.append((trainee.name, module))
    order = {m.id: m.order for m in case.modules}
    return sorted(found, key=lambda tm: (order[tm[1]], tm[1], tm[0]))


def _reflection_source(path: Path, module: str) -> str | None:
    """The reflection cell's source as autograded (what marks.reflection_text returns), read as plain JSON: the
    page lists hundreds of notebooks, and nbformat's validation is most of the cost of reading one."""
    try:
        nb = json.loads(path.read_bytes())
        want = reflection_id(module)
        for cell in nb.get("cells", []):
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == want:
                src = cell.get("source", "")
                return "".join(src) if isinstance(src, list) else str(src)
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return None


class _TextOnly(HTMLParser):
    """The words of an HTML fragment, with its paragraphs and line breaks; no element survives."""

    BLOCKS = frozenset({"p", "div", "li", "pre", "blockquote", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.parts.append("\n" if tag == "br" else "\n\n" if tag in self.BLOCKS else "")

    def handle_endtag(self, tag) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data) -> None:
        self.parts.append(data)


def shown_text(source: str) -> str:
    """The reflection as the trainee wrote it, as plain text. At autograde PlaceReflection escapes it and
    SanitiseTraineeText turns the cell into one inert HTML block; the page shows this text with textContent, so
    it is taken back to words here (markup a trainee typed comes back as the characters they typed)."""
    parser = _TextOnly()
    parser.feed(source)
    parser.close()
    text = "".join(parser.parts).replace("\r\n", "\n")
    return re.sub(r"\n[ \t]*\n(\s*\n)+", "\n\n", text).strip()


def decisions_for(course_dir: Path, trainee: str, module: str, pack_dir: Path | None = None) -> dict:
    """The trainee's recorded first answers in this module: question, the options chosen in words with their
    points, rationale and confidence; or the reason the answers file cannot be used."""
    case = _case(pack_dir)
    folder = _notebook(course_dir, trainee, module).parent
    try:
        answers = read_answers(folder / ANSWERS_FILE, case)
        problem = ""
    except AnswersError as e:
        answers, problem = None, str(e)
    out = []
    for d in case.decisions_in(module):
        first = answers.first(d.id) if answers is not None else None
        entry = {"id": d.id, "question": d.question, "role": d.role_title, "when": d.date_text}
        entry["max_points"] = d.max_points
        if first is None:
            why = answers.problems.get(d.id, "") if answers is not None else ""
            out.append({**entry, "answered": False, "problem": why})
            continue
        choice = first.get("choice")
        chosen = [choice] if isinstance(choice, str) else list(choice or [])
        options = []
        for cid in chosen:
            opt = d.option(cid)
            options.append({"text": opt.text if opt else f"(unknown option {cid})", "points": opt.points if opt else 0})
        out.append(
            {
                **entry,
                "answered": True,
                "chosen": options,
                "points": d.score(choice),
                "rationale": str(first.get("rationale") or ""),
                "confidence": first.get("confidence"),
            }
        )
    return {"problem": problem, "decisions": out}


@dataclass
class MarkingSession:
    """One marker's session over a course folder: as first marker, or (`moderate`) as blind second marker over the
    moderation sample only."""

    course_dir: Path
    marker: str
    moderate: bool = False
    pack_dir: Path | None = None

    def __post_init__(self) -> None:
        self.course_dir = Path(self.course_dir).resolve()
        if not self.marker.strip():
            raise GradingError("a marker needs a name: give --marker NAME.")
        self._sources: dict[tuple[str, str], tuple[int, str | None]] = {}

    @property
    def role(self) -> str:
        return MODERATION if self.moderate else FIRST

    def source(self, trainee: str, module: str) -> str | None:
        """The autograded reflection source, re-read only when its notebook changed (a regrade)."""
        path = _notebook(self.course_dir, trainee, module)
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return None
        cached = self._sources.get((trainee, module))
        if cached is None or cached[0] != stamp:
            cached = (stamp, _reflection_source(path, module))
            self._sources[(trainee, module)] = cached
        return cached[1]

    def reflections(self) -> list[tuple[str, str]]:
        every = autograded_reflections(self.course_dir, self.pack_dir)
        if not self.moderate:
            return every
        with_text = [(t, m) for t, m in every if shown_text(self.source(t, m) or "")]
        with MarkBook(self.course_dir, self.pack_dir) as book:
            sample = set(book.moderation_sample(with_text))
        return [tm for tm in every if tm in sample]

    def _status(self, mark: Mark | None, fp: str) -> str:
        if mark is None:
            return "to mark"
        return "marked" if mark.fingerprint == fp else "changed since marked"

    def queue(self) -> list[dict]:
        """Every reflection this session marks, in order, with its status (to mark, marked, changed since marked)."""
        items = self.reflections()
        with MarkBook(self.course_dir, self.pack_dir) as book:
            latest = book.latest_marks(self.role)
            latest = {k: v for k, v in latest.items() if v.marker == self.marker} if self.moderate else latest
        out = []
        for trainee, module in items:
            fp = fingerprint(self.source(trainee, module))
            out.append(
                {"trainee": trainee, "module": module, "status": self._status(latest.get((trainee, module)), fp)}
            )
        return out

    def item(self, trainee: str, module: str) -> dict:
        """Everything the page shows for one reflection. In moderation the first mark is not shown (blind): only
        this marker's own moderation mark, if any."""
        if (trainee, module) not in set(self.reflections()):
            raise GradingError(f"{trainee}/{module}: not a reflection to mark in this session.")
        source = self.source(trainee, module)
        fp = fingerprint(source)
        with MarkBook(self.course_dir, self.pack_dir) as book:
            mark = book.latest(trainee, module, self.role)
            if self.moderate and mark is not None and mark.marker != self.marker:
                mark = None
        shown = None
        if mark is not None:
            shown = {
                "scores": mark.scores,
                "comment": mark.comment,
                "marker": mark.marker,
                "marked_at": mark.marked_at,
                "total": mark.total,
                "stale": mark.fingerprint != fp,
            }
        return {
            "trainee": trainee,
            "module": module,
            "text": shown_text(source or ""),
            "fingerprint": fp,
            "status": self._status(mark, fp),
            "mark": shown,
            **decisions_for(self.course_dir, trainee, module, self.pack_dir),
        }

    def save(self, trainee: str, module: str, scores: dict, comment: str, seen: str) -> dict:
        """Record this marker's mark for the reflection they were shown (`seen`: its fingerprint). A first mark goes
        into the gradebook (score and comment together) before it is recorded; a moderation mark never does."""
        if (trainee, module) not in set(self.reflections()):
            raise GradingError(f"{trainee}/{module}: not a reflection to mark in this session.")
        if not isinstance(comment, str):
            raise GradingError("the comment must be text.")
        if not isinstance(scores, dict) or not all(isinstance(k, str) for k in scores):
            raise GradingError("the scores must be criterion: points.")
        source = self.source(trainee, module)
        fp = fingerprint(source)
        if seen != fp:
            raise GradingError(
                f"{trainee}/{module}: the reflection changed since this page showed it (regraded?); reload the page."
            )
        check_scores(module, scores, self.pack_dir)
        mark = Mark(trainee, module, self.marker.strip(), dict(scores), comment, fp, self.role)
        with MarkBook(self.course_dir, self.pack_dir) as book:
            if self.moderate:
                first = book.latest(trainee, module, FIRST)
                if first is not None and first.marker == mark.marker:
                    raise GradingError(
                        f"{trainee}/{module}: you gave its first mark, so you cannot moderate it; a second marker does."
                    )
            else:
                write_to_gradebook(self.course_dir, mark)
            stored = book.record(mark)
        return {"status": self._status(stored, fp), "marked_at": stored.marked_at, "total": stored.total}


def default_marker() -> str:
    """The marker's name when none is given: the hub user on the multi-user server, else the login name."""
    import getpass

    name = os.environ.get("JUPYTERHUB_USER", "")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = ""
    return name
