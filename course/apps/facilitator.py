"""`course workshop`, `course present` and `course certificate`: the facilitator's and the trainee's doors.

Each is a few lines over course.workshop and course.apps.present, where the logic is tested.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from ..core import paths


def _case(args):
    from ..core.entries import CaseError
    from ..core.pack import load_case

    try:
        return load_case(Path(args.data) if getattr(args, "data", None) else None)
    except CaseError as e:
        print(f"The case pack cannot be loaded:\n{e}", file=sys.stderr)
        return None


def _workshop(args: argparse.Namespace) -> int:
    from ..workshop.collect import WorkshopError
    from ..workshop.run import run_report

    case = _case(args)
    if case is None:
        return 2
    try:
        report = run_report(
            args.submissions,
            args.out,
            case,
            group=args.group or "",
            modules=args.modules,
            names=args.names,
            progress=not args.quiet,
        )
    except WorkshopError as e:
        print(f"course workshop: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"course workshop: {e.filename or args.out}: {e.strerror or e}", file=sys.stderr)
        return 1
    excluded = len(report.collection.excluded)
    print(
        f"Wrote {args.out}: {report.participants} participant(s), {len(report.decisions)} decision(s)"
        + (
            f"; {excluded} answers file(s) from another course version listed separately, not counted."
            if excluded
            else "."
        )
    )
    return _needs_attention("course workshop", report.collection.problems)


def _needs_attention(command: str, problems) -> int:
    """Problems that did not stop the run, each naming the trainee and file: listed, and exit status 1."""
    if not problems:
        return 0
    print(f"{command}: {len(problems)} problem(s) need attention (the rest was done):", file=sys.stderr)
    for p in problems:
        # file names come from trainees: no control character reaches the terminal
        print("  - " + "".join(c if c.isprintable() else "?" for c in p), file=sys.stderr)
    return 1


def _present(args: argparse.Namespace) -> int:
    from .present import PresentError, serve

    try:
        return serve(
            module=args.module, port=args.port, no_browser=args.no_browser, data=Path(args.data) if args.data else None
        )
    except PresentError as e:
        print(f"course present: {e}", file=sys.stderr)
        return 1


def _certificate(args: argparse.Namespace) -> int:
    from ..workshop.certificate import write_certificates
    from ..workshop.collect import WorkshopError

    case = _case(args)
    if case is None:
        return 2
    on = None
    if args.date:
        try:
            on = dt.date.fromisoformat(args.date)
        except ValueError:
            print(f"course certificate: --date {args.date!r} is not a date like 2026-03-31", file=sys.stderr)
            return 2
    problems: list[str] = []
    try:
        written = write_certificates(
            case,
            answers=args.answers,
            submissions=args.submissions,
            out=args.out,
            out_dir=args.out_dir,
            name=args.name or "",
            fmt=args.format,
            on=on,
            log=args.log,
            problems=problems,
        )
    except WorkshopError as e:
        print(f"course certificate: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"course certificate: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    for path in written:
        print(f"Wrote {path}")
    return _needs_attention("course certificate", problems)


def _facilitator_notes(args: argparse.Namespace) -> int:
    from ..workshop.collect import WorkshopError
    from ..workshop.facilitator import facilitator_notes_markdown, guide_with_notes

    case = _case(args)
    if case is None:
        return 2
    notes = facilitator_notes_markdown(case)
    if not (args.write or args.check):
        print(notes, end="")
        return 0
    guide = Path(args.guide)
    try:
        text = guide.read_text(encoding="utf-8")
        updated = guide_with_notes(text, notes)
    except (OSError, WorkshopError) as e:
        print(f"course facilitator-notes: {guide}: {e}", file=sys.stderr)
        return 1
    if args.check:
        if updated != text:
            print(
                f"{guide}: the decision prompts are out of date; run: course facilitator-notes --write", file=sys.stderr
            )
            return 1
        print(f"{guide}: the decision prompts match the case pack.")
        return 0
    guide.write_text(updated, encoding="utf-8")
    print(f"Updated the decision prompts in {guide}.")
    return 0


def register(sub) -> None:
    p = sub.add_parser("workshop", help="a group's answers against the review: a self-contained HTML report")
    p.add_argument(
        "--submissions",
        required=True,
        help="nbgrader's submitted/ or autograded/ folder, or a folder of answers .json files",
    )
    p.add_argument("--out", default="report.html", help="the HTML report to write (default: report.html)")
    p.add_argument("--group", default="", help="the group's name, shown in the title")
    p.add_argument(
        "--modules",
        default="",
        help="module ids to include, separated by commas (default: every module with decisions)",
    )
    p.add_argument("--names", action="store_true", help="show trainee ids instead of Participant 1..N")
    p.add_argument("--data", help="a case pack folder (default: the course's data/)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_workshop)

    p = sub.add_parser("present", help="the agency lens and timeline for a projector (Voila, no code, offline)")
    p.add_argument("--module", help="a module id to present (default: the whole case)")
    p.add_argument("--port", type=int, default=0, help="port to serve on (default: a free port)")
    p.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    p.add_argument("--data", help="a case pack folder (default: the course's data/)")
    p.set_defaults(func=_present)

    p = sub.add_parser("certificate", help="a CPD certificate and reflective log from completed modules")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--answers", default=None, help="your workspace folder or an answers file (default: ./workspace)")
    src.add_argument("--submissions", help="trainer: one certificate per trainee in this submissions folder")
    p.add_argument("--name", help="the name to print on the certificate (default: the folder's name)")
    p.add_argument("--format", choices=("html", "pdf"), default="html", help="html (default) or pdf (needs Chromium)")
    p.add_argument("--out", help="the certificate file (default: certificate.html or .pdf)")
    p.add_argument(
        "--out-dir", default="certificates", help="with --submissions: where to write (default: certificates)"
    )
    p.add_argument("--log", help="the reflective log (Markdown) to write (default: beside the certificate)")
    p.add_argument("--date", help="the date on the certificate, YYYY-MM-DD (default: today)")
    p.add_argument("--data", help="a case pack folder (default: the course's data/)")
    p.set_defaults(func=_certificate)

    p = sub.add_parser("facilitator-notes", help="discussion prompts for every decision, from the case pack")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="update the generated section of the facilitator guide")
    mode.add_argument("--check", action="store_true", help="fail if the guide's section is out of date")
    p.add_argument(
        "--guide", default=str(paths.FACILITATOR_GUIDE), help="the guide to update (default: docs/facilitator-guide.md)"
    )
    p.add_argument("--data", help="a case pack folder (default: the course's data/)")
    p.set_defaults(func=_facilitator_notes)
