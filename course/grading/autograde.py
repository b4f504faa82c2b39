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
from dataclasses import dataclass
from pathlib import Path

from .config import DEFAULT_COURSE_DIR, GradingError, last_lines, make_api

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
        """Changes whenever the trainee resubmits: the timestamp and every submitted file's bytes."""
        h = hashlib.sha256()
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                h.update(str(path.relative_to(self.folder)).encode())
                h.update(path.read_bytes())
        return h.hexdigest()


def submissions(
    course_dir: Path, modules: list[str] | None = None, trainees: list[str] | None = None
) -> list[Submission]:
    """Every submitted/<trainee>/<module>/ folder for a released module."""
    course_dir = Path(course_dir)
    sub_root = course_dir / "submitted"
    known = (
        {p.name for p in (course_dir / "source").iterdir() if p.is_dir()} if (course_dir / "source").is_dir() else set()
    )
    out: list[Submission] = []
    if not sub_root.is_dir():
        return out
    for tdir in sorted(p for p in sub_root.iterdir() if p.is_dir()):
        if trainees and tdir.name not in trainees:
            continue
        for mdir in sorted(p for p in tdir.iterdir() if p.is_dir()):
            if mdir.name in known and (not modules or mdir.name in modules):
                out.append(Submission(tdir.name, mdir.name, mdir))
    return out


def _state_file(course_dir: Path, sub: Submission) -> Path:
    return Path(course_dir) / STATE_DIR / sub.trainee / f"{sub.module}.json"


def is_graded(course_dir: Path, sub: Submission) -> bool:
    """Graded already, from this very submission: the state file matches and the autograded notebook exists."""
    state = _state_file(course_dir, sub)
    nb = Path(course_dir) / "autograded" / sub.trainee / sub.module / f"{sub.module}.ipynb"
    if not state.exists() or not nb.exists():
        return False
    try:
        return json.loads(state.read_text()).get("fingerprint") == sub.fingerprint()
    except (ValueError, OSError):
        return False


def _mark_graded(course_dir: Path, sub: Submission, seconds: float) -> None:
    state = _state_file(course_dir, sub)
    state.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps({"fingerprint": sub.fingerprint(), "graded_at": time.time(), "seconds": seconds}))
    os.replace(tmp, state)
    with open(Path(course_dir) / STATE_DIR / "history.jsonl", "a") as f:  # one line per autograde, for audits
        f.write(json.dumps({"trainee": sub.trainee, "module": sub.module, "at": time.time()}) + "\n")


def autograde_one(api, course_dir: Path, sub: Submission, retries: int = 3) -> tuple[bool, str]:
    """Autograde one submission through nbgrader's API; (ok, plain message)."""
    start = time.monotonic()
    out = {}
    for attempt in range(retries):
        out = api.autograde(sub.module, sub.trainee, force=True, create=True)
        text = (out.get("error") or "") + (out.get("log") or "")
        if out.get("success") or "database is locked" not in text:
            break
        time.sleep(0.5 * (attempt + 1))  # another worker holds the sqlite write lock: wait, then retry
    if out.get("success"):
        _mark_graded(course_dir, sub, time.monotonic() - start)
        return True, ""
    return False, _reason(out)


def _reason(out: dict) -> str:
    """The line of nbgrader's log that says what went wrong (its 'error' is only a generic traceback)."""
    import re

    text = (out.get("log") or "") + "\n" + (out.get("error") or "")
    causes = [
        ln.strip()
        for ln in text.splitlines()
        if re.match(r"\s*[\w.]+(Error|Exception|Interrupt|Timeout)\b.*:", ln) and "NbGraderException" not in ln
    ]
    return causes[-1] if causes else last_lines(text, 5) or "nbgrader gave no reason"


def _worker_main(folder: str, keys: list[str]) -> int:
    """One worker process: autograde its own trainees, one JSON line per finished submission."""
    course_dir = Path(folder)
    api = make_api(course_dir, reuse_kernel=True)
    for key in keys:
        trainee, module = key.split("/", 1)
        sub = Submission(trainee, module, course_dir / "submitted" / trainee / module)
        t0 = time.monotonic()
        try:
            ok, msg = autograde_one(api, course_dir, sub)
        except Exception as e:  # one broken submission must not stop the cohort
            ok, msg = False, f"{type(e).__name__}: {e}"
        print(json.dumps({"key": key, "ok": ok, "message": msg, "seconds": time.monotonic() - t0}), flush=True)
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
    subs = submissions(course_dir, modules, trainees)
    if not subs:
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
    peak = 0.0
    if todo:
        log(
            f"Grading {len(todo)} submission(s) from {len({s.trainee for s in todo})} trainee(s) "
            f"with {len(groups)} worker(s)."
        )
        graded, failed, peak = _run_workers(course_dir, groups, len(todo), progress)
    run = GradeRun(graded, skipped, failed, time.monotonic() - t0, peak)
    for key, msg in failed.items():
        log(f"Could not grade {key}: {msg.splitlines()[-1] if msg else ''}")
    log(f"Graded {len(graded)}, skipped {len(skipped)}, failed {len(failed)} in {run.seconds:.1f} s.")
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
    return graded, failed, peak


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
