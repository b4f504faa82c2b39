"""The `course` command: one front door for trainees, trainers, facilitators and authors.

Each subcommand is a thin call into the package, where the logic is tested. The trainer's commands are in
course.apps.trainer, the facilitator's and certificates in course.apps.facilitator.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core import paths
from . import facilitator, trainer


def _check(args: argparse.Namespace) -> int:
    from .check import run_checks

    return run_checks(Path(args.data) if args.data else None, notebooks=not args.data_only)


def _bench(args: argparse.Namespace) -> int:
    from .bench import run_benchmarks

    return run_benchmarks(only=args.only, quick=args.quick)


def _lab(args: argparse.Namespace) -> int:
    from .lab import open_lab

    return open_lab(
        Path(args.workspace),
        no_browser=args.no_browser,
        build_only=args.build_only,
        port=args.port,
        pages=args.command == "open",
    )


def _cache(args: argparse.Namespace) -> int:
    from ..core import cache

    where = cache.cache_dir()
    if where is None:
        print("The chart cache is off here (COURSE_CACHE, or a folder that cannot be used safely).")
        return 0
    if args.clear:
        print(f"Removed {cache.clear()} cached file(s) from {where}.")
        return 0
    n, size = cache.size()
    print(
        f"{where}: {n} cached file(s), {size / 1e6:.1f} MB (kept under {cache.MAX_BYTES / 1e6:.0f} MB; "
        "oldest removed first whenever a workspace is built). `course cache --clear` "
        "empties it; charts are redrawn when needed."
    )
    return 0


def _build_notebooks(args: argparse.Namespace) -> int:
    from ..authoring.build import stale_notebooks, write_all
    from ..authoring.narrative import AuthoringError
    from ..core.entries import CaseError
    from ..core.pack import load_case

    try:
        case = load_case(Path(args.data) if args.data else None)
        if args.check:
            stale = stale_notebooks(case, Path(args.src), Path(args.out))
            for s in stale:
                print(s)
            print("All module notebooks are up to date." if not stale else f"{len(stale)} notebook(s) out of date.")
            return 1 if stale else 0
        write_all(case, Path(args.src), Path(args.out), args.modules or None)
    except (CaseError, AuthoringError) as e:
        print(e, file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", help="validate the case pack and the notebooks")
    p.add_argument("--data", help="a case pack folder (default: the course's data/)")
    p.add_argument("--data-only", action="store_true", help="check the case pack only")
    p.set_defaults(func=_check)

    for name, what in (
        ("open", "build your copy of the course and open its home page (the modules as pages, no code)"),
        ("lab", "build your copy of the course and open it in JupyterLab (for trainers and authors)"),
    ):
        p = sub.add_parser(name, help=what)
        p.add_argument(
            "--workspace", default="workspace", help="where your copy of the course lives (default: ./workspace)"
        )
        p.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
        p.add_argument("--build-only", action="store_true", help="build or refresh the workspace, then stop")
        p.add_argument(
            "--port",
            type=int,
            help="port to serve on, which must be free; 0: any free port (default: 8888, or a free one if it is taken)",
        )
        p.set_defaults(func=_lab)

    p = sub.add_parser("bench", help="run the benchmarks and print medians and ratios")
    p.add_argument("--only", action="append", help="run only benchmarks whose name contains this (repeatable)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    p.set_defaults(func=_bench)

    p = sub.add_parser("cache", help="show or clear your cache of drawn charts")
    p.add_argument("--clear", action="store_true", help="remove every cached chart (they are redrawn when needed)")
    p.set_defaults(func=_cache)

    p = sub.add_parser("build-notebooks", help="rebuild the module notebooks from their narrative and the case pack")
    p.add_argument("--data", help="a case pack folder (default: $COURSE_DATA or the course's data/)")
    p.add_argument(
        "--src", default=str(paths.NARRATIVES), help="folder of narrative .md files (default: notebooks/src)"
    )
    p.add_argument("--out", default=str(paths.NOTEBOOKS), help="folder of module notebooks (default: notebooks)")
    p.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    p.add_argument("modules", nargs="*", help="module ids (default: all)")
    p.set_defaults(func=_build_notebooks)

    trainer.register(sub)
    facilitator.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except OSError as e:  # a file or folder the command cannot use: say which, without a traceback
        where = f" ({e.filename})" if e.filename else ""
        print(f"course {args.command}: {e.strerror or e}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
