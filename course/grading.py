"""Trainer grading with nbgrader: build and check the release, autograde a cohort in parallel, export, feedback.

Every function takes the nbgrader course folder (normally <repo>/grading) and, where it matters, the folder of
source notebooks, so the same pipeline runs on the course's modules and on the fictional course in the tests.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_COURSE_DIR = REPO / "grading"
# COURSE_NOTEBOOKS points the trainer and trainee commands at another course's notebooks (the tests use it).
DEFAULT_NOTEBOOKS = Path(os.environ.get("COURSE_NOTEBOOKS") or REPO / "notebooks")
NOT_ASSIGNMENTS = {"workshop"}  # folders under notebooks/ that are not nbgrader assignments
STATE_DIR = ".grade-state"  # inside the course folder: which submissions are already graded (git-ignored)

# Text that must never reach a trainee: nbgrader's hidden test, solution and mark scheme regions, the hidden
# scoring call and our grader-only mark scheme.
LEAK_MARKERS = (
    "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION",
    "BEGIN MARK SCHEME", "END MARK SCHEME", ".score(", "course-mark-scheme", "Mark scheme (for graders",
)
FEEDBACK_LEAK_MARKERS = LEAK_MARKERS + ("Traceback (most recent call last)", "AssertionError")
SOURCE_SKIP = ("answers.json", "answers.json.*", ".ipynb_checkpoints", "__pycache__", "*.pyc")


class GradingError(Exception):
    """A problem the trainer can act on; the message names the file and what to do."""


# --------------------------------------------------------------------------- nbgrader set-up


def load_config(course_dir: Path):
    """The course's nbgrader_config.py as a traitlets Config, rooted at course_dir."""
    from traitlets.config.loader import Config, PyFileConfigLoader

    course_dir = Path(course_dir).resolve()
    cfg_file = course_dir / "nbgrader_config.py"
    if cfg_file.exists():
        cfg = PyFileConfigLoader(str(cfg_file), path=str(course_dir)).load_config()
    else:
        cfg = Config()
    cfg.CourseDirectory.root = str(course_dir)
    if "db_url" not in cfg.CourseDirectory:
        cfg.CourseDirectory.db_url = "sqlite:///" + str(course_dir / "gradebook.db")
    if "course_id" not in cfg.CourseDirectory:
        cfg.CourseDirectory.course_id = "safeguarding-case-review"
    # exclude_overwriting is keyed by assignment: cover every assignment present now, not only at import time
    source = course_dir / "source"
    if source.is_dir():
        cfg.Autograde.exclude_overwriting = {a.name: ["answers.json"] for a in source.iterdir() if a.is_dir()}
    return cfg


def _tools_on_path() -> None:
    """nbgrader runs `alembic` by name when it creates a gradebook: make this Python's scripts findable."""
    if os.environ.get("COURSE_DATA"):  # nbgrader changes directory while it works: pin a relative pack path
        os.environ["COURSE_DATA"] = str(Path(os.environ["COURSE_DATA"]).resolve())
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def make_api(course_dir: Path):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _tools_on_path()
    cfg = load_config(course_dir)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    return api


def _ensure_course_dir(course_dir: Path) -> Path:
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    cfg = course_dir / "nbgrader_config.py"
    if not cfg.exists() and course_dir != DEFAULT_COURSE_DIR:
        shutil.copy(DEFAULT_COURSE_DIR / "nbgrader_config.py", cfg)
    return course_dir


def module_ids(notebooks_dir: Path) -> list[str]:
    """Assignments: folders of notebooks_dir holding <id>/<id>.ipynb, in name order (m00, m01, ...)."""
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        return []
    return sorted(p.name for p in notebooks_dir.iterdir()
                  if p.is_dir() and p.name not in NOT_ASSIGNMENTS and (p / f"{p.name}.ipynb").exists())


# --------------------------------------------------------------------------- release


@dataclass
class ReleaseResult:
    module: str
    notebook: Path
    problems: list[str]
    graded: int = 0
    points: float = 0.0


def prepare_source(course_dir: Path, notebooks_dir: Path, modules: list[str]) -> None:
    """Copy each module's folder into <course>/source/<id>/, leaving behind any answers.json an author made."""
    for mid in modules:
        src = Path(notebooks_dir) / mid
        if not (src / f"{mid}.ipynb").exists():
            raise GradingError(f"{src / (mid + '.ipynb')}: module notebook not found. Check the module id.")
        dest = Path(course_dir) / "source" / mid
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*SOURCE_SKIP))


def leaks_in_folder(folder: Path, markers=LEAK_MARKERS) -> list[str]:
    """Every file in folder holding text a trainee must not see, or an answers file that is not theirs."""
    problems = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file():
            continue
        if path.name == "answers.json" or path.name.startswith("answers.json."):
            problems.append(f"{path}: an answers file must not be handed to trainees (remove it from the source folder)")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for marker in markers:
            if marker in text:
                problems.append(f"{path}: contains {marker!r}, which trainees must not see")
    return problems


def _release_notebook_problems(nb_path: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.get("outputs"):
            problems.append(f"{nb_path}: cell {i + 1} has outputs; release notebooks must be clean")
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code" and not meta.get("locked"):
            problems.append(f"{nb_path}: graded cell {meta.get('grade_id')!r} is not locked")
    return problems


def validate_notebook(nb_path: Path) -> list[str]:
    """Run nbgrader's Validator (the `nbgrader validate` CLI exits 0 even on failure); problems in plain words."""
    from nbgrader.validator import Validator

    with _quiet_env(COURSE_READ_ONLY="1"):
        results = Validator().validate(str(nb_path))
    problems = []
    for kind, cells in results.items():
        for cell in cells:
            if kind == "failed" and "did not provide a response" in cell.get("error", ""):
                continue  # an unanswered reflection: expected in a release, where nobody has answered yet
            first = (cell.get("source") or "").strip().splitlines()[:1]
            problems.append(f"{nb_path}: validation {kind}: {first[0] if first else '(empty cell)'}"
                            + (f" -- {_plain(cell.get('error', ''))[:300]}" if cell.get("error") else ""))
    return problems


def _plain(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", html).strip()


@contextlib.contextmanager
def _quiet_env(**env):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def release(course_dir: Path = DEFAULT_COURSE_DIR, notebooks_dir: Path = DEFAULT_NOTEBOOKS,
            modules: list[str] | None = None, validate: bool = True, log=print) -> list[ReleaseResult]:
    """Build the trainee version of each module with nbgrader and check that nothing hidden got through."""
    course_dir = _ensure_course_dir(course_dir)
    modules = modules or module_ids(notebooks_dir)
    if not modules:
        raise GradingError(f"{notebooks_dir}: no module notebooks found (expected <id>/<id>.ipynb folders).")
    prepare_source(course_dir, notebooks_dir, modules)
    api = make_api(course_dir)
    results = []
    for mid in modules:
        out = api.generate_assignment(mid, force=True, create=True)
        nb = course_dir / "release" / mid / f"{mid}.ipynb"
        if not out.get("success"):
            raise GradingError(f"{course_dir / 'source' / mid / (mid + '.ipynb')}: nbgrader could not build the "
                               f"release:\n{_last_lines(out.get('error') or out.get('log', ''))}")
        problems = leaks_in_folder(nb.parent) + _release_notebook_problems(nb)
        if validate and not problems:
            problems += validate_notebook(nb)
        graded, points = _graded_summary(course_dir / "source" / mid / f"{mid}.ipynb")
        results.append(ReleaseResult(mid, nb, problems, graded, points))
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        log(f"{mid}: released ({graded} graded cells, {points:g} points): {status}")
        for p in problems:
            log(f"  - {p}")
    return results


def _graded_summary(nb_path: Path) -> tuple[int, float]:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    cells = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    graded = [m for m in cells if m.get("grade")]
    return len(graded), float(sum(m.get("points", 0) for m in graded))


def _last_lines(text: str, n: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


# --------------------------------------------------------------------------- submissions and grading state


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


def submissions(course_dir: Path, modules: list[str] | None = None, trainees: list[str] | None = None) -> list[Submission]:
    """Every submitted/<trainee>/<module>/ folder for a released module."""
    course_dir = Path(course_dir)
    sub_root = course_dir / "submitted"
    known = {p.name for p in (course_dir / "source").iterdir() if p.is_dir()} if (course_dir / "source").is_dir() else set()
    out = []
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
        with _quiet_env(COURSE_READ_ONLY="1"):
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
    causes = [ln.strip() for ln in text.splitlines()
              if re.match(r"\s*[\w.]+(Error|Exception|Interrupt|Timeout)\b.*:", ln) and "NbGraderException" not in ln]
    return causes[-1] if causes else _last_lines(text, 5) or "nbgrader gave no reason"


def _worker_main(course_dir: str, keys: list[str]) -> int:
    """One worker process: autograde its own trainees, one JSON line per finished submission."""
    course_dir = Path(course_dir)
    api = make_api(course_dir)
    for key in keys:
        trainee, module = key.split("/", 1)
        sub = Submission(trainee, module, course_dir / "submitted" / trainee / module)
        t0 = time.monotonic()
        try:
            ok, msg = autograde_one(api, course_dir, sub)
        except Exception as e:  # one broken submission must not stop the cohort
            ok, msg = False, f"{type(e).__name__}: {e}"
        print(json.dumps({"key": key, "ok": ok, "message": msg, "seconds": time.monotonic() - t0}), flush=True)
    from .feedback_preprocessor import shutdown_shared_kernel

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


def grade(course_dir: Path = DEFAULT_COURSE_DIR, workers: int | None = None, force: bool = False,
          modules: list[str] | None = None, trainees: list[str] | None = None, progress: bool = True,
          log=print) -> GradeRun:
    """Autograde every submitted (trainee, module) not yet graded, in parallel worker processes."""
    course_dir = Path(course_dir).resolve()
    if not (course_dir / "gradebook.db").exists() or not (course_dir / "source").is_dir():
        raise GradingError(f"{course_dir}: no gradebook or source folder yet. Run `course release` first.")
    subs = submissions(course_dir, modules, trainees)
    if not subs:
        raise GradingError(f"{course_dir / 'submitted'}: no submissions found. Collect them first "
                           "(`nbgrader collect <module>` in the grading folder), then run `course grade` again.")
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
        log(f"Grading {len(todo)} submission(s) from {len({s.trainee for s in todo})} trainee(s) "
            f"with {len(groups)} worker(s).")
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
    env = dict(os.environ, COURSE_READ_ONLY="1", PYTHONUNBUFFERED="1", COURSE_SHARED_KERNEL="1")
    for group in groups:
        cmd = [sys.executable, "-m", "course.grading", "--worker", str(course_dir), *[s.key for s in group]]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env))
    sel = selectors.DefaultSelector()
    for p in procs:
        sel.register(p.stdout, selectors.EVENT_READ, p)
    graded, failed = [], {}
    peak = 0.0
    bar = tqdm(total=total, unit="submission", desc="Grading", disable=not progress, file=sys.stderr)
    open_streams = len(procs)
    try:
        while open_streams:
            for key, _ in sel.select(timeout=1.0):
                line = key.fileobj.readline()
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


# --------------------------------------------------------------------------- export


def gradebook_rows(course_dir: Path) -> list[dict]:
    """One row per trainee, module and graded item, read from the gradebook."""
    from nbgrader.api import Gradebook

    cfg = load_config(course_dir)
    rows = []
    with Gradebook(cfg.CourseDirectory.db_url, cfg.CourseDirectory.course_id) as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for sub in sorted(assignment.submissions, key=lambda s: s.student.id):
                for nb in sub.notebooks:
                    for g in sorted(nb.grades, key=lambda g: g.name):
                        rows.append({
                            "trainee": sub.student.id, "module": assignment.name, "item": g.name,
                            "kind": "decision" if g.name.startswith("score-") else
                                    "reflection" if g.name.startswith("reflection-") else "other",
                            "score": round(float(g.score), 3), "max_score": float(g.max_score),
                            "auto_score": None if g.auto_score is None else round(float(g.auto_score), 3),
                            "manual_score": g.manual_score, "needs_manual_grade": bool(g.needs_manual_grade),
                            "submitted_at": sub.timestamp.isoformat() if sub.timestamp else "",
                        })
    return rows


def export(course_dir: Path = DEFAULT_COURSE_DIR, out_dir: Path | None = None, log=print) -> tuple[Path, Path]:
    """grades.csv (one row per trainee, module and item) and summaries/<trainee>.md; returns their paths."""
    course_dir = Path(course_dir).resolve()
    out_dir = Path(out_dir) if out_dir else course_dir
    rows = gradebook_rows(course_dir)
    csv_path = out_dir / "grades.csv"
    fields = ["trainee", "module", "item", "kind", "score", "max_score", "auto_score", "manual_score",
              "needs_manual_grade", "submitted_at"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path.write_text(buf.getvalue(), encoding="utf-8")
    summaries = out_dir / "summaries"
    summaries.mkdir(exist_ok=True)
    by_trainee: dict[str, list[dict]] = {}
    for r in rows:
        by_trainee.setdefault(r["trainee"], []).append(r)
    index = ["# Cohort summary", "", "| Trainee | Score | Out of | Waiting for a grader |", "| --- | --- | --- | --- |"]
    for trainee, items in sorted(by_trainee.items()):
        (summaries / f"{trainee}.md").write_text(trainee_summary(trainee, items), encoding="utf-8")
        waiting = sum(r["needs_manual_grade"] for r in items)
        index.append(f"| [{trainee}]({trainee}.md) | {sum(r['score'] for r in items):g} | "
                     f"{sum(r['max_score'] for r in items):g} | {waiting} |")
    (summaries / "index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    log(f"Wrote {csv_path} ({len(rows)} rows) and {len(by_trainee)} trainee summaries in {summaries}.")
    return csv_path, summaries


def trainee_summary(trainee: str, items: list[dict]) -> str:
    lines = [f"# {trainee}", "", "| Module | Decisions | Reflection | Total |", "| --- | --- | --- | --- |"]
    by_module: dict[str, list[dict]] = {}
    for r in items:
        by_module.setdefault(r["module"], []).append(r)
    for module, rs in sorted(by_module.items()):
        dec = [r for r in rs if r["kind"] == "decision"]
        ref = [r for r in rs if r["kind"] == "reflection"]
        ref_text = "; ".join("waiting for a grader" if r["needs_manual_grade"] else f"{r['score']:g} / {r['max_score']:g}"
                             for r in ref) or "none"
        lines.append(f"| {module} | {sum(r['score'] for r in dec):g} / {sum(r['max_score'] for r in dec):g} | "
                     f"{ref_text} | {sum(r['score'] for r in rs):g} / {sum(r['max_score'] for r in rs):g} |")
    waiting = [r for r in items if r["needs_manual_grade"]]
    if waiting:
        lines += ["", f"{len(waiting)} answer(s) still need a grader: the totals above will rise when they are marked."]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- feedback


def feedback(course_dir: Path = DEFAULT_COURSE_DIR, modules: list[str] | None = None,
             trainees: list[str] | None = None, log=print) -> tuple[list[Path], list[str]]:
    """Feedback HTML for every autograded submission, each checked for hidden tests, tracebacks and keys.

    A file that fails the check is deleted so it cannot be released; the problems are returned.
    """
    course_dir = Path(course_dir).resolve()
    api = make_api(course_dir)
    auto = course_dir / "autograded"
    pairs = []
    if auto.is_dir():
        for tdir in sorted(p for p in auto.iterdir() if p.is_dir()):
            if trainees and tdir.name not in trainees:
                continue
            for mdir in sorted(p for p in tdir.iterdir() if p.is_dir()):
                if not modules or mdir.name in modules:
                    pairs.append((tdir.name, mdir.name))
    if not pairs:
        raise GradingError(f"{auto}: nothing autograded yet. Run `course grade` first.")
    made, problems = [], []
    for trainee, module in pairs:
        out = api.generate_feedback(module, trainee, force=True)
        folder = course_dir / "feedback" / trainee / module
        if not out.get("success"):
            problems.append(f"{folder}: feedback not generated: {_last_lines(out.get('error') or out.get('log', ''), 3)}")
            continue
        for own in list(folder.glob("answers.json*")):
            own.unlink()  # the trainee's own store: they have it; feedback is the report, not their data
        leaks = leaks_in_folder(folder, FEEDBACK_LEAK_MARKERS)
        if leaks:
            shutil.rmtree(folder)
            problems += leaks
            continue
        made += sorted(folder.glob("*.html"))
    log(f"Feedback written for {len(made)} submission(s) in {course_dir / 'feedback'}.")
    for p in problems:
        log(f"  - {p}")
    return made, problems


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--worker":
        sys.exit(_worker_main(sys.argv[2], sys.argv[3:]))
    sys.exit("usage: python -m course.grading --worker COURSE_DIR TRAINEE/MODULE ...")
