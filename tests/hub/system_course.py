"""The course installed with deploy/jupyterhub/setup.py and real system users, without starting a hub: for
tests of the exchange and of setup itself, where each person's commands run as that system user (their own
uid, groups and umask 077, as their server would run them).

The same harness rules as tests/hub/conftest.py: unique names (ct + random hex), the cached venv, and
cleanup always (every process of the test users, the users and their homes, the groups, the folders).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.hub.conftest import CACHE, PROXY, SETUP, _cache_lock, _cleanup, load_setup_module, run
from tests.paths import ROOT


@dataclass
class SystemCourse:
    base: Path
    prefix: Path
    exchange: Path
    tag: str
    users: dict[str, str]  # role key ("trainer", "a", "b", ...) -> system user name
    venv: Path
    passwords: Path
    measurements: dict = field(default_factory=dict)

    @property
    def course_id(self) -> str:
        return "safeguarding-case-review"

    @property
    def inbound(self) -> Path:
        return self.exchange / self.course_id / "inbound"

    def home(self, who: str) -> Path:
        return Path(pwd.getpwnam(self.users[who]).pw_dir)

    def as_user(
        self,
        who: str,
        args: list,
        cwd: str | Path | None = None,
        check: bool = True,
        timeout: float = 180,
        max_file_bytes: int | None = None,
    ) -> subprocess.CompletedProcess:
        """Run a command as that system user: their uid, their groups, umask 077, their home, the servers' PATH;
        `max_file_bytes` caps any file the command writes (RLIMIT_FSIZE), so a runaway copy cannot fill the disk."""
        pw = pwd.getpwnam(self.users[who])
        env = {
            "HOME": pw.pw_dir,
            "USER": pw.pw_name,
            "LOGNAME": pw.pw_name,
            "PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
        }

        def limit():
            if max_file_bytes is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

        out = subprocess.run(
            [str(a) for a in args],
            cwd=str(cwd or pw.pw_dir),
            env=env,
            user=pw.pw_uid,
            group=pw.pw_gid,
            extra_groups=os.getgrouplist(pw.pw_name, pw.pw_gid),
            umask=0o077,
            preexec_fn=limit,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and out.returncode != 0:
            raise AssertionError(
                f"as {pw.pw_name}: {' '.join(map(str, args))} exited {out.returncode}:\n{out.stdout[-3000:]}\n"
                f"{out.stderr[-3000:]}"
            )
        return out

    def sh(self, who: str, script: str, *args, **kw) -> subprocess.CompletedProcess:
        """A POSIX shell script as that user; `args` are $1, $2, ..."""
        return self.as_user(who, ["/bin/sh", "-c", script, "sh", *args], **kw)

    def setup(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        cmd = ["/usr/bin/python3", SETUP, "--prefix", self.prefix, *args]
        out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)
        if check and out.returncode != 0:
            raise AssertionError(f"setup.py {' '.join(map(str, args))} failed:\n{out.stdout}\n{out.stderr}")
        return out

    def install_args(self) -> list:
        return [
            "install",
            "--venv",
            self.venv,
            "--exchange",
            self.exchange,
            "--group-prefix",
            self.tag,
            "--authenticator",
            "dummy",
            "--proxy",
            PROXY,
            "--data",
            ROOT / "data",
            "--notebooks",
            ROOT / "notebooks",
        ]

    def install(self, *extra) -> None:
        """setup.py install into this prefix, as on a hardened server (root's umask 077)."""
        with _cache_lock():
            for old in CACHE.glob("venv-*"):
                if old != self.venv:
                    shutil.rmtree(old, ignore_errors=True)
            run(["/usr/bin/python3", SETUP, "--prefix", self.prefix, *self.install_args(), *extra], preexec_fn=_umask)


def _umask():
    os.umask(0o077)


@contextlib.contextmanager
def system_course(trainees=("a", "b")):
    """Install, add a trainer and the trainees (first passwords appended to a file that already exists,
    world-readable), init the trainer's course; always clean up."""
    setup = load_setup_module()
    tag = "ct" + secrets.token_hex(3)
    users = {"trainer": f"{tag}tr", **{t: f"{tag}{t}" for t in trainees}}
    groups = [f"{tag}-graders", f"{tag}-trainees"]
    base = Path(tempfile.mkdtemp(prefix=f"course-sys-{tag}-"))
    os.chmod(base, 0o755)  # users must reach the exchange inside it
    try:
        course = SystemCourse(
            base,
            base / "hub",
            base / "exchange",
            tag,
            users,
            CACHE / f"venv-{setup.deps_key(ROOT)}",
            base / "passwords.csv",
        )
        t0 = time.monotonic()
        course.install()
        course.measurements["install_s"] = round(time.monotonic() - t0, 1)
        csv_path = base / "users.csv"
        csv_path.write_text(
            "username,role,full_name\n"
            + f"{users['trainer']},trainer,Test Trainer\n"
            + "".join(f"{users[t]},trainee,Trainee {t.upper()}\n" for t in trainees)
        )
        course.passwords.write_text("someone-earlier,their-first-password\n")
        os.chmod(course.passwords, 0o644)
        course.setup("add-users", csv_path, "--passwords", course.passwords)
        course.setup("init-course", "--trainer", users["trainer"])
        yield course
    finally:
        failing = sys.exc_info()[0] is not None
        problems = _cleanup(None, base, list(users.values()), groups)
        if problems and not failing:
            raise AssertionError(f"cleanup: {problems}")
