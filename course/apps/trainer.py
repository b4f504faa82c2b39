"""Trainer subcommands of `course`: release, grade, mark, export and feedback (logic in course.grading)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..grading.autograde import grade
from ..grading.config import DEFAULT_COURSE_DIR, GradingError
from ..grading.export import export
from ..grading.feedback import feedback
from ..grading.marks_export import write_marks_csv
from ..grading.moderation import write_report
from ..grading.readiness import marks_to_redo, settle_resubmissions
from ..grading.release import release


def _course_dir(args) -> Path:
    return Path(args.course_dir) if args.course_dir else DEFAULT_COURSE_DIR


def _release(args: argparse.Namespace) -> int:
    notebooks = Path(args.notebooks) if args.notebooks else None
    results = release(_course_dir(args), notebooks, args.module or None, validate=not args.no_validate)
    bad = [r for r in results if r.problems]
    if bad:
        print(f"{len(bad)} module(s) must not be released as they are; fix the problems listed above.", file=sys.stderr)
        return 1
    print(
        f"All {len(results)} module(s) released and checked: no hidden test, solution or mark scheme in "
        f"{_course_dir(args) / 'release'}."
    )
    return 0


def _grade(args: argparse.Namespace) -> int:
    run = grade(
        _course_dir(args),
        workers=args.workers,
        force=args.force,
        modules=args.module or None,
        trainees=args.trainee or None,
        progress=not args.no_progress,
    )
    settled = settle_resubmissions(_course_dir(args), run.graded)
    for line in settled.kept:
        print(f"Mark kept: {line}.")
    for line in settled.stale:
        print(f"Stale mark: {line}.")
    redo = marks_to_redo(_course_dir(args))
    if redo:
        print(
            f"{len(redo)} reflection(s) marked before a resubmission must be marked again before their feedback is "
            f"sent: {', '.join(redo)}."
        )
    problems: list[str] = []
    export(_course_dir(args), problems=problems)
    write_marks_csv(_course_dir(args))
    if run.needs_attention or problems:
        print(
            "Something needs your attention: see the submissions named above (exit status 1).",
            file=sys.stderr,
        )
        return 1
    return 0


def _export(args: argparse.Namespace) -> int:
    problems: list[str] = []
    out = Path(args.out) if args.out else None
    export(_course_dir(args), out, problems=problems)
    write_marks_csv(_course_dir(args), out)
    return 1 if problems else 0


def _moderation(args: argparse.Namespace) -> int:
    write_report(_course_dir(args), fraction=args.fraction, minimum=args.minimum)
    return 0


def _feedback(args: argparse.Namespace) -> int:
    held: list[str] = []
    _, problems = feedback(
        _course_dir(args), args.module or None, args.trainee or None, held=held, release=args.release, zips=args.zip
    )
    return 1 if problems or held else 0


def _mark(args: argparse.Namespace) -> int:
    from ..grading.marking import default_marker
    from .mark_command import open_marking

    return open_marking(_course_dir(args), args.marker or default_marker(), args.moderate, args.no_browser, args.port)


def _run(func):
    """A trainer's command: a problem they can act on is a message and exit status 1, never a traceback."""

    def wrapped(args):
        try:
            return func(args)
        except GradingError as e:
            print(str(e), file=sys.stderr)
            return 1
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            print(f"{where}{e.strerror or e} (nothing more was done).", file=sys.stderr)
            return 1

    return wrapped


def register(sub) -> None:
    def common(p):
        p.add_argument("--course-dir", help="the nbgrader course folder (default: grading/)")
        p.add_argument("--module", action="append", help="only this module (repeatable)")

    p = sub.add_parser("release", help="build the trainee version of every module and check nothing hidden leaks")
    common(p)
    p.add_argument("--notebooks", help="the folder of module notebooks (default: notebooks/)")
    p.add_argument("--no-validate", action="store_true", help="skip running each released notebook")
    p.set_defaults(func=_run(_release))

    p = sub.add_parser("grade", help="autograde every submission, in parallel; resumes where it stopped")
    common(p)
    p.add_argument("--trainee", action="append", help="only this trainee (repeatable)")
    p.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run(_grade))

    p = sub.add_parser("export", help="write grades.csv, marks.csv and a summary for each trainee")
    p.add_argument("--course-dir", help="the nbgrader course folder (default: grading/)")
    p.add_argument("--out", help="folder for grades.csv and summaries/ (default: the course folder)")
    p.set_defaults(func=_run(_export))

    p = sub.add_parser(
        "moderation", help="the blind double-marking sample and how far the markers agree, criterion by criterion"
    )
    p.add_argument("--course-dir", help="the nbgrader course folder (default: grading/)")
    p.add_argument("--fraction", type=float, default=0.10, help="share of reflections to double-mark (default 0.10)")
    p.add_argument("--minimum", type=int, default=5, help="at least this many (default 5; all when fewer)")
    p.set_defaults(func=_run(_moderation))

    p = sub.add_parser("mark", help="mark reflections, one per screen, in your browser (or moderate: --moderate)")
    p.add_argument("--course-dir", help="the nbgrader course folder (default: grading/)")
    p.add_argument("--marker", help="your name as marker (default: your user name)")
    p.add_argument(
        "--moderate", action="store_true", help="second-mark the moderation sample, blind (never reaches the gradebook)"
    )
    p.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    p.add_argument("--port", type=int, help="port to serve on (default: any free port)")
    p.set_defaults(func=_run(_mark))

    p = sub.add_parser(
        "feedback", help="feedback pages for trainees whose marks are final, without hidden tests or mark schemes"
    )
    common(p)
    p.add_argument("--trainee", action="append", help="only this trainee (repeatable)")
    p.add_argument("--release", action="store_true", help="hand the pages back through nbgrader's exchange")
    p.add_argument("--zip", action="store_true", help="also write feedback-zips/<trainee>.zip, one per trainee")
    p.set_defaults(func=_run(_feedback))
