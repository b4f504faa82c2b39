"""The trainer's and facilitator's commands on bad arguments and damaged input (issue 17): a plain message and a
non-zero exit status, never a traceback; a trainee folder that cannot be read is named."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests import hostile_support as hs
from tests.paths import FIXTURE_PACK, ROOT
from tests.test_hostile_workshop import _room

# --------------------------------------------------------------------------- the command line says, never crashes


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "course.apps.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_cli_gives_a_message_not_a_traceback(tmp_path, fictional_case):
    folder = tmp_path / "submitted"
    _room(folder, fictional_case)
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    data = ["--data", str(FIXTURE_PACK)]
    runs = {
        "export missing": _cli("export", "--course-dir", str(tmp_path / "missing")),
        "export --out file": _cli("export", "--course-dir", str(tmp_path), "--out", str(tmp_path / "a-file")),
        "feedback missing": _cli("feedback", "--course-dir", str(tmp_path / "missing")),
        "grade missing": _cli("grade", "--course-dir", str(tmp_path / "missing")),
        "workshop --out folder": _cli(
            "workshop", "--submissions", str(folder), "--out", str(tmp_path / "a-folder"), "--quiet", *data
        ),
        "certificate --out folder": _cli(
            "certificate", "--answers", str(folder / "ash"), "--out", str(tmp_path / "a-folder"), *data
        ),
        "certificate --out-dir file": _cli(
            "certificate", "--submissions", str(folder), "--out-dir", str(tmp_path / "a-file"), *data
        ),
        "certificate --log folder": _cli(
            "certificate", "--answers", str(folder / "ash"), "--log", str(tmp_path / "a-folder"), *data
        ),
    }
    hs.write_damaged(folder / "dee" / "f01-early", None)  # damaged input: a folder named answers.json
    runs["certificate, damaged input"] = damaged = _cli(
        "certificate", "--submissions", str(folder), "--out-dir", str(tmp_path / "certs"), *data
    )
    assert "dee" in damaged.stderr and len(list((tmp_path / "certs").glob("*-certificate.html"))) == 3
    for what, run in runs.items():
        assert run.returncode != 0, what
        assert hs.tracebacks(run.stdout + run.stderr) == [], (what, run.stderr[-1500:])
        assert run.stderr.strip(), what


def test_course_grade_names_a_trainee_folder_it_cannot_read():
    folder = Path(tempfile.mkdtemp(prefix="grade-ro-"))
    try:
        for trainee in ("ash", "bea"):
            (folder / "submitted" / trainee / "f01-early").mkdir(parents=True)
        (folder / "source" / "f01-early").mkdir(parents=True)
        for p in [folder, *folder.rglob("*")]:
            p.chmod(0o755)
        (folder / "submitted" / "bea").chmod(0o700 if os.geteuid() == 0 else 0o000)
        code = (
            "import sys; from course.grading.autograde import find_submissions\n"
            "f = find_submissions(sys.argv[1]); print([s.key for s in f.submissions]); print(f.refused)"
        )
        kwargs = {"user": "nobody", "group": "nogroup", "cwd": "/"} if os.geteuid() == 0 else {}
        out = subprocess.run(
            [sys.executable, "-c", code, str(folder)],
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            capture_output=True,
            text=True,
            timeout=60,
            **kwargs,
        )
        assert out.returncode == 0, out.stderr
        keys, refused = out.stdout.splitlines()
        assert keys == "['ash/f01-early']" and "bea" in refused and "could not be read" in refused
    finally:
        for p in [folder, *folder.rglob("*")]:
            p.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)
