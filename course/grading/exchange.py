"""nbgrader's exchange, tightened for a shared server where trainees are system users.

nbgrader 0.9.6's default exchange leaves each submission world-readable and its folder world-writable
(files 0644, folder 0777), hidden only by a random name in an inbound folder nobody but the trainer can
list; `nbgrader submit --student=<someone else>` files a submission under another trainee's name, and
`collect` only logs a warning when the owner and the name differ. A submission stays its trainee's to
change after submitting: nbgrader's collect then takes the time from the folder's name (the trainee can
rename it) and copies with `shutil.copytree`, which follows symbolic links, reads pipes and has no size
bound. These two classes close what can be closed:

- ExchangeSubmit: a trainee submits only as themselves; the submission is readable by its owner and the
  course's graders group only (folders 0770, files 0640). The inbound folder is setgid to that group
  (deploy/jupyterhub/setup.py init-course), so every file of a submission takes the group as it is created.
- ExchangeCollect: collects a submission only if its folder is owned by the trainee it names and the
  collector can read it; copies only regular files and folders owned by that trainee, never following a
  symbolic link, within size bounds (traits); dates it by the exchange (the latest change time, ctime, of
  the folder and everything in it, which no user can set back) and writes that time into the collected
  copy's timestamp.txt in place of the trainee's. Whatever it refuses is logged, naming trainee, module
  and file, and listed in `refused`.

Used through nbgrader configuration: c.ExchangeFactory.submit / c.ExchangeFactory.collect.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import shutil
import stat
import tempfile
from stat import S_IRGRP, S_IRUSR, S_IRWXG, S_IRWXU, S_IWUSR
from typing import NamedTuple

from dateutil.tz import gettz
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect as _DefaultCollect
from nbgrader.exchange.default.collect import groupby
from nbgrader.exchange.default.submit import ExchangeSubmit as _DefaultSubmit
from nbgrader.utils import get_username, ignore_patterns, parse_utc
from traitlets import Float, Integer

try:
    import pwd
except ImportError:  # pragma: no cover - not on this platform
    pwd = None  # type: ignore[assignment]

SUBMISSION_DIR_MODE = S_IRWXU | S_IRWXG  # 0770: owner and graders (graders may delete after collecting)
SUBMISSION_FILE_MODE = S_IRUSR | S_IWUSR | S_IRGRP  # 0640


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


# ----------------------------------------------------------------------------------------------- collect

MAX_DEPTH = 16  # folders inside a submission, nested; deeper ones are refused
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # a pipe must never block the collector
_CHUNK = 1 << 20


class Refusal(NamedTuple):
    """Something collect did not copy: whose, which module, which file or folder (in the exchange), and why."""

    trainee: str
    module: str
    path: str
    reason: str

    def __str__(self) -> str:
        return (
            f"Not collected: trainee {_shown(self.trainee)}, module {_shown(self.module)}: "
            f"{_shown(self.path)}: {_shown(self.reason)}"
        )


def _shown(text: str) -> str:
    """Names come from trainees: no control characters (a forged line in the trainer's log) reach the log."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _Refused(Exception):
    """The whole submission is refused (the message says why)."""


def _user(uid: int) -> str:
    if pwd is None:  # pragma: no cover
        return str(uid)
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _utc(seconds: float) -> dt.datetime:
    """A POSIX time as nbgrader keeps times: naive UTC."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


class _Budget:
    def __init__(self, entries: int, size: int):
        self.entries, self.size = entries, size


class ExchangeCollect(_DefaultCollect):
    """Collect what each trainee submitted, as the exchange saw it; refuse and report anything else."""

    max_file_bytes = Integer(
        20_000_000, help="The largest file collected from a submission; a larger file is left out and reported."
    ).tag(config=True)
    max_submission_bytes = Integer(
        100_000_000,
        help="The largest submission collected (all its files); a larger one is not collected and is reported.",
    ).tag(config=True)
    max_entries = Integer(
        1000, help="The most files and folders in one submission; a submission with more is not collected."
    ).tag(config=True)
    time_tolerance = Float(
        120.0,
        help="Seconds by which the time a submission names (folder name, timestamp.txt) may differ from the "
        "exchange's time before the difference is reported. The exchange's time is used either way.",
    ).tag(config=True)

    def refuse(self, trainee: str, path: str, reason: str) -> None:
        r = Refusal(trainee, self.coursedir.assignment_id, path, reason)
        self.refused.append(r)
        self.log.error(str(r))

    # --- which submissions --------------------------------------------------------------------------------

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not os.access(self.inbound_path, os.R_OK | os.X_OK):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        self.refused: list[Refusal] = []
        self.time_notes: list[str] = []
        pattern = f"{self.coursedir.student_id or '*'}+{self.coursedir.assignment_id}+*"
        with os.scandir(self.inbound_path) as found:
            names = sorted(e.name for e in found if fnmatch.fnmatchcase(e.name, pattern))
        records = [rec for rec in map(self._record, names) if rec is not None]
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

    def _record(self, name: str) -> dict | None:
        """The submission folder `name` in inbound, dated by the exchange; None (reported) if it is refused."""
        path = os.path.join(self.inbound_path, name)
        parts = name.rsplit("+", 3)
        trainee = parts[0]
        try:
            st = os.lstat(path)
        except OSError as e:
            self.refuse(trainee, path, f"cannot be read ({e.strerror})")
            return None
        if not stat.S_ISDIR(st.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a folder"
            self.refuse(trainee, path, f"{kind}: a submission is a folder nbgrader submit made")
            return None
        owner = _user(st.st_uid)
        if owner != trainee:
            self.refuse(trainee, path, f"it claims to be from {trainee} but was submitted by {owner}")
            return None
        try:
            claimed = parse_utc(parts[2])
        except (ValueError, OverflowError, IndexError):
            self.refuse(trainee, path, "its name carries no submission time, so nbgrader submit did not make it")
            return None
        try:
            newest = self._survey(path, st.st_uid)
        except PermissionError:
            # Point 4 of the threat list: whatever the collector cannot read is not the course's to take.
            self.refuse(trainee, path, "the collector cannot read it (its owner took the permissions away)")
            return None
        except _Refused as e:
            self.refuse(trainee, path, str(e))
            return None
        return {"username": trainee, "filename": name, "timestamp": _utc(newest), "claimed": claimed, "uid": st.st_uid}

    def _survey(self, path: str, uid: int) -> float:
        """The latest change time in the submission (lstat, links not followed), checking the bounds."""
        os.close(os.open(path, _READ | os.O_DIRECTORY))  # PermissionError: not readable by the collector
        newest = os.lstat(path).st_ctime
        used = _Budget(0, 0)
        for folder, dirs, files in os.walk(path):  # links not followed; unreadable subfolders reported at copy
            for name in dirs + files:
                st = os.lstat(os.path.join(folder, name))
                newest = max(newest, st.st_ctime)
                used.entries += 1
                if stat.S_ISREG(st.st_mode) and st.st_uid == uid and st.st_size <= self.max_file_bytes:
                    used.size += st.st_size
                self._check_budget(used)
        return newest

    def _check_budget(self, used: _Budget) -> None:
        if used.entries > self.max_entries:
            raise _Refused(f"more than {self.max_entries} files and folders (ExchangeCollect.max_entries)")
        if used.size > self.max_submission_bytes:
            raise _Refused(f"more than {self.max_submission_bytes} bytes in all (ExchangeCollect.max_submission_bytes)")

    # --- copying ------------------------------------------------------------------------------------------

    def copy_files(self):
        what = f"'{self.coursedir.assignment_id}' for course '{self.coursedir.course_id}'"
        if self.src_records:
            self.log.info(f"Processing {len(self.src_records)} submissions of {what}")
        else:
            self.log.warning(f"No submissions of {what} to collect")
        for rec in self.src_records:
            student_id = rec["username"]
            dest_path = self.coursedir.format_path(
                self.coursedir.submitted_directory, student_id, self.coursedir.assignment_id
            )
            os.makedirs(os.path.dirname(dest_path), exist_ok=True)
            if os.path.isdir(dest_path):
                existing = self.coursedir.get_existing_timestamp(dest_path)
                new = rec["timestamp"]
                if not (
                    (self.update and (existing is None or new > existing)) or (self.before_duedate and existing != new)
                ):
                    self.log.info(
                        f"No newer submission to collect: {student_id} {self.coursedir.assignment_id}"
                        if self.update
                        else f"Submission already exists, use --update to update: {student_id} "
                        f"{self.coursedir.assignment_id}"
                    )
                    continue
            self.log.info(f"Collecting submission: {student_id} {self.coursedir.assignment_id}")
            self._collect_one(rec, dest_path)
        if self.refused:
            self.log.error(
                f"{len(self.refused)} file(s) or submission(s) of '{self.coursedir.assignment_id}' were not "
                "collected; each is named above."
            )

    def _collect_one(self, rec: dict, dest_path: str) -> bool:
        """Copy one submission into a new folder beside `dest_path`, then put it in place (replacing an older
        copy only once the new one is complete)."""
        trainee, src = rec["username"], os.path.join(self.inbound_path, rec["filename"])
        tmp = tempfile.mkdtemp(prefix=".collecting-", dir=os.path.dirname(dest_path))
        claims: dict[str, str] = {}
        try:
            try:
                fd = os.open(src, _READ | os.O_DIRECTORY)
            except OSError as e:
                raise _Refused(f"cannot be read ({e.strerror})") from None
            try:
                if os.fstat(fd).st_uid != rec["uid"]:
                    raise _Refused("its folder was replaced while it was being collected")
                newest = self._copy_folder(fd, tmp, src, trainee, rec["uid"], _Budget(0, 0), 0, claims)
            finally:
                os.close(fd)
        except (_Refused, PermissionError) as e:
            shutil.rmtree(tmp, ignore_errors=True)
            self.refuse(trainee, src, f"cannot be read ({e.strerror})" if isinstance(e, OSError) else str(e))
            return False
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        when = max(rec["timestamp"], _utc(newest))
        self._note_claims(trainee, src, when, {"its folder's name": rec["claimed"], **claims})
        stamp = when.replace(tzinfo=dt.UTC).astimezone(gettz(self.timezone))
        with open(os.path.join(tmp, "timestamp.txt"), "w", encoding="utf-8") as f:
            f.write(stamp.strftime(self.timestamp_format))
        if os.path.isdir(dest_path):
            self.log.info(f"Updating submission: {trainee} {self.coursedir.assignment_id}")
            shutil.rmtree(dest_path)
        os.rename(tmp, dest_path)
        return True

    def _ignored(self, name: str, is_file: bool) -> bool:
        if any(fnmatch.fnmatch(name, glob) for glob in self.coursedir.ignore):
            return True
        return is_file and not any(fnmatch.fnmatch(name, glob) for glob in self.coursedir.include)

    def _copy_folder(
        self, fd: int, dest: str, where: str, trainee: str, uid: int, used: _Budget, depth: int, claims: dict
    ) -> float:
        """Copy the folder open as `fd` into `dest`; returns the latest change time seen."""
        newest = os.fstat(fd).st_ctime
        for name in sorted(os.listdir(fd)):
            path = os.path.join(where, name)
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            newest = max(newest, st.st_ctime)
            used.entries += 1
            self._check_budget(used)
            if self._ignored(name, not stat.S_ISDIR(st.st_mode)):
                continue
            if stat.S_ISLNK(st.st_mode):
                self.refuse(trainee, path, f"a symbolic link (to {_link_target(fd, name)}); links are not followed")
            elif st.st_uid != uid:
                self.refuse(trainee, path, f"owned by {_user(st.st_uid)}, not by {trainee}")
            elif stat.S_ISDIR(st.st_mode):
                newest = max(newest, self._copy_subfolder(fd, name, dest, path, trainee, uid, used, depth, claims))
            elif not stat.S_ISREG(st.st_mode):
                self.refuse(trainee, path, "not a regular file (a pipe, socket or device)")
            elif depth == 0 and name == "timestamp.txt":
                claims["its timestamp.txt"] = _read_small(fd, name)  # replaced by the exchange's time
            elif st.st_size > self.max_file_bytes:
                self.refuse(trainee, path, f"{st.st_size} bytes, over ExchangeCollect.max_file_bytes")
            else:
                newest = max(newest, self._copy_file(fd, name, os.path.join(dest, name), path, trainee, uid, used))
        return newest

    def _copy_subfolder(self, fd, name, dest, path, trainee, uid, used, depth, claims) -> float:
        if depth + 1 >= MAX_DEPTH:
            self.refuse(trainee, path, f"folders nested deeper than {MAX_DEPTH}")
            return 0.0
        try:
            sub = os.open(name, _READ | os.O_DIRECTORY, dir_fd=fd)
        except OSError as e:
            self.refuse(trainee, path, f"cannot be read ({e.strerror})")
            return 0.0
        try:
            if os.fstat(sub).st_uid != uid:
                self.refuse(trainee, path, "replaced while it was being collected")
                return 0.0
            os.mkdir(os.path.join(dest, name))
            return self._copy_folder(sub, os.path.join(dest, name), path, trainee, uid, used, depth + 1, claims)
        finally:
            os.close(sub)

    def _copy_file(self, fd: int, name: str, dest: str, path: str, trainee: str, uid: int, used: _Budget) -> float:
        """Copy one regular file owned by the trainee, reading at most max_file_bytes; returns its ctime."""
        try:
            src = os.open(name, _READ, dir_fd=fd)
        except OSError as e:
            self.refuse(trainee, path, f"cannot be read ({e.strerror})")
            return 0.0
        try:
            st = os.fstat(src)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != uid:
                self.refuse(trainee, path, "replaced while it was being collected")
                return 0.0
            out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
            n = 0
            with os.fdopen(out, "wb") as f:
                while chunk := os.read(src, _CHUNK):
                    n += len(chunk)
                    if n > self.max_file_bytes:
                        break
                    f.write(chunk)
            if n > self.max_file_bytes:
                os.unlink(dest)
                self.refuse(trainee, path, "grew past ExchangeCollect.max_file_bytes while it was being collected")
                return 0.0
            used.size += n
            self._check_budget(used)
            return os.fstat(src).st_ctime
        finally:
            os.close(src)

    def _note_claims(self, trainee: str, path: str, when: dt.datetime, claims: dict) -> None:
        """Report a submission whose own times differ from the exchange's (the exchange's is the one kept)."""
        for what, claimed in claims.items():
            try:
                at = parse_utc(claimed) if isinstance(claimed, str) else claimed
            except (ValueError, OverflowError):
                at = None
            if at is None or abs((at - when).total_seconds()) > self.time_tolerance:
                note = (
                    f"Submission time: trainee {_shown(trainee)}, module {self.coursedir.assignment_id}: "
                    f"{_shown(path)}: {what} says {_shown(str(claimed)[:40])}, the exchange shows {when:%Y-%m-%d %H:%M:%S} UTC; "
                    "the exchange's time is the one recorded"
                )
                self.time_notes.append(note)
                self.log.warning(note)


def _link_target(fd: int, name: str) -> str:
    try:
        return os.readlink(name, dir_fd=fd)[:200]
    except OSError:
        return "?"


def _read_small(fd: int, name: str, limit: int = 200) -> str:
    try:
        f = os.open(name, _READ, dir_fd=fd)
    except OSError:
        return ""
    try:
        return os.read(f, limit).decode("utf-8", "replace").strip()
    finally:
        os.close(f)
