#!/usr/bin/python3
"""The single-user image's one step after `setup.py install` (deploy/kubernetes/Dockerfile): the trainer's two
nbgrader settings files, rendered by setup.py's own functions as `init-course` writes them on one machine, for
the trainer's pod to copy into its home at start (the postStart hook deploy/kubernetes/values.py writes).
Standard library only."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

SETUP = Path(__file__).resolve().parents[1] / "jupyterhub" / "setup.py"
HOME = "/home/jovyan"  # the chart's home folder in every pod (singleuser.storage.homeMountPath)


def load_setup():
    spec = importlib.util.spec_from_file_location("course_hub_setup", SETUP)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_trainer_files(prefix: Path) -> Path:
    setup = load_setup()
    settings = setup.load_settings(prefix)
    dest = prefix / "etc" / "trainer"
    setup.write_file(dest / "course_nbgrader_config.py", setup.trainer_course_config(settings))
    setup.write_file(dest / "user_nbgrader_config.py", setup.trainer_user_config(Path(HOME) / "course"))
    return dest


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prefix", required=True, help="where setup.py install put the course (its --prefix)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(f"trainer's settings files in {write_trainer_files(Path(args.prefix))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
