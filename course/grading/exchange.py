"""nbgrader's exchange, tightened for a shared server where trainees are system users.

nbgrader 0.9.6's default exchange leaves each submission world-readable and its folder world-writable
(files 0644, folder 0777), hidden only by a random name in an inbound folder nobody but the trainer can
list; `nbgrader submit --student=<someone else>` files a submission under another trainee's name, and
`collect` only logs a warning when the owner and the name differ. These two classes close what can be closed:

- ExchangeSubmit: a trainee submits only as themselves; the submission is readable by its owner and the
  course's graders group only (folders 0770, files 0640). The inbound folder is setgid to that group
  (deploy/jupyterhub/setup.py init-course), so every file of a submission takes the group as it is created.
- ExchangeCollect: a submission whose folder is not owned by the trainee it names is skipped (logged as an
  error), so one trainee cannot replace another's work.

Used through nbgrader configuration: c.ExchangeFactory.submit / c.ExchangeFactory.collect.
"""

from __future__ import annotations

import glob
import os
import shutil
from stat import S_IRGRP, S_IRUSR, S_IRWXG, S_IRWXU, S_IWUSR

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect as _DefaultCollect
from nbgrader.exchange.default.collect import groupby
from nbgrader.exchange.default.submit import ExchangeSubmit as _DefaultSubmit
from nbgrader.utils import get_username, ignore_patterns

try:
    import pwd
except ImportError:  # pragma: no cover - not on this platform
    pwd = None  # type: ignore[assignment]

SUBMISSION_DIR_MODE = S_IRWXU | S_IRWXG  # 0770: owner and graders (graders may delete after collecting)
SUBMISSION_FILE_MODE = S_IRUSR | S_IWUSR | S_IRGRP  # 0640


def owner_name(path: str) -> str | None:
    if pwd is None:
        return None
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except (KeyError, OSError):
        return None


class ExchangeSubmit(_DefaultSubmit):
    """Submit as yourself only; the submission is readable by you and the graders group, nobody else."""

    def init_dest(self):
        me = get_username()
        if self.coursedir.student_id not in ("*", "", me):
            self.fail(f"You can only submit your own work (as {me!r}), not as {self.coursedir.student_id!r}.")
        super().init_dest()

    def do_copy(self, src, dest, log=None):
        """Copy entry by entry into a folder made first, so the folder keeps the inbound's setgid bit (and the
        graders group) while nbgrader writes its timestamp and secret into it; copytree's final chmod of the
        folder would clear the bit for a trainee who is not in the group."""
        if not os.path.realpath(dest).startswith(os.path.realpath(self.inbound_path) + os.sep):
            return super().do_copy(src, dest, log)  # the local cache copy in the trainee's home
        dir_size = self.get_size(src)
        if dir_size > 1000 * self.coursedir.max_dir_size:
            self.log.error("Directory size is too big")
            raise RuntimeError(
                f"Directory size is too big. Size is {dir_size}, maximum size is {1000 * self.coursedir.max_dir_size}"
            )
        ignore = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )
        os.mkdir(dest, 0o700)  # inherits the group and setgid from inbound
        names = os.listdir(src)
        skipped = ignore(src, names)
        for name in names:
            if name in skipped:
                continue
            s, d = os.path.join(src, name), os.path.join(dest, name)
            if os.path.isdir(s) and not os.path.islink(s):
                shutil.copytree(s, d, ignore=ignore)
            else:
                shutil.copy2(s, d)
        return None

    def set_perms(self, dest, fileperms, dirperms):
        if os.path.realpath(dest).startswith(os.path.realpath(self.inbound_path) + os.sep):
            fileperms, dirperms = SUBMISSION_FILE_MODE, SUBMISSION_DIR_MODE
        super().set_perms(dest, fileperms, dirperms)

    def copy_files(self):
        super().copy_files()
        # nbgrader opens the submission folder to everyone (0777) after set_perms; close it again.
        os.chmod(os.path.join(self.inbound_path, self.assignment_filename), SUBMISSION_DIR_MODE)


class ExchangeCollect(_DefaultCollect):
    """Collect only submissions owned by the trainee they name; others are reported and left in inbound."""

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not os.access(self.inbound_path, os.R_OK | os.X_OK):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        records = []
        self.refused = []
        for path in glob.glob(pattern):
            rec = self._path_to_record(path)
            owner = owner_name(path)
            if pwd is not None and owner != rec["username"]:
                self.log.error(
                    "Not collecting %s: it claims to be from %s but was submitted by %s.",
                    path,
                    rec["username"],
                    owner or "an unknown user",
                )
                self.refused.append(path)
                continue
            records.append(rec)
        usergroups = groupby(records, lambda item: item["username"])
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        if self.duedate is None or not self.before_duedate:
            self.src_records = [self._sort_by_timestamp(v)[0] for v in usergroups.values()]
        else:
            self.src_records = []
            for v in usergroups.values():
                ordered = self._sort_by_timestamp(v)
                before = [r for r in ordered if r["timestamp"] <= self.duedate]
                self.src_records.append(before[0] if before else ordered[0])
