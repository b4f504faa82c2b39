"""Autograde a cohort: every submitted (trainee, module) not yet graded, in parallel worker processes over
disjoint trainees, resumable (a submission graded from the same files is never graded twice).

Each worker is `python -m course.grading.autograde --worker COURSE_DIR TRAINEE/MODULE ...`: it grades through
nbgrader's API with one reused kernel (SharedKernelExecute.reuse_kernel) and prints one JSON line per
submission.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.contract import trainee_id_problem
from .config import DEFAULT_COURSE_DIR, GradingError, last_lines, make_api
from .first_answers import compare_with_hub
from .preprocessors.cells import FLAG

STATE_DIR = ".grade-state"  # inside the course folder: which submissions are already graded (git-ignored)


@dataclass(frozen=True)
class Submission:
    trainee: str
    module: str
    folder: Path

    @property
    def key(self) -> str:
        return f"{self.trainee}/{self.module}"

    def fingerprint(self) -> str:
        """Changes whenever the trainee resubmits: the timestamp and every submitted file's bytes (a link, a
        device or a file that cannot be read counts by its name and what is wrong with it, never blocks)."""
        h = hashlib.sha256()
        for here, dirs, files in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
            for name in sorted(files):
                path = Path(here) / name
                h.update(str(path.relative_to(self.folder)).encode("utf-8", "surrogateescape"))
                try:
                    if path.is_symlink() or not path.is_file():
                        h.update(b"not a regular file")
                    else:
                        h.update(path.read_bytes())
                except OSError as e:
                    h.update(f"unreadable: {e.errno}".encode())
        return h.hexdigest()


@dataclass
class Found:
    """The submissions in submitted/, and what cannot be graded, each with a plain reason for the trainer."""

    submissions: list[Submission]
    refused: dict[str, str]  # trainee id (or folder) -> why it is not graded


def find_submissions(course_dir: Path, modules: list[str] | None = None, trainees: list[str] | None = None) -> Found:
    """Every submitted/<trainee>/<module>/ folder for a released module. A trainee id nbgrader would read as a
    pattern or strip (`lee[2]`, `pat `: it would grade `lee2` or `pat` instead) and a folder that cannot be read
    are refused, with the reason, and never graded."""
    course_dir = Path(course_dir)
    sub_root = course_dir / "submitted"
    known: set[str] = set()
    refused: dict[str, str] = {}
    if (course_dir / "source").is_dir():
        known = {p.name for p in (course_dir / "source").iterdir() if p.is_dir()}
    out: list[Submission] = []
    if not sub_root.is_dir():
        return Found(out, refused)
    try:
        tdirs = sorted(p for p in sub_root.iterdir() if p.is_dir())
    except OSError as e:
        raise GradingError(f"{sub_root}: the submissions folder could not be read ({e.strerror or e}).") from None
    for tdir in tdirs:
        if trainees and tdir.name not in trainees:
            continue
        problem = trainee_id_problem(tdir.name)
        if problem:
            refused[tdir.name] = f"not graded: {problem}"
            continue
        try:
            mdirs = sorted(p for p in tdir.iterdir() if p.is_dir())
        except OSError as e:
            refused[tdir.name] = f"not graded: the folder could not be read ({e.strerror or e})"
            continue
        for mdir in mdirs:
            if mdir.name in known and (not modules or mdir.name in modules):
                out.append(Submission(tdir.name, mdir.name, mdir))
    return Found(out, refused)


def submissions(
    course_dir: Path, modules: list[str] | None = None, trainees: list[str] | None = None
) -> list[Submission]:
    """Every gradable submitted/<trainee>/<module>/ folder for a released module (see find_submissions)."""
    return find_submissions(course_dir, modules, trainees).submissions


def _state_file(course_dir: Path, sub: Submission) -> Path:
    return Path(course_dir) / STATE_DIR / sub.trainee / f"{sub.module}.json"


def _state(course_dir: Path, sub: Submission) -> dict:
    try:
        state = json.loads(_state_file(course_dir, sub).read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}
    return state if isinstance(state, dict) else {}


def is_graded(course_dir: Path, sub: Submission) -> bool:
    """Graded already, from this very submission: the state file matches and the autograded notebook exists."""
    nb = Path(course_dir) / "autograded" / sub.trainee / sub.module / f"{sub.module}.ipynb"
    if not nb.exists():
        return False
    return _state(course_dir, sub).get("fingerprint") == sub.fingerprint()


def flags_of(course_dir: Path, sub: Submission) -> list[str]:
    """What the last grading of this submission found that needs the trainer (kept with its state)."""
    flags = _state(course_dir, sub).get("flags", [])
    return [str(f) for f in flags] if isinstance(flags, list) else []


def _mark_graded(course_dir: Path, sub: Submission, seconds: float, flags: list[str] | None = None) -> None:
    state = _state_file(course_dir, sub)
    state.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.with_suffix(".tmp")
    record = {"fingerprint": sub.fingerprint(), "graded_at": time.time(), "seconds": seconds, "flags": flags or []}
    tmp.write_text(json.dumps(record))
    os.replace(tmp, state)
    with open(Path(course_dir) / STATE_DIR / "history.jsonl", "a") as f:  # one line per autograde, for audits
        f.write(json.dumps({"trainee": sub.trainee, "module": sub.module, "at": time.time()}) + "\n")


def submission_problem(sub: Submission) -> str | None:
    """Why nbgrader cannot even read this submission, in plain words (None when it can): checked first, because
    nbgrader's own errors for a damaged notebook or timestamp are tracebacks (a raw UnicodeDecodeError, or an
    AttributeError from inside nbgrader for a timestamp that is not a date)."""
    import nbformat

    name = f"{sub.module}.ipynb"
    path = sub.folder / name
    if not path.is_file():
        return f"no notebook {name} was submitted (or it is not a file), so nothing could be graded"
    try:
        data = path.read_bytes()
    except OSError as e:
        return f"{name} could not be opened ({e.strerror or e})"
    try:
        nb = nbformat.reads(data.decode("utf-8-sig"), as_version=4)
        cells = nb.get("cells")
        if not isinstance(cells, list) or not all(isinstance(c, dict) and "cell_type" in c for c in cells):
            return f"{name}: the notebook file is not a valid notebook (its cells are damaged)"
    except UnicodeDecodeError:
        return f"{name}: the notebook file is not text (it is damaged, or not a notebook)"
    except RecursionError:
        return f"{name}: the notebook file is nested far too deeply to be a notebook"
    except Exception:  # nbformat raises many kinds of error for a file that is not a notebook
        return f"{name}: the notebook file is damaged (it is not a notebook nbgrader can read)"
    stamp = sub.folder / "timestamp.txt"
    if stamp.exists():
        from nbgrader.utils import parse_utc

        try:
            parse_utc(stamp.read_text(encoding="utf-8", errors="replace").strip())
        except Exception:
            return "timestamp.txt does not hold a date and time, so nbgrader cannot record when it was submitted"
    return None


def autograde_one(api, course_dir: Path, sub: Submission, retries: int = 3) -> tuple[bool, str, list[str]]:
    """Autograde one submission through nbgrader's API; (ok, plain message, what needs the trainer)."""
    start = time.monotonic()
    problem = submission_problem(sub)
    if problem:
        return False, problem, []
    out = {}
    for attempt in range(retries):
        out = api.autograde(sub.module, sub.trainee, force=True, create=True)
        text = (out.get("error") or "") + (out.get("log") or "")
        if out.get("success") or "database is locked" not in text:
            break
        time.sleep(0.5 * (attempt + 1))  # another worker holds the sqlite write lock: wait, then retry
    flags = list(dict.fromkeys(_flags(out.get("log") or "")))
    if out.get("success"):
        _mark_graded(course_dir, sub, time.monotonic() - start, flags)
        return True, "", flags
    return False, _reason(out, sub), flags


def _flags(log: str) -> list[str]:
    """What the course's preprocessors said needs the trainer (course.grading.preprocessors.cells.flag)."""
    return [ln.split(FLAG, 1)[1].strip() for ln in log.splitlines() if FLAG in ln]


# nbgrader's own reasons for a submission it could not read, in words a trainer can act on.
PLAIN_REASONS = (
    ("UnicodeDecodeError", "the notebook file is not text (it is damaged, or not a notebook)"),
    ("NotJSONError", "the notebook file is damaged (it is not a notebook: not valid JSON)"),
    ("JSONDecodeError", "the notebook file is damaged (it is not a notebook: not valid JSON)"),
    ("does not appear to be JSON", "the notebook file is damaged (it is not a notebook: not valid JSON)"),
    ("ValidationError", "the notebook file is not a valid notebook (its structure is damaged)"),
    ("RecursionError", "the notebook file is nested far too deeply to be a notebook"),
    ("Exceeds the limit", "the notebook file holds a number far too long to be part of a notebook"),
    ("CellTimeoutError", "a cell ran for longer than the time allowed (Execute.timeout)"),
    ("DeadKernelError", "the grading kernel stopped while running this notebook"),
)


def _reason(out: dict, sub: Submission | None = None) -> str:
    """What went wrong, in plain words: a known cause in words a trainer can act on, else the line of nbgrader's
    log that says it (its 'error' is only a generic traceback)."""
    import re

    text = (out.get("log") or "") + "\n" + (out.get("error") or "")
    where = f"{sub.module}.ipynb: " if sub is not None else ""
    for marker, plain in PLAIN_REASONS:
        if marker in text:
            return where + plain
    causes = [
        ln.strip()
        for ln in text.splitlines()
        if re.match(r"\s*[\w.]+(Error|Exception|Interrupt|Timeout)\b.*:", ln) and "NbGraderException" not in ln
    ]
    return causes[-1][:300] if causes else last_lines(text, 5)[:600] or "nbgrader gave no reason"


def _worker_main(folder: str, keys: list[str]) -> int:
    """One worker process: autograde its own trainees, one JSON line per finished submission."""
    course_dir = Path(folder)
    api = make_api(course_dir, reuse_kernel=True)
    for key in keys:
        trainee, module = key.split("/", 1)
        sub = Submission(trainee, module, course_dir / "submitted" / trainee / module)
        t0 = time.monotonic()
        flags: list[str] = []
        try:
            ok, msg, flags = autograde_one(api, course_dir, sub)
        except Exception as e:  # one broken submission must not stop the cohort
            ok, msg = False, f"{type(e).__name__}: {str(e)[:300]}"
        line = {"key": key, "ok": ok, "message": msg, "flags": flags, "seconds": time.monotonic() - t0}
        print(json.dumps(line), flush=True)
    from .preprocessors.shared_kernel import shutdown_shared_kernel

    shutdown_shared_kernel()
    return 0


def partition(subs: list[Submission], workers: int) -> list[list[Submission]]:
    """Disjoint groups of whole trainees (never one trainee in two workers), balanced by submission count."""
    by_trainee: dict[str, list[Submission]] = {}
    for s in subs:
        by_trainee.setdefault(s.trainee, []).append(s)
    groups: list[list[Submission]] = [[] for _ in range(max(1, workers))]
    for trainee in sorted(by_trainee, key=lambda t: -len(by_trainee[t])):
        min(groups, key=len).extend(by_trainee[trainee])
    return [g for g in groups if g]


@dataclass
class GradeRun:
    graded: list[str]
    skipped: list[str]
    failed: dict[str, str]
    seconds: float
    peak_rss_mb: float = 0.0
    refused: dict[str, str] = field(default_factory=dict)  # trainee folder -> why it was not graded
    flags: dict[str, list[str]] = field(default_factory=dict)  # trainee/module -> what needs the trainer

    @property
    def needs_attention(self) -> bool:
        return bool(self.failed or self.refused or self.flags)


def grade(
    course_dir: Path = DEFAULT_COURSE_DIR,
    workers: int | None = None,
    force: bool = False,
    modules: list[str] | None = None,
    trainees: list[str] | None = None,
    progress: bool = True,
    log=print,
) -> GradeRun:
    """Autograde every submitted (trainee, module) not yet graded, in parallel worker processes."""
    course_dir = Path(course_dir).resolve()
    if not (course_dir / "gradebook.db").exists() or not (course_dir / "source").is_dir():
        raise GradingError(f"{course_dir}: no gradebook or source folder yet. Run `course release` first.")
    found = find_submissions(course_dir, modules, trainees)
    subs = found.submissions
    for name, why in found.refused.items():
        log(f"Refused {name!r}: {why}.")
    if not subs:
        if found.refused:
            return GradeRun([], [], {}, 0.0, refused=found.refused)
        raise GradingError(
            f"{course_dir / 'submitted'}: no submissions found. Collect them first "
            "(`nbgrader collect <module>` in the grading folder), then run `course grade` again."
        )
    todo = [s for s in subs if force or not is_graded(course_dir, s)]
    skipped = [s.key for s in subs if s not in todo]
    if skipped:
        log(f"{len(skipped)} submission(s) already graded and unchanged: skipping them (use --force to regrade).")
    workers = workers or os.cpu_count() or 1
    groups = partition(todo, min(workers, len({s.trainee for s in todo}) or 1))
    t0 = time.monotonic()
    graded, failed = [], {}
    flags: dict[str, list[str]] = {}
    peak = 0.0
    if todo:
        log(
            f"Grading {len(todo)} submission(s) from {len({s.trainee for s in todo})} trainee(s) "
            f"with {len(groups)} worker(s)."
        )
        graded, failed, flags, peak = _run_workers(course_dir, groups, len(todo), progress)
    for s in subs:  # what an earlier run found still needs attention until the trainee resubmits
        if s.key in skipped and (earlier := flags_of(course_dir, s)):
            flags[s.key] = earlier
    for key, differ in compare_with_hub(subs, log).items():  # the multi-user server's record of first answers
        flags[key] = [*flags.get(key, []), *differ]
    run = GradeRun(graded, skipped, failed, time.monotonic() - t0, peak, found.refused, flags)
    for key, msg in failed.items():
        log(f"Could not grade {key}: {msg.splitlines()[-1] if msg else ''}")
    for key, items in sorted(flags.items()):
        for item in items:
            log(f"Needs attention: {key}: {item}")
    log(
        f"Graded {len(graded)}, skipped {len(skipped)}, failed {len(failed)}, refused {len(found.refused)} "
        f"in {run.seconds:.1f} s." + (f" {len(flags)} submission(s) need attention (listed above)." if flags else "")
    )
    return run


def _run_workers(course_dir: Path, groups: list[list[Submission]], total: int, progress: bool):
    import selectors

    import psutil
    from tqdm import tqdm

    procs = []
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for group in groups:
        cmd = [sys.executable, "-m", "course.grading.autograde", "--worker", str(course_dir), *[s.key for s in group]]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env))
    sel = selectors.DefaultSelector()
    for p in procs:
        assert p.stdout is not None
        sel.register(p.stdout, selectors.EVENT_READ, p)
    graded: list[str] = []
    failed: dict[str, str] = {}
    flags: dict[str, list[str]] = {}
    peak = 0.0
    bar = tqdm(total=total, unit="submission", desc="Grading", disable=not progress, file=sys.stderr)
    open_streams = len(procs)
    try:
        while open_streams:
            for key, _ in sel.select(timeout=1.0):
                line = key.data.stdout.readline()
                if not line:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                (graded.append(msg["key"]) if msg["ok"] else failed.__setitem__(msg["key"], msg["message"]))
                if msg.get("flags"):
                    flags[msg["key"]] = list(msg["flags"])
                bar.update(1)
                bar.set_postfix_str(msg["key"])
            peak = max(peak, _peak_worker_rss(procs, psutil))
        for p in procs:
            p.wait()
    except KeyboardInterrupt:
        for p in procs:  # only the workers this run started, each by its own process id
            _terminate_tree(p.pid, psutil)
        raise
    finally:
        bar.close()
    return graded, failed, flags, peak


def _peak_worker_rss(procs, psutil) -> float:
    """The largest worker's memory, counting its kernel child processes, in MB."""
    peak = 0.0
    for p in procs:
        try:
            proc = psutil.Process(p.pid)
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, rss / 2**20)
        except psutil.Error:
            continue
    return peak


def _terminate_tree(pid: int, psutil) -> None:
    try:
        parent = psutil.Process(pid)
        for child in parent.children(recursive=True):
            child.terminate()
        parent.terminate()
    except psutil.Error:
        pass


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--worker":
        sys.exit(_worker_main(sys.argv[2], sys.argv[3:]))
    sys.exit("usage: python -m course.grading.autograde --worker COURSE_DIR TRAINEE/MODULE ...")
