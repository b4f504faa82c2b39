"""The people on the hub: the users CSV, system users with private homes, their first passwords, and
removing them again (setup.py add-users / remove-users). Standard library only."""

from __future__ import annotations

import argparse
import csv
import os
import pwd
import re
import secrets
import stat
import subprocess
from pathlib import Path

from setup_base import SetupError, load_settings, log, run
from setup_system import NOLOGIN

USERNAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,30}[a-z0-9_-]?$")
ROLES = ("trainer", "trainee")


def read_users(path: Path) -> list[dict]:
    """Rows of a users CSV (username, role, full_name), checked; SetupError names the line."""
    rows, problems = [], []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"username", "role"} - set(reader.fieldnames or [])
        if missing:
            raise SetupError(
                f"{path}: the first line must name the columns username,role[,full_name]; missing {sorted(missing)}"
            )
        seen = set()
        for n, row in enumerate(reader, start=2):
            name = (row.get("username") or "").strip().lower()
            role = (row.get("role") or "").strip().lower()
            if not name and not role:
                continue
            if not USERNAME.match(name):
                problems.append(
                    f"{path}:{n}: username {name!r} is not a valid system user name "
                    "(lower-case letters, digits, . _ -; at most 32 characters)"
                )
            if role not in ROLES:
                problems.append(f"{path}:{n}: role {role!r} must be one of {', '.join(ROLES)}")
            if name in seen:
                problems.append(f"{path}:{n}: {name!r} is listed twice")
            seen.add(name)
            rows.append({"username": name, "role": role, "full_name": (row.get("full_name") or "").strip()})
    if problems:
        raise SetupError("\n".join(problems))
    return rows


def write_users(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["username", "role", "full_name"])
        w.writeheader()
        for r in sorted(rows, key=lambda r: (r["role"], r["username"])):
            w.writerow(r)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def open_passwords(path: str) -> int:
    """The first-passwords file, opened to append and made 0600 whatever it was: never through a link, and
    only a file root owns (someone who owns it, or shares it, could read what is appended)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise SetupError(f"{path}: cannot be opened to append the first passwords ({e.strerror})") from None
    st = os.fstat(fd)
    problem = (
        "is not a regular file"
        if not stat.S_ISREG(st.st_mode)
        else f"is owned by uid {st.st_uid}, not root"
        if st.st_uid != os.geteuid()
        else "has other names (hard links)"
        if st.st_nlink > 1
        else None
    )
    if problem:
        os.close(fd)
        raise SetupError(f"{path} {problem}: give a new file for the first passwords")
    os.fchmod(fd, 0o600)
    return fd


def add_users(args: argparse.Namespace) -> list[dict]:
    settings = load_settings(args.prefix)
    new = read_users(Path(args.csv))
    # Checked (and made private) before anyone is created, so no password is made that cannot be handed out.
    passwords_fd = open_passwords(args.passwords) if args.passwords else None
    registry = Path(settings["users_csv"])
    known = {r["username"]: r for r in read_users(registry)} if registry.exists() else {}
    passwords = []
    for r in new:
        group = settings["graders_group"] if r["role"] == "trainer" else settings["trainees_group"]
        # Trainees work through the hub only: no shell by SSH or at a console (JupyterHub's spawner does not
        # use the login shell). Trainers keep bash: their JupyterLab terminal is a login shell.
        shell = "/bin/bash" if r["role"] == "trainer" else NOLOGIN
        if not user_exists(r["username"]):
            run(
                [
                    "useradd",
                    "--create-home",
                    "--shell",
                    shell,
                    "--comment",
                    r["full_name"] or r["username"],
                    "--groups",
                    group,
                    r["username"],
                ]
            )
            if args.passwords:
                pw = secrets.token_urlsafe(12)
                run(["chpasswd"], input=f"{r['username']}:{pw}\n")
                passwords.append((r["username"], pw))
            log(f"created {r['role']} {r['username']}")
        else:
            run(["usermod", "--append", "--groups", group, "--shell", shell, r["username"]])
            log(f"{r['username']} already exists: added to {group}, login shell {shell}")
        home = Path(pwd.getpwnam(r["username"]).pw_dir)
        # Private homes: a trainee's answers.json and fetched notebooks are theirs alone.
        os.chmod(home, 0o700)
        known[r["username"]] = r
    write_users(registry, list(known.values()))
    if passwords_fd is not None:
        with os.fdopen(passwords_fd, "a", encoding="utf-8") as f:
            for name, pw in passwords:
                f.write(f"{name},{pw}\n")
        log(f"first passwords for {len(passwords)} new users appended to {args.passwords} (mode 0600)")
    return new


def kill_processes_of(uid: int) -> None:
    """SIGKILL every process owned by uid, one pid at a time (userdel refuses while they run)."""
    import signal

    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    os.kill(int(entry), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue


def removal_plan(settings: dict, names: set[str], keep_homes: bool) -> tuple[list[str], list[str]]:
    """What remove-users would delete, one line each, and the trainers whose course it would delete."""
    registry = Path(settings["users_csv"])
    roles = {r["username"]: r["role"] for r in read_users(registry)} if registry.exists() else {}
    lines, trainers = [], []
    for name in sorted(names):
        if not user_exists(name):
            lines.append(f"{name}: no such user (only taken off the hub's list)")
            continue
        home = Path(pwd.getpwnam(name).pw_dir)
        role = roles.get(name, "not on the hub's list")
        what = f"the user {name} ({role})" + ("" if keep_homes else f" and their home {home}")
        course = home / "course"
        if not keep_homes and course.is_dir():
            trainers.append(name)
            what += f", with the course {course} (gradebook, submissions, marks, feedback)"
        lines.append(what)
    return lines, trainers


def remove_users(args: argparse.Namespace) -> None:
    settings = load_settings(args.prefix)
    gone = {r["username"] for r in read_users(Path(args.csv))}
    lines, trainers = removal_plan(settings, gone, args.keep_homes)
    log("remove-users will delete:" + "".join(f"\n  - {line}" for line in lines))
    if trainers and not args.delete_trainer_courses:
        raise SetupError(
            f"not removing anyone: {', '.join(trainers)} hold(s) a course folder (the gradebook and every mark). "
            "Make a backup first (setup.py backup), then give --delete-trainer-courses, or --keep-homes"
        )
    if args.dry_run:
        log("--dry-run: nothing deleted")
        return
    for name in sorted(gone):
        if user_exists(name):
            kill_processes_of(pwd.getpwnam(name).pw_uid)
            cmd = ["userdel"] + ([] if args.keep_homes else ["--remove"]) + [name]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode not in (0, 12):  # 12: home not removed (already gone)
                raise SetupError(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
            log(f"removed {name}")
    registry = Path(settings["users_csv"])
    if registry.exists():
        write_users(registry, [r for r in read_users(registry) if r["username"] not in gone])
