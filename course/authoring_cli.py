"""`course build-notebooks`: rebuild the module notebooks from notebooks/src/*.md and the case pack."""

from __future__ import annotations

import argparse


def _build(args: argparse.Namespace) -> int:
    from .authoring import run

    return run(args)


def register(subparsers) -> None:
    from .authoring import add_arguments

    p = subparsers.add_parser("build-notebooks", help="rebuild the module notebooks from their narrative and the case pack")
    add_arguments(p)
    p.set_defaults(func=_build)
