"""What setup.py and setup_users.py share: the error an administrator acts on, logging, running a command,
and the settings file (course-hub.json). Standard library only."""

from __future__ import annotations

import grp
import json
import os
import subprocess
from pathlib import Path


class SetupError(Exception):
    """Something the administrator must fix; the message says what."""


def log(msg: str) -> None:
    print(f"[course-hub] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        raise SetupError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return out


def settings_path(prefix: str | Path) -> Path:
    return Path(prefix) / "etc" / "course-hub.json"


def existing_settings(prefix: str | Path) -> dict:
    """The settings an earlier install wrote (and the administrator may have edited since), or {}."""
    path = settings_path(prefix)
    if not path.exists():
        return {}
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SetupError(f"{path}: cannot be read ({e}); fix or remove it, then install again") from None
    if not isinstance(found, dict):
        raise SetupError(f"{path}: not a JSON object; fix or remove it, then install again")
    return found


def load_settings(prefix: str | Path) -> dict:
    path = settings_path(prefix)
    if not path.exists():
        raise SetupError(f"{path}: not found. Run `setup.py install --prefix {prefix}` first.")
    return json.loads(path.read_text(encoding="utf-8"))


def write_file(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def ensure_group(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        run(["groupadd", name])
        return grp.getgrnam(name).gr_gid
