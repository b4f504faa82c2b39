"""Feedback: an HTML page per autograded submission, each checked for hidden tests, tracebacks and keys.

One submission's problem never stops the others: a trainee id nbgrader would read as a pattern (`lee[2]` would
make the feedback of `lee2`) is refused, a folder that cannot be read is named, and nbgrader's failure for one
submission is reported in plain words with the trainee and module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..core.contract import FEEDBACK_LEAK_MARKERS, is_answers_file, trainee_id_problem
from .config import DEFAULT_COURSE_DIR, GradingError, make_api
from .release import leaks_in_folder


def _autograded(auto: Path, modules, trainees, problems: list[str]) -> list[tuple[str, str]]:
    pairs = []
    try:
        tdirs = sorted(p for p in auto.iterdir() if p.is_dir())
    except OSError as e:
        raise GradingError(f"{auto}: the autograded folder could not be read ({e.strerror or e}).") from None
    for tdir in tdirs:
        if trainees and tdir.name not in trainees:
            continue
        why = trainee_id_problem(tdir.name)
        if why:
            problems.append(f"{tdir.name!r}: no feedback: {why}.")
            continue
        try:
            mdirs = sorted(p for p in tdir.iterdir() if p.is_dir())
        except OSError as e:
            problems.append(f"{tdir.name!r}: no feedback: the folder could not be read ({e.strerror or e}).")
            continue
        pairs += [(tdir.name, m.name) for m in mdirs if not modules or m.name in modules]
    return pairs


def _remove_answers_files(folder: Path) -> None:
    """The trainee's own store (and anything named like it): they have it; feedback is the report, not their data."""
    for own in [p for p in folder.iterdir() if is_answers_file(p.name)]:
        if own.is_dir() and not own.is_symlink():
            shutil.rmtree(own)
        else:
            own.unlink()


def _plain(out: dict) -> str:
    from .autograde import _reason

    return _reason(out)


def feedback(
    course_dir: Path = DEFAULT_COURSE_DIR,
    modules: list[str] | None = None,
    trainees: list[str] | None = None,
    log=print,
) -> tuple[list[Path], list[str]]:
    """Feedback HTML for every autograded submission, each checked for hidden tests, tracebacks and keys.

    A file that fails the check is deleted so it cannot be released; the problems are returned.
    """
    course_dir = Path(course_dir).resolve()
    auto = course_dir / "autograded"
    if not auto.is_dir():
        raise GradingError(f"{auto}: nothing autograded yet. Run `course grade` first.")
    problems: list[str] = []
    pairs = _autograded(auto, modules, trainees, problems)
    if not pairs and not problems:
        raise GradingError(f"{auto}: nothing autograded yet. Run `course grade` first.")
    api = make_api(course_dir)
    made = []
    for trainee, module in pairs:
        folder = course_dir / "feedback" / trainee / module
        try:
            out = api.generate_feedback(module, trainee, force=True)
            if not out.get("success"):
                problems.append(f"{trainee}/{module}: feedback not generated: {_plain(out)}")
                continue
            _remove_answers_files(folder)
            leaks = leaks_in_folder(folder, FEEDBACK_LEAK_MARKERS)
        except OSError as e:
            problems.append(f"{trainee}/{module}: feedback not generated ({e.strerror or e}).")
            continue
        if leaks:
            shutil.rmtree(folder, ignore_errors=True)
            problems += leaks
            continue
        made += sorted(folder.glob("*.html"))
    log(f"Feedback written for {len(made)} submission(s) in {course_dir / 'feedback'}.")
    for p in problems:
        log(f"  - {p}")
    return made, problems
