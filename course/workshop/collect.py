"""Finding and reading trainees' answers files (never writing them), and merging one trainee's files into one
record by the single merge rule: the earliest first answer to a decision counts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.answers import Answers, AnswersError, read_answers
from ..core.contract import ANSWERS_FILE
from ..core.records import Case
from ..store.hub import FirstAnswersError, available, cohort_first_answers, first_answer_differences


class WorkshopError(Exception):
    """The submissions cannot be reported on; `problems` lists each in plain words, naming the file."""

    def __init__(self, problems: list[str], head: str | None = None):
        self.problems = list(problems)
        if head is None:
            head = f"{len(self.problems)} problem(s) with the submissions:" if len(self.problems) > 1 else ""
        lines = [head, *("  - " + p for p in self.problems)] if head else self.problems
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class AnswersFile:
    trainee: str  # nbgrader student id (folder name) or the file's stem in a flat folder
    path: Path


def find_answer_files(folder: Path | str, problems: list[str] | None = None) -> list[AnswersFile]:
    """Every answers file in a submissions folder, with the trainee it belongs to.

    Accepted layouts: nbgrader's submitted/ or autograded/ tree (<folder>/<trainee>/<module>/answers.json,
    or <folder>/<trainee>/answers.json), and a flat folder of answers files (<folder>/<trainee>.json).
    Hidden folders (checkpoints) and the store's lock, temp and set-aside files are skipped. A folder that
    cannot be read is named in `problems` (never silently left out); an answers.json that is not a file is
    listed all the same, so that its reader names it.
    """
    folder = Path(folder)
    if not folder.exists():
        raise WorkshopError([f"The submissions folder {folder} does not exist."])
    if not folder.is_dir():
        raise WorkshopError([f"{folder} is not a folder. Give the folder that holds the trainees' answers."])
    nbgrader = sorted(n for n in ("submitted", "autograded") if (folder / n).is_dir())
    if (nbgrader and (folder / "nbgrader_config.py").exists()) or len(nbgrader) == 2:
        # The course root holds submitted/ and autograded/ copies of the same answers: never count both.
        raise WorkshopError(
            [
                f"{folder} looks like an nbgrader course folder. Give one of its "
                f"{' or '.join(n + '/' for n in nbgrader)} folders instead, e.g. "
                f"--submissions {folder / nbgrader[0]}"
            ]
        )
    problems = problems if problems is not None else []
    try:
        entries = sorted(folder.iterdir())
    except OSError as e:
        raise WorkshopError([f"The submissions folder {folder} could not be read ({e.strerror or e})."]) from None
    found: list[AnswersFile] = []
    for p in entries:
        if p.name.startswith("."):
            continue
        if not _is_text(p.name):
            problems.append(f"{p.name!a}: this name is not valid text (not UTF-8); rename it to have it counted.")
            continue
        if p.suffix.lower() == ".json" and not p.is_dir():
            found.append(AnswersFile(p.stem if p.name != ANSWERS_FILE else folder.name, p))
        elif p.is_dir():
            found += [AnswersFile(p.name, f) for f in _answers_files_under(p, folder, problems)]
    if not found and not problems:
        raise WorkshopError(
            [
                f"No answers files found in {folder}. Expected nbgrader's submitted/ or autograded/ folder "
                f"(<trainee>/<module>/answers.json) or a folder of answers files (<trainee>.json)."
            ]
        )
    return found


def _answers_files_under(top: Path, folder: Path, problems: list[str]) -> list[Path]:
    """Every answers.json below `top` (hidden folders skipped), naming each folder that could not be read."""

    def unreadable(e: OSError) -> None:
        where = _rel(Path(e.filename), folder) if e.filename else _rel(top, folder)
        problems.append(f"{where}: this folder could not be read ({e.strerror or e}), so its answers are not counted.")

    out = []
    for here, dirs, files in os.walk(top, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != ANSWERS_FILE)
        base = Path(here)
        if ANSWERS_FILE in files or (base / ANSWERS_FILE).is_dir():
            out.append(base / ANSWERS_FILE)
    return out


@dataclass(frozen=True)
class Submission:
    """One trainee's answers for this course version, merged across their answers files."""

    trainee: str
    files: tuple[Path, ...]
    first: dict  # decision id -> the first (graded) answer
    entries: dict  # decision id -> {"first": ..., "revisions": [...]}
    activity: dict  # module id -> {"first_opened_at", "last_seen_at"}

    def answered(self, decision_id: str) -> bool:
        return decision_id in self.first


@dataclass(frozen=True)
class Excluded:
    """An answers file from another course or another version of it: listed, never counted."""

    trainee: str
    path: Path
    course: str
    course_version: str
    reason: str


@dataclass(frozen=True)
class Collection:
    folder: Path
    submissions: tuple[Submission, ...]
    excluded: tuple[Excluded, ...]
    # What could not be used or needs a look, each naming the trainee, module and file: unreadable files and
    # folders, answers the course could not have written (not counted), first answers edited by hand (counted).
    problems: tuple[str, ...] = ()

    def labels(self, names: bool = False) -> dict[str, str]:
        """Trainee id -> the label shown: 'Participant 1..N' in a stable (sorted) order, or the id itself."""
        trainees = sorted({s.trainee for s in self.submissions} | {e.trainee for e in self.excluded})
        if names:
            return {t: t for t in trainees}
        return {t: f"Participant {i}" for i, t in enumerate(trainees, start=1)}


class _Merged:
    """One trainee's answers as their files are read: the single merge rule for reports and certificates."""

    def __init__(self, trainee: str):
        self.trainee = trainee
        self.files: list[Path] = []
        self.entries: dict = {}
        self.activity: dict = {}

    def add(
        self, case: Case, answers: Answers, where: str, problems: list[str], flags: list[str] | None = None
    ) -> None:
        """Take one file's answers: unknown decisions and unreadable answers become problems naming the file; a
        decision answered in two files keeps the earlier first answer; activity keeps what was seen first."""
        if answers.path is not None:
            self.files.append(answers.path)
        known = {d.id for d in case.decisions}
        answers = answers.against(case)
        for did, why in answers.problems.items():
            problems.append(f"{where}: decision {did!r}: the recorded answer cannot be used ({why}); not counted.")
        for did in answers.unsealed:
            (problems if flags is None else flags).append(
                f"{where}: decision {did!r}: the first answer does not match the digest recorded with it, so it was "
                "probably edited by hand after the review was revealed; counted as it stands."
            )
        for did in answers:
            if did not in known:
                problems.append(f"{where}: unknown decision id {did!r} (not in {case.id} version {case.version}).")
                continue
            entry = answers[did]
            have = self.entries.get(did)
            if have is None or str(entry["first"].get("submitted_at", "")) < str(have["first"].get("submitted_at", "")):
                self.entries[did] = entry
        for mid, seen in answers.activity.items():
            if isinstance(seen, dict):
                mine = self.activity.setdefault(mid, {})
                mine.update({k: v for k, v in seen.items() if k not in mine})

    def submission(self, name: str | None = None) -> Submission:
        return Submission(
            name or self.trainee,
            tuple(self.files),
            {d: e["first"] for d, e in self.entries.items()},
            self.entries,
            self.activity,
        )


def collect(folder: Path | str, case: Case, progress: bool = False) -> Collection:
    """Read every answers file in `folder` without writing anything.

    Files from another course or course version are set aside in `excluded`. One bad file never stops the
    rest: an unreadable file or folder, an unknown decision id or an answer the course could not have written
    is left out of every count and named in `problems` with the file it is in. WorkshopError only for a folder
    that cannot be reported on at all.
    """
    folder = Path(folder)
    problems: list[str] = []
    files = find_answer_files(folder, problems)
    excluded: list[Excluded] = []
    merged: dict[str, _Merged] = {}
    iterator: Iterable[AnswersFile] = files
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(files, desc="Reading answers", unit="file")
    for af in iterator:
        rel = _rel(af.path, folder)
        try:
            answers = read_answers(af.path)
        except AnswersError as e:
            problems.append(f"{rel}: {e}")
            continue
        if answers.course != case.id or answers.course_version != case.version:
            excluded.append(
                Excluded(
                    af.trainee,
                    af.path,
                    answers.course,
                    answers.course_version,
                    _mismatch(answers.course, answers.course_version, case),
                )
            )
            continue
        merged.setdefault(af.trainee, _Merged(af.trainee)).add(case, answers, rel, problems)
    subs = tuple(m.submission() for _, m in sorted(merged.items()))
    problems += _against_the_hub(subs, case)
    excluded_sorted = tuple(sorted(excluded, key=lambda e: (e.trainee, str(e.path))))
    return Collection(folder, subs, excluded_sorted, tuple(problems))


def _against_the_hub(subs: tuple[Submission, ...], case: Case) -> list[str]:
    """On the multi-user server, each first answer as the hub's first-answers service recorded it when it was
    given (course.store.hub): a trainee's answers that say something else are named. Elsewhere: nothing."""
    if not subs or not available():
        return []
    try:
        recorded = cohort_first_answers()
    except FirstAnswersError as e:
        return [f"The answers could not be compared with the hub's record of first answers: {e}"]
    out = []
    for sub in subs:
        by_module: dict[str, dict] = {}
        for did, first in sub.first.items():
            by_module.setdefault(case.decision(did).module, {})[did] = first
        for u, m, _ in recorded:
            if u == sub.trainee:
                by_module.setdefault(m, {})
        for module, firsts in sorted(by_module.items()):
            out += [
                f"{sub.trainee} {module}: {d}" for d in first_answer_differences(sub.trainee, module, firsts, recorded)
            ]
    return out


def collect_trainee(path: Path | str, case: Case, trainee: str = "") -> Submission:
    """One trainee's answers from their workspace folder (every answers.json beneath it), a module folder
    or a single answers file; files from another course version raise WorkshopError (never mixed)."""
    path = Path(path)
    problems: list[str] = []
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = _answers_files_under(path, path, problems)
    else:
        raise WorkshopError([f"{path} does not exist. Give your workspace folder or an answers file."])
    if not files:
        raise WorkshopError(
            problems or [f"No answers files found in {path}: no decision has been answered and saved there yet."]
        )
    name = trainee or (path.stem if path.is_file() else path.resolve().name)
    merged = _Merged(name)
    for f in files:
        try:
            a = read_answers(f)
        except AnswersError as e:
            problems.append(f"{f}: {e}")
            continue
        if a.course != case.id or a.course_version != case.version:
            problems.append(
                f"{f}: {_mismatch(a.course, a.course_version, case)}; it is not included in this certificate."
            )
            continue
        merged.add(case, a, str(f), problems, flags=[])  # a hand-edited first answer is the trainer's to see
    if problems:
        raise WorkshopError(problems)
    return merged.submission()


def _is_text(name: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in name)


def _rel(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def _mismatch(course: str, version: str, case: Case) -> str:
    if not course:
        return "the file does not say which course it belongs to"
    if course != case.id:
        return f"answers from another course ({course!r}, not {case.id!r})"
    if not version:
        return f"the file does not say which version of {case.id} it was written for (this is version {case.version})"
    return f"answers from version {version!r} of the course (this report is for version {case.version!r})"
