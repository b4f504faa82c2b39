"""CleanFeedback, at generate_feedback: removes the mark scheme, hidden test code, tracebacks and stderr, and
instructions that only made sense on the live page ("Press Refresh…", "Double-click…"); adds under each decision
what the trainee recorded, the option the review supports and every option's points; labels each graded cell in the
course's words for the feedback page (course.grading.feedback_page)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ...core.answers import AnswersError, read_answers
from ...core.contract import ANSWER_PLACEHOLDER, ANSWERS_FILE, HIDDEN_TESTS, MARK_SCHEME_TAG, SCORE_PREFIX
from ...render.decision import review_markdown
from .cells import _nbgrader_meta, is_mark_scheme_cell, tags, the_case

REVIEW_TAG = "course-feedback-review"
HIDDEN_REGION = re.compile(r"^[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*\n?", re.DOTALL | re.MULTILINE)
MARK_SCHEME_REGION = re.compile(r"^[^\n]*BEGIN MARK SCHEME.*?END MARK SCHEME[^\n]*\n?", re.DOTALL | re.MULTILINE)
NOT_RUN_MESSAGE = "This check could not be completed. Your trainer has the details and can explain your score."
NO_REFLECTION = "*You did not write a reflection for this module, so it scores 0.*"
NBGRADER_NO_RESPONSE = "No response."  # SaveAutoGrades' comment on an answer cell left as released
# A sentence telling the trainee to use the live page: on a feedback page there is nothing to press or edit.
DEAD_INSTRUCTION = (
    r"\b(press|click|double-click|button|buttons|type your|refresh|scroll down|run (the|this) cell)\b"
    r"|\bsubmit my answer\b|\bafter you submit\b|\bslider\b|\blens's date\b|\bmove the date\b|\bmove the lens\b"
    r"|\blook at the timeline\b"
    r"|\bin the box\b|\bthe box below\b|\bsaved as you type\b|\bskip it for now\b|\bas you give them\b"
)
SENTENCE = re.compile(r"(?<=[.!?])\s+")
STRUCTURED = re.compile(r"^\s*(#+\s|>\s?|\||[-*+]\s|\d+[.)]\s|```)")


def _read_first_answers(folder: Path, case=None) -> tuple[dict, str]:
    """The recorded decisions beside the notebook, and a plain note when there are none."""
    path = folder / ANSWERS_FILE
    if not path.exists():
        return {}, "No answers file was submitted with this module, so no decision was recorded."
    try:
        answers = read_answers(path, case)  # never writes; upgrades older files; leaves out unusable answers
    except AnswersError:
        return {}, "Your answers file could not be read, so no decision could be scored."
    recorded: dict = {d: {"first": answers.first(d)} for d in answers}
    for d in answers.problems:  # the reason is under the graded cell; trainee text never goes into markdown here
        recorded[d] = {"note": "The answer recorded for this decision could not be used, so it scores 0."}
    return recorded, ""


class CleanFeedback(NbGraderPreprocessor):
    """Make an autograded notebook safe to hand back: no mark scheme, hidden tests, tracebacks or stderr."""

    mark_scheme_tag = Unicode(MARK_SCHEME_TAG, help="Cells with this tag are for graders and removed.").tag(config=True)
    review_tag = Unicode(REVIEW_TAG, help="Tag of the review cells this preprocessor adds (never two copies).").tag(
        config=True
    )
    hidden_begin = Unicode(HIDDEN_TESTS[0], help="Start of nbgrader's hidden test region (removed with its code).").tag(
        config=True
    )
    dead_instruction = Unicode(
        DEAD_INSTRUCTION,
        help="A sentence of the course's markdown matching this (case-insensitive) tells the trainee to use the live "
        "page; it is left out of feedback. Trainee answers are never touched.",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        case = None
        answers = note = None
        cells = []
        self._title(nb, resources)
        for cell in nb.cells:
            if is_mark_scheme_cell(cell) or self.mark_scheme_tag in tags(cell) or self.review_tag in tags(cell):
                continue
            cell.source = MARK_SCHEME_REGION.sub("", cell.source)
            meta = _nbgrader_meta(cell)
            if cell.cell_type == "markdown" and not (meta.get("solution") or meta.get("task")):
                cell.source = self._without_dead_instructions(cell.source)
                if not cell.source.strip():
                    continue
            if meta.get("solution") and meta.get("grade"):
                cell.metadata["course_feedback"] = {"label": "Your reflection"}
                if html.unescape(re.sub(r"<[^>]*>", "", cell.source)).strip() in (
                    "",
                    ANSWER_PLACEHOLDER,
                ):  # as released
                    cell.source = NO_REFLECTION
                    if (meta.get("comment") or "").strip() == NBGRADER_NO_RESPONSE:
                        meta["comment"] = None  # nbgrader's own note, not the trainer's: the line above says it
            if cell.cell_type == "code":
                hidden = self.hidden_begin in cell.source
                cell.source = HIDDEN_REGION.sub("", cell.source).rstrip()
                cell.outputs = self._safe_outputs(cell.outputs, drop_results=hidden)
                for out in cell.outputs:
                    if out.get("output_type") == "stream" and isinstance(out.get("text"), str):
                        out["text"] = self._printed_without_dead_instructions(out["text"])
            cells.append(cell)
            grade_id = _nbgrader_meta(cell).get("grade_id", "")
            if cell.cell_type == "code" and grade_id.startswith(SCORE_PREFIX):
                case = case or the_case()
                try:
                    decision = case.decision(grade_id[len(SCORE_PREFIX) :])
                except KeyError:
                    continue
                cell.metadata["course_feedback"] = {"label": f"Decision: {decision.question}"}
                if answers is None:
                    answers, note = _read_first_answers(folder, case)
                mine = answers.get(decision.id) or {}
                md = nbformat.v4.new_markdown_cell(
                    review_markdown(decision, mine if "first" in mine else None, mine.get("note") or note or "")
                )
                md.metadata = {"tags": [self.review_tag]}
                cells.append(md)
        nb.cells = cells
        return nb, resources

    def _title(self, nb, resources) -> None:
        """The module's title, for the page heading (the notebook's file name when the pack does not know it)."""
        module = (resources.get("nbgrader") or {}).get("assignment") or ""
        try:
            title = the_case().module(module).title
        except Exception:  # a module the pack does not have: the heading falls back to the notebook's name
            return
        nb.metadata["course_feedback"] = {"title": title}

    def _without_dead_instructions(self, text: str) -> str:
        """The markdown without sentences that tell the trainee to use the live page. A plain paragraph is read as
        one run of sentences (markdown joins its lines); a list line by line; headings, quotes (the review's own words)
        and tables are never changed."""
        dead = re.compile(self.dead_instruction, re.IGNORECASE)

        def keep(line: str) -> str:
            return " ".join(s.strip() for s in SENTENCE.split(line) if s.strip() and not dead.search(s))

        out = []
        for para in re.split(r"\n\s*\n", text):
            lines = para.split("\n")
            if any(STRUCTURED.match(ln) for ln in lines):
                kept = []
                for ln in lines:
                    m = STRUCTURED.match(ln)
                    lead = m.group(0) if m else ""
                    if lead.strip().startswith((">", "|", "```", "#")):  # headings, quotes, tables: as written
                        kept.append(ln)
                        continue
                    rest = keep(ln[len(lead) :])
                    if rest or not dead.search(ln):
                        kept.append(lead + rest if rest else ln)
                para = "\n".join(kept)
            else:
                para = keep(" ".join(ln.strip() for ln in lines))
            if para.strip():
                out.append(para)
        return "\n\n".join(out) + "\n" if out else ""

    def _printed_without_dead_instructions(self, text: str) -> str:
        """What a graded cell printed, line by line, without sentences that send the trainee back to the page."""
        dead = re.compile(self.dead_instruction, re.IGNORECASE)
        lines = []
        for line in text.split("\n"):
            kept = " ".join(s.strip() for s in SENTENCE.split(line) if s.strip() and not dead.search(s))
            if kept or not dead.search(line):
                lines.append(line[: len(line) - len(line.lstrip())] + kept if kept else line)
        return "\n".join(lines)

    @staticmethod
    def _safe_outputs(outputs, drop_results: bool):
        safe = []
        failed = False
        for out in outputs:
            if out.get("output_type") == "error" or (
                out.get("output_type") == "stream" and out.get("name") == "stderr"
            ):
                failed = True
                continue
            if drop_results and out.get("output_type") == "execute_result":
                continue  # the value a hidden check returned: the score header already says it plainly
            if "traceback" in json.dumps(
                out.get("data", {})
            ).lower() and "Traceback (most recent call last)" in json.dumps(out):
                failed = True
                continue
            safe.append(out)
        if failed:
            safe.append(nbformat.v4.new_output("stream", name="stdout", text=NOT_RUN_MESSAGE + "\n"))
        return safe
