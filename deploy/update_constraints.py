#!/usr/bin/python3
"""Write deploy/constraints.txt: the exact version of every Python package the course, its tests and the hub
install, so every venv (make, CI, setup.py install, the Kubernetes image) gets the same ones.

    make constraints                                   # resolve afresh from PyPI (newest allowed by pyproject)
    python3 deploy/update_constraints.py --from .venv --from /opt/course-hub/venv   # freeze working venvs

By default it builds a throw-away venv from /usr/bin/python3 (the Python the hub and the Makefile use),
installs the course with every extra into it, and freezes it. With --from it freezes the venvs given
instead (their union; a package at two versions is an error). Either way the course itself is left out.
Then run `make test` and the hub tests before committing the new file. Standard library only.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / "deploy" / "constraints.txt"
EXTRAS = "test,hub"
HEADER = """\
# Exact versions of every Python package the course, its tests and the hub install (pip -c).
# Written by deploy/update_constraints.py ({how}); used by the Makefile's venv, CI (through
# make test), deploy/jupyterhub/setup.py install and the Kubernetes image. To update: make constraints,
# then make test and the hub tests. See docs/deploy.md, "Pinned versions".
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def freeze(python: Path) -> dict[str, str]:
    """name -> version of every distribution in the venv of `python`, pip, setuptools and wheel included."""
    out = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--all", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pins: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, version = line.partition("==")
        if not sep:  # "course @ file://...", a non-editable install of this checkout
            continue
        pins[name] = version
    return {n: v for n, v in pins.items() if canonical(n) != "course"}


def union(frozen: list[dict[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    clashes = []
    for pins in frozen:
        for name, version in pins.items():
            key = next((k for k in merged if canonical(k) == canonical(name)), name)
            if key in merged and merged[key] != version:
                clashes.append(f"{name}: {merged[key]} and {version}")
            merged.setdefault(key, version)
    if clashes:
        raise SystemExit("the venvs disagree; rebuild one of them first:\n  " + "\n  ".join(clashes))
    return merged


def resolve_afresh(python: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="course-constraints-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
        subprocess.run([*pip, "--upgrade", "pip", "setuptools", "wheel"], check=True)
        subprocess.run([*pip, f"{REPO}[{EXTRAS}]"], check=True)
        return freeze(venv / "bin" / "python")


def render(pins: dict[str, str], how: str) -> str:
    lines = [f"{name}=={pins[name]}" for name in sorted(pins, key=canonical)]
    return HEADER.format(how=how) + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="venvs", action="append", default=[], help="freeze this venv (repeatable)")
    p.add_argument("--python", default="/usr/bin/python3", help="the Python to resolve with (default Debian's)")
    p.add_argument("--output", default=str(CONSTRAINTS))
    args = p.parse_args(argv)
    if args.venvs:
        pins = union([freeze(Path(v) / "bin" / "python") for v in args.venvs])
        how = "frozen from working venvs"
    else:
        pins = resolve_afresh(args.python)
        how = f"course[{EXTRAS}] resolved afresh"
    Path(args.output).write_text(render(pins, how), encoding="utf-8")
    print(f"{args.output}: {len(pins)} packages pinned", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
