"""Feedback: an HTML page per autograded submission whose marks are right to send, each checked for hidden tests,
tracebacks and keys.

A submission is held back, with the reason, while its reflection still needs marking, was marked before the trainee
resubmitted, or changed since it was marked (course.grading.readiness); any page made for it earlier is removed, so
nothing stale can be handed back.

One submission's problem never stops the others: a trainee id nbgrader would read as a pattern (`lee[2]` would
make the feedback of `lee2`) is refused, a folder that cannot be read is named, and nbgrader's failure for one
submission is reported in plain words with the trainee and module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..core.contract import FEEDBACK_LEAK_MARKERS, is_answers_file, trainee_id_problem
from . import handback
from .config import DEFAULT_COURSE_DIR, GradingError, make_api
from .feedback_page import configure_feedback_page
from .readiness import readiness
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


def _generate(api, module: str, trainee: str) -> dict:
    """nbgrader's GenerateFeedback for one submission, with the course's page template. (NbGraderAPI's
    generate_feedback forces nbgrader's own template, `HTMLExporter.template_name = 'feedback'`; the converter
    itself, like the `nbgrader generate_feedback` command, takes the configured one.)"""
    from nbgrader.apps.api import capture_log
    from nbgrader.converters import GenerateFeedback
    from nbgrader.utils import temp_attrs

    with temp_attrs(api.coursedir, assignment_id=module, student_id=trainee):
        app = GenerateFeedback(coursedir=api.coursedir, parent=api)
        app.force = True
        return capture_log(app)


def feedback(
    course_dir: Path = DEFAULT_COURSE_DIR,
    modules: list[str] | None = None,
    trainees: list[str] | None = None,
    log=print,
    held: list[str] | None = None,
    release: bool = False,
    zips: bool = False,
) -> tuple[list[Path], list[str]]:
    """Feedback HTML for every autograded submission whose marks are right to send, each checked for hidden tests,
    tracebacks and keys.

    A file that fails the check is deleted so it cannot be released; the problems are returned. Submissions held
    back (course.grading.readiness: not marked, marked before a resubmission, changed since marked) are listed in
    `held` with the reason, and any earlier feedback page of theirs is removed (from the exchange too).
    `release`: hand the pages to trainees through nbgrader's exchange; `zips`: one zip of pages per trainee in
    feedback-zips/ (course.grading.handback).
    """
    held = held if held is not None else []
    course_dir = Path(course_dir).resolve()
    auto = course_dir / "autograded"
    if not auto.is_dir():
        raise GradingError(f"{auto}: nothing autograded yet. Run `course grade` first.")
    problems: list[str] = []
    pairs = _autograded(auto, modules, trainees, problems)
    if not pairs and not problems:
        raise GradingError(f"{auto}: nothing autograded yet. Run `course grade` first.")
    states = readiness(course_dir, pairs)
    api = make_api(course_dir)
    configure_feedback_page(api.config, course_dir)
    made: list[Path] = []
    sent: list[tuple[str, str]] = []
    no_exchange: list[str] = []
    for trainee, module in pairs:
        folder = course_dir / "feedback" / trainee / module
        state = states[(trainee, module)]
        if not state.ready:
            held.append(str(state))
            handback.withdraw(course_dir, module, handback.secret_of(course_dir, trainee, module))
            shutil.rmtree(folder, ignore_errors=True)  # an earlier page would carry the stale mark
            continue
        released_as = handback.secret_of(course_dir, trainee, module)
        try:
            out = _generate(api, module, trainee)
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
        sent.append((trainee, module))
        if not handback.place_secret(course_dir, trainee, module):
            no_exchange.append(f"{trainee}/{module}")
        if released_as != handback.secret_of(course_dir, trainee, module):
            handback.withdraw(course_dir, module, released_as)  # a page for an earlier submission
    if release and sent:
        problems += handback.release(course_dir, sent, log)
        if no_exchange:
            log(
                f"Not submitted through the exchange ({len(no_exchange)}), so those trainees cannot fetch their "
                f"feedback: send them their zip (course feedback --zip): {', '.join(no_exchange)}."
            )
    if zips:
        handback.zip_pages(course_dir, [t for t, _ in pairs], log)
    log(f"Feedback written for {len(made)} submission(s) in {course_dir / 'feedback'}.")
    if held:
        log(f"Held back ({len(held)}): no feedback until these are marked:")
        for h in held:
            log(f"  - {h}")
    if problems:
        log("Not written:")
    for p in problems:
        log(f"  - {p}")
    return made, problems
