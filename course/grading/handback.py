"""Handing feedback back: through nbgrader's exchange (`course feedback --release`), or as one zip of pages per
trainee (`course feedback --zip`) for cohorts that sent their work by zip_collect or from their own laptops.

nbgrader's `release_feedback` (exchange/default/release_feedback.py, 0.9.6) files each page under a hash of the
submission's `submission_secret.txt`, which only `nbgrader submit` writes, and stops the whole module at the first
feedback folder without one (a FileNotFoundError); it also stops when the exchange folder does not exist. The
trainee's `fetch_feedback` finds the page from the secret in their own submission cache. So:

- `place_secret`: a feedback folder keeps the secret its submission came with (autograde keeps it, feedback copies
  it). A submission that never went through the exchange gets a fresh one, so `nbgrader release_feedback` runs
  for the module; that trainee cannot fetch it (they hold no secret) and is named: their feedback goes by zip.
- `release`: the course's own exchange folder (inside the course folder, on a laptop) is made when missing, then
  nbgrader's release_feedback runs per trainee and module, so one problem never stops the rest.
- `withdraw`: a page released earlier for a submission now held back is taken out of the exchange.
- `zip_pages`: feedback-zips/<trainee>.zip holds the trainee's current pages, one per module (<module>.html);
  the file name is a safe stem of the id (course.core.contract.file_stem).
"""

from __future__ import annotations

import os
import secrets
import zipfile
from pathlib import Path

from ..core.contract import file_stem
from .config import GradingError, last_lines, load_config, make_api

SECRET = "submission_secret.txt"
ZIPS = "feedback-zips"


def secret_of(course_dir: Path, trainee: str, module: str) -> str | None:
    """The submission secret in the feedback folder (what its released page is filed under), or None."""
    try:
        return (Path(course_dir) / "feedback" / trainee / module / SECRET).read_text(encoding="utf-8")
    except OSError:
        return None


def place_secret(course_dir: Path, trainee: str, module: str) -> bool:
    """Make sure the feedback folder holds a submission secret; True when it came from `nbgrader submit`. A secret
    made here is kept beside the autograded submission too, so feedback made again is filed under the same name
    (until the trainee resubmits)."""
    folder = Path(course_dir) / "feedback" / trainee / module
    if (folder / SECRET).is_file():
        return True
    graded = Path(course_dir) / "autograded" / trainee / module / f".course-{SECRET}"
    try:
        key = graded.read_text(encoding="utf-8")
    except OSError:
        key = secrets.token_hex(64)
        graded.write_text(key, encoding="utf-8")
    (folder / SECRET).write_text(key, encoding="utf-8")
    return False


def _outbound(course_dir: Path) -> Path:
    cfg = load_config(course_dir)
    root = Path(str(cfg.Exchange.root)) if "root" in cfg.Exchange else Path("/srv/nbgrader/exchange")
    return root / str(cfg.CourseDirectory.course_id) / "feedback"


def withdraw(course_dir: Path, module: str, secret: str | None) -> bool:
    """Take the page released under this secret out of the exchange; True when there was one."""
    from nbgrader.utils import notebook_hash

    if not secret:
        return False
    page = _outbound(Path(course_dir)) / f"{notebook_hash(secret=secret, notebook_id=module)}.html"
    try:
        page.unlink()
    except FileNotFoundError:
        return False
    return True


def release(course_dir: Path, pairs: list[tuple[str, str]], log=print) -> list[str]:
    """Release each (trainee, module) feedback page into the exchange; returns the problems, in plain words."""
    course_dir = Path(course_dir).resolve()
    cfg = load_config(course_dir)
    root = Path(str(cfg.Exchange.root)) if "root" in cfg.Exchange else None
    if root is not None and not root.exists():
        if course_dir not in root.resolve().parents:
            raise GradingError(f"{root}: the exchange folder does not exist. Ask whoever runs the server.")
        root.mkdir(parents=True)
        root.chmod(0o755)  # trainees on this machine read their feedback from it
    api = make_api(course_dir)
    problems = []
    released = 0
    for trainee, module in pairs:
        out = api.release_feedback(module, trainee)
        if out.get("success"):
            released += 1
        else:
            why = last_lines(out.get("error") or out.get("log") or "nbgrader gave no reason", 2)
            problems.append(f"{trainee}/{module}: feedback not released to the exchange: {why}")
    log(f"Released {released} feedback page(s) to the exchange: trainees get them with Fetch Feedback.")
    return problems


def zip_pages(course_dir: Path, trainees: list[str], log=print) -> list[Path]:
    """feedback-zips/<trainee>.zip with each of the trainee's current feedback pages; a trainee with none has no zip."""
    course_dir = Path(course_dir).resolve()
    out_dir = course_dir / ZIPS
    out_dir.mkdir(exist_ok=True)
    made = []
    for trainee in sorted(set(trainees)):
        target = out_dir / f"{file_stem(trainee)}.zip"
        pages = sorted((course_dir / "feedback" / trainee).glob("*/*.html"))
        if not pages:
            target.unlink(missing_ok=True)
            continue
        tmp = target.with_suffix(".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for page in pages:
                z.write(page, f"{page.parent.name}.html")
        os.replace(tmp, target)
        made.append(target)
    log(f"Wrote {len(made)} zip(s) of feedback pages in {out_dir}: send each trainee their own.")
    return made
