"""What a trainee can still do to a submission after `nbgrader submit`, and what the trainer's collect takes.

Real system users, the course installed with deploy/jupyterhub/setup.py, and the real nbgrader commands,
each run as its system user (tests/hub/system_course.py). After submitting, trainees change their own
submission in the ways nbgrader's collect trusted: an earlier time in timestamp.txt and in the folder's name,
answers.json replaced by a link to a file only the trainer can read, a link to /dev/zero, a pipe, an
oversized file, a folder the trainer cannot read, a submission over the size bound, a folder whose name is
no submission. The trainer's collect runs with a cap on the size of any file it writes, so that nbgrader's
own collect (which follows the /dev/zero link) fails the test instead of filling the disk.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import stat
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from tests.hub.conftest import missing_for_hub
from tests.hub.system_course import system_course

_missing = missing_for_hub()
pytestmark = [
    pytest.mark.hub,
    pytest.mark.slow,
    pytest.mark.skipif(_missing is not None, reason=f"multi-user test: {_missing}"),
]

MODULE = "m01"
LIMITS = ["--ExchangeCollect.max_file_bytes=1000000", "--ExchangeCollect.max_submission_bytes=3000000"]
WRITE_CAP = 64 * 2**20  # any file the collecting process writes; /dev/zero would otherwise fill the disk


@pytest.fixture(scope="module")
def course():
    with system_course(trainees=("a", "b", "c", "d")) as c:
        yield c


def utc(text: str) -> dt.datetime:
    from nbgrader.utils import parse_utc

    return parse_utc(text.strip())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def write_as(course, who: str, path: Path, text: str) -> None:
    course.as_user(
        who, ["python3", "-c", "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])", path, text]
    )


def submission_folders(course, who: str) -> list[Path]:
    """This trainee's folders in inbound, oldest first by the time in their names."""
    name = course.users[who]
    found = [p for p in course.inbound.iterdir() if p.name.split("+")[0] == name]
    return sorted(found, key=lambda p: p.name.split("+")[2])


def release(course) -> None:
    trainer = course.users["trainer"]
    folder = course.home("trainer") / "course" / "release" / MODULE
    nb = new_notebook(cells=[new_markdown_cell("A module page.")])
    course.as_user("trainer", ["mkdir", "-p", folder])
    nbformat.write(nb, str(folder / f"{MODULE}.ipynb"))
    os.chown(folder / f"{MODULE}.ipynb", pwd.getpwnam(trainer).pw_uid, pwd.getpwnam(trainer).pw_gid)
    course.as_user("trainer", ["nbgrader", "release_assignment", MODULE], cwd=course.home("trainer") / "course")


def submit(course, who: str, answer: str, extra: dict[str, int] | None = None) -> None:
    home = course.home(who)
    write_as(course, who, home / MODULE / "answers.json", json.dumps({"answer": answer}))
    for name, size in (extra or {}).items():
        course.sh(who, 'head -c "$1" /dev/urandom > "$2"', size, home / MODULE / name)
    course.as_user(who, ["nbgrader", "submit", MODULE])


def collect(course, *args) -> str:
    out = course.as_user(
        "trainer",
        ["nbgrader", "collect", MODULE, *LIMITS, *args],
        cwd=course.home("trainer") / "course",
        check=False,
        timeout=120,
        max_file_bytes=WRITE_CAP,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-4000:]
    return text


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def test_collect_takes_what_the_exchange_saw_when_it_saw_it_and_names_what_it_refuses(course):
    u = course.users
    trainer_home = course.home("trainer")
    secret = f"TRAINER-ONLY-{time.time_ns()}"
    private = trainer_home / "private.txt"
    private.write_text(secret)
    os.chown(private, pwd.getpwnam(u["trainer"]).pw_uid, -1)
    os.chmod(private, 0o600)

    release(course)
    for who in ("a", "b", "c", "d"):
        course.as_user(who, ["nbgrader", "fetch_assignment", MODULE])

    # a submits on time; the due date is set just after; a submits again, late, then makes the late one look
    # early: an earlier time in its timestamp.txt and in its folder's name.
    before_first = utcnow()
    submit(course, "a", "on time")
    after_first = utcnow()
    time.sleep(1.2)
    due = utcnow()
    course.as_user(
        "trainer",
        ["nbgrader", "db", "assignment", "add", MODULE, f"--duedate={due:%Y-%m-%d %H:%M:%S.%f} UTC"],
        cwd=trainer_home / "course",
    )
    time.sleep(1.2)
    before_late = utcnow()
    submit(course, "a", "late")
    late = submission_folders(course, "a")[-1]
    forged = f"{due - dt.timedelta(minutes=5):%Y-%m-%d %H:%M:%S.%f} UTC"
    course.sh(
        "a",
        'printf "%s" "$1" > "$2/timestamp.txt" && mv "$2" "$3"',
        forged,
        late,
        late.with_name(f"{u['a']}+{MODULE}+{forged}+forged"),
    )

    # b submits, then swaps answers.json for a link to the trainer's private file and adds a link to
    # /dev/zero, a pipe, an oversized file, a link to / and a file that is fine.
    submit(course, "b", "b's own")
    b_sub = submission_folders(course, "b")[-1]
    course.sh(
        "b",
        'cd "$1" && rm answers.json && ln -s "$2" answers.json && ln -s /dev/zero zero && mkfifo pipe'
        " && head -c 2000000 /dev/urandom > big.bin && mkdir notes && echo kept > notes/kept.txt"
        # umask 077, and the graders group is not b's: what b adds is readable by the trainer only if b says so
        " && ln -s / notes/root && chmod -R a+rX big.bin notes",
        b_sub,
        private,
    )
    # c submits and takes the trainer's read permission away from the submission.
    submit(course, "c", "c's own")
    course.sh("c", 'chmod 000 "$1"', submission_folders(course, "c")[-1])
    # d submits more than the submission bound in files each under the file bound, and makes a folder in
    # inbound whose name is no submission (nbgrader's collect stops for everyone on it).
    submit(course, "d", "d's own", {f"extra{i}.bin": 900_000 for i in range(4)})
    course.as_user("d", ["mkdir", course.inbound / f"{u['d']}+{MODULE}+not-a-time+x"])

    # --- the trainer collects what was on time --------------------------------------------------------------
    out = collect(course, "--before-duedate")
    submitted = trainer_home / "course" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == sorted([u["a"], u["b"]]), out[-3000:]

    a_got = submitted / u["a"] / MODULE
    assert json.loads((a_got / "answers.json").read_text()) == {"answer": "on time"}
    a_time = utc((a_got / "timestamp.txt").read_text())
    assert before_first <= a_time <= after_first + dt.timedelta(seconds=1) and a_time < due, a_time

    b_got = submitted / u["b"] / MODULE
    assert files_under(b_got) == {f"{MODULE}.ipynb", "submission_secret.txt", "timestamp.txt", "notes/kept.txt"}, out
    assert not any(p.is_symlink() for p in b_got.rglob("*"))
    everything = b"".join(p.read_bytes() for p in submitted.rglob("*") if p.is_file())
    assert secret.encode() not in everything
    assert len(everything) < 500_000

    def refused(who: str, *words: str) -> None:
        lines = [line for line in out.splitlines() if f"Not collected: trainee {u[who]}, module {MODULE}:" in line]
        assert any(all(w in line for w in words) for line in lines), (who, words, lines, out[-3000:])

    for name in ("answers.json", "zero", "pipe", "big.bin", "notes/root"):
        refused("b", f"/{name}: ")
    refused("b", "answers.json", "symbolic link", str(private))
    refused("b", "big.bin", "max_file_bytes")
    refused("b", "pipe", "not a regular file")
    refused("c", "cannot read")
    refused("d", "more than 3000000 bytes")
    refused("d", "not-a-time", "no submission time")
    assert "Traceback" not in out

    # --- and again without the due date: the late submission is collected, with its real (late) time --------
    out = collect(course, "--update")
    assert json.loads((a_got / "answers.json").read_text()) == {"answer": "late"}
    a_time = utc((a_got / "timestamp.txt").read_text())
    assert a_time >= before_late > due, (a_time, due)
    assert f"Submission time: trainee {u['a']}, module {MODULE}" in out and "timestamp.txt says" in out
    assert stat.S_IMODE((submitted / u["b"]).stat().st_mode) & 0o077 == 0  # the trainer's copies stay private
