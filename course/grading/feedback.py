"""Feedback: an HTML page per autograded submission, each checked for hidden tests, tracebacks and keys."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..core.contract import FEEDBACK_LEAK_MARKERS, is_answers_file
from .config import DEFAULT_COURSE_DIR, GradingError, last_lines, make_api
from .release import leaks_in_folder


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
    api = make_api(course_dir)
    auto = course_dir / "autograded"
    pairs = []
    if auto.is_dir():
        for tdir in sorted(p for p in auto.iterdir() if p.is_dir()):
            if trainees and tdir.name not in trainees:
                continue
            for mdir in sorted(p for p in tdir.iterdir() if p.is_dir()):
                if not modules or mdir.name in modules:
                    pairs.append((tdir.name, mdir.name))
    if not pairs:
        raise GradingError(f"{auto}: nothing autograded yet. Run `course grade` first.")
    made, problems = [], []
    for trainee, module in pairs:
        out = api.generate_feedback(module, trainee, force=True)
        folder = course_dir / "feedback" / trainee / module
        if not out.get("success"):
            problems.append(
                f"{folder}: feedback not generated: {last_lines(out.get('error') or out.get('log', ''), 3)}"
            )
            continue
        for own in [p for p in folder.iterdir() if is_answers_file(p.name)]:
            own.unlink()  # the trainee's own store: they have it; feedback is the report, not their data
        leaks = leaks_in_folder(folder, FEEDBACK_LEAK_MARKERS)
        if leaks:
            shutil.rmtree(folder)
            problems += leaks
            continue
        made += sorted(folder.glob("*.html"))
    log(f"Feedback written for {len(made)} submission(s) in {course_dir / 'feedback'}.")
    for p in problems:
        log(f"  - {p}")
    return made, problems
