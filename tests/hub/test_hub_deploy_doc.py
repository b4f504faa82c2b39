"""The docs are the test: docs/deploy.md and docs/operations.md, run as written, in order, as root.

Packages, a self-signed certificate, install, people, the hub in the foreground (what the systemd unit runs)
serving HTTPS on 127.0.0.1; a trainee and the trainer sign in in Chromium with their first passwords, the
trainer opens formgrader from the Marking menu in its own tab and runs the trainer's commands in a JupyterLab
terminal (so `course` and `nbgrader` must be on a login shell's PATH); two trainees answer and submit in
their own servers; then upgrade, a password reset, stopping one server, a backup, uninstall, and restore
into a fresh install, where every trainee's work, every mark and every setting must be found again.
tests/hub/deploy_doc.py says how the pages are read and what is renamed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import secrets
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.hub import deploy_doc
from tests.hub.conftest import (
    CACHE,
    PROXY,
    SETUP,
    Hub,
    _cache_lock,
    _cleanup,
    free_port,
    load_setup_module,
    missing_for_hub,
    run,
)
from tests.paths import ROOT

_missing = missing_for_hub()
pytestmark = [
    pytest.mark.hub,
    pytest.mark.slow,
    pytest.mark.skipif(_missing is not None, reason=f"deploy test: {_missing}"),
]
MODULE = "m00-welcome"
ANSWERS = {"a": "secure", "b": "leave"}  # d-practice-printer: 2 points and 0


class DocRun:
    """The machine the pages are followed on: names, environment, the current folder between blocks."""

    def __init__(self, base: Path, tag: str):
        self.base, self.tag = base, tag
        self.users = {"trainer": f"{tag}tr", "a": f"{tag}a", "b": f"{tag}b"}
        self.port = free_port()
        self.prefix, self.exchange, self.tls = base / "hub", base / "exchange", base / "tls"
        self.names = {
            "/opt/course-hub": str(self.prefix),
            "/srv/nbgrader/exchange": str(self.exchange),
            "/srv/course-src": str(ROOT),
            "/etc/course-hub/tls": str(self.tls),
            "/root/staff.csv": str(base / "staff.csv"),
            "/root/first-passwords.csv": str(base / "first-passwords.csv"),
            "/root/course-backup.tar.gz": str(base / "course-backup.tar.gz"),
            **{deploy_doc.DOC_USERS[k]: v for k, v in self.users.items()},
        }
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "VIRTUAL_ENV", "COURSE_"))}
        self.env |= {
            # The proxy the repository's npm ci installed (install finds it on PATH and skips npm).
            "PATH": f"{PROXY.parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "COURSE_HUB_PREFIX": str(self.prefix),
            "COURSE_HUB_EXCHANGE": str(self.exchange),
            "COURSE_HUB_GROUP_PREFIX": tag,
            "COURSE_HUB_BIND_URL": f"https://127.0.0.1:{self.port}",
            "DEBIAN_FRONTEND": "noninteractive",
        }
        self.cwd = str(base)
        self.timings: dict[str, float] = {}

    def text(self, block: deploy_doc.Block) -> str:
        return deploy_doc.substitute(block.text, self.names)

    def sh(self, block: deploy_doc.Block) -> str:
        """A block in a root shell (bash -e), from the folder the previous block ended in."""
        t0 = time.monotonic()
        marker = self.base / ".cwd"
        out = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", f"{self.text(block)}\npwd > {marker}"],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        self.timings[block.name] = round(time.monotonic() - t0, 1)
        assert out.returncode == 0, f"{block.doc} `{block.name}` failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
        self.cwd = marker.read_text().strip()
        return out.stdout + out.stderr

    def start_hub(self, block: deploy_doc.Block, hub: Hub) -> None:
        t0 = time.monotonic()
        log = open(self.base / "jupyterhub.log", "ab")  # noqa: SIM115 (closed below; the hub keeps its copy)
        hub.proc = subprocess.Popen(
            ["bash", "-c", f"exec {self.text(block)}"],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert hub.proc.poll() is None, f"the hub exited:\n{hub.log_tail()}"
            with contextlib.suppress(OSError, AssertionError):
                if hub.api("GET", "/", timeout=2) is not None:
                    self.timings[f"hub up ({block.doc})"] = round(time.monotonic() - t0, 1)
                    return
            time.sleep(0.3)
        raise AssertionError(f"the hub did not answer:\n{hub.log_tail()}")

    def stop_hub(self, hub: Hub) -> None:
        """Ctrl-C where it runs in the foreground (systemctl stop, for the unit)."""
        os.killpg(hub.proc.pid, signal.SIGINT)
        hub.proc.wait(30)


def driver_config(hub: Hub) -> str:
    """The test's own lines in the local config (the administrator's file): internal ports of its own, and a
    service token to drive servers with (kernels and terminals, as their owners)."""
    return f"""
c = get_config()  # noqa
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub.hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{hub.api_port}"
c.JupyterHub.services = [{{"name": "course-test-driver", "api_token": {hub.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-test-driver", "services": ["course-test-driver"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"]}}]
"""


def ensure_cached_venv(doc: DocRun) -> None:
    """The servers' venv, cached as the other hub tests cache it; the page's install reuses it (a fresh one
    takes 30-75 s and the package index)."""
    venv = CACHE / f"venv-{load_setup_module().deps_key(ROOT)}"
    with _cache_lock():
        for old in CACHE.glob("venv-*"):
            if old != venv:
                subprocess.run(["rm", "-rf", str(old)], check=False)
        if not (venv / ".course-deps").exists():
            scratch = Path(tempfile.mkdtemp(prefix="course-venv-build-"))
            try:
                install = ["install", "--venv", venv, "--exchange", scratch / "x", "--group-prefix", doc.tag]
                run(["/usr/bin/python3", SETUP, "--prefix", scratch / "p", *install, "--proxy", PROXY])
            finally:
                subprocess.run(["rm", "-rf", str(scratch)], check=False)
    doc.prefix.mkdir(parents=True, exist_ok=True)
    (doc.prefix / "venv").symlink_to(venv)


def sqlite_rows(path: Path, sql: str) -> list:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def gradebook(path: Path) -> dict:
    """(trainee, grade name) -> (auto score, manual score), from the trainer's gradebook."""
    rows = sqlite_rows(
        path,
        "select s.student_id, c.name, g.auto_score, g.manual_score from grade g "
        "join submitted_notebook n on g.notebook_id = n.id join submitted_assignment s on n.assignment_id = s.id "
        "join base_cell c on g.cell_id = c.id",
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_following_the_deploy_and_operations_pages_gives_a_tls_hub_and_a_backup_that_restores_everything():
    from tests.browser import harness

    steps = deploy_doc.blocks()
    assert [b.name for b in steps] == list(deploy_doc.STEPS)
    by_name = {b.name: b for b in steps}
    tag = "ct" + secrets.token_hex(3)
    base = Path(tempfile.mkdtemp(prefix=f"course-doc-{tag}-"))
    os.chmod(base, 0o755)
    doc = DocRun(base, tag)
    users = doc.users
    hub = Hub(base, tag, users, doc.prefix / "venv")
    hub.port = doc.port
    browser = None
    t_all = time.monotonic()
    try:
        ensure_cached_venv(doc)
        doc.timings["cached venv"] = round(time.monotonic() - t_all, 1)
        doc.sh(by_name["packages"])
        doc.sh(by_name["tls"])
        hub.ssl_context = ssl.create_default_context(cafile=str(doc.tls / "hub.pem"))
        said = doc.sh(by_name["install"])
        assert "Node v2" in said and f"https://127.0.0.1:{doc.port}" in said, said
        (base / "staff.csv").write_text(doc.text(by_name["staff.csv"]) + "\n")
        (base / "users.csv").write_text(doc.text(by_name["staff.csv"]) + "\n")  # for the cleanup
        doc.sh(by_name["users"])
        shells = {who: pwd.getpwnam(name).pw_shell for who, name in users.items()}
        assert shells == {"trainer": "/bin/bash", "a": "/usr/sbin/nologin", "b": "/usr/sbin/nologin"}
        refused = subprocess.run(["su", "-", users["a"], "-c", "true"], capture_output=True, text=True)
        assert refused.returncode != 0 and "not available" in refused.stdout + refused.stderr

        # The foreground command is what the systemd unit runs.
        unit = (doc.prefix / "etc" / "course-hub.service").read_text()
        assert f"ExecStart={doc.text(by_name['hub'])}\n" in unit
        local = doc.prefix / "etc" / "jupyterhub_config.local.py"
        local.write_text(driver_config(hub))
        os.chmod(local, 0o600)
        doc.start_hub(by_name["hub"], hub)
        with pytest.raises(
            (urllib.error.URLError, ConnectionError, http.client.HTTPException)
        ):  # https only: no plain HTTP on its port
            urllib.request.urlopen(f"http://127.0.0.1:{doc.port}/hub/login", timeout=10).read()
        culler = [p for p in hub_children(hub) if "jupyterhub_idle_culler" in " ".join(p.cmdline())]
        assert culler, "the idle culler is not running"

        # --- in the browser: a trainee and the trainer sign in with their first passwords -----------------
        passwords = deploy_doc.first_passwords(base / "first-passwords.csv")
        browser = harness.Browser()
        t0 = time.monotonic()
        with browser.tab(ignore_https_errors=True) as tab:
            deploy_doc.login(tab, hub.url, users["a"], passwords[users["a"]])
        with browser.tab(ignore_https_errors=True) as tab:
            deploy_doc.login(tab, hub.url, users["trainer"], passwords[users["trainer"]])
            page = tab.page
            page.goto(f"{hub.url}/user/{users['trainer']}/lab", wait_until="domcontentloaded")
            page.get_by_role("menuitem", name="Marking", exact=True).click(timeout=90_000)
            with tab.context.expect_page(timeout=60_000) as opened:
                page.get_by_text("Formgrader (opens in a new tab)").click()
            grader = opened.value
            grader.wait_for_load_state("domcontentloaded")
            assert f"/user/{users['trainer']}/formgrader" in grader.url, grader.url
            grader.get_by_text("Manage Assignments").first.wait_for(timeout=60_000)
            # nbgrader's own Formgrader entry (an iframe a hub's JupyterLab cannot show) is not offered.
            page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
            page.locator("li.lm-Menu-item[data-command='nbgrader:open-assignment-list']").wait_for()
            assert page.locator("li.lm-Menu-item[data-command='nbgrader:open-formgrader']:visible").count() == 0
            assert "@jupyter/nbgrader:formgrader" in hub.lab_page_config(users["trainer"])["disabledExtensions"]
        doc.timings["browser: trainee and trainer sign in, formgrader in a tab"] = round(time.monotonic() - t0, 1)
        hub.spawn(users["b"])

        # --- the trainer's commands, typed into a JupyterLab terminal --------------------------------------
        term = deploy_doc.Terminal(hub, users["trainer"])
        rc, shown = term.run("command -v course nbgrader")
        assert rc == 0 and str(doc.prefix / "venv" / "bin" / "nbgrader") in shown, shown

        def in_terminal(name: str) -> None:
            t = time.monotonic()
            for command in by_name[name].commands():
                rc, shown = term.run(deploy_doc.substitute(command, doc.names))
                assert rc == 0, f"{name}: {command} exited {rc}:\n{shown[-3000:]}"
            doc.timings[name] = round(time.monotonic() - t, 1)

        in_terminal("trainer-release")

        def answer_and_submit(who: str) -> dict:
            k = hub.kernel(users[who], "trainee.ipynb")
            k.sh(["nbgrader", "fetch_assignment", MODULE])
            nk = hub.kernel(users[who], f"{MODULE}/{MODULE}.ipynb")
            nk.execute(
                "from course.store import AnswerStore\nfrom course.core.pack import load_case\n"
                "import pathlib\nfrom course.widgets.submit import SubmitView\n"
                f"store = AnswerStore(case=load_case())\nr = store.record('d-practice-printer', {ANSWERS[who]!r}, "
                "'Because the records said so.', 3)\nassert r.saved, r\n"
                f"sent = SubmitView({MODULE!r}, pathlib.Path.cwd()).submit()\nassert sent.ok, sent.message\n"
            )
            return json.loads((pwd_home(users[who]) / MODULE / "answers.json").read_text())

        answers = {who: answer_and_submit(who) for who in ("a", "b")}
        # A trainee's login shell is nologin, yet a terminal in their own server is a shell (passwd works there).
        tt = deploy_doc.Terminal(hub, users["a"])
        rc, shown = tt.run("test -x /usr/bin/passwd && whoami")
        tt.close()
        assert rc == 0 and users["a"] in shown, shown
        in_terminal("trainer-grade")
        # A mark given in formgrader, and one in the course's marking record (marks.sqlite), as the trainer.
        tk = hub.kernel(users["trainer"], "course/marking.ipynb")
        tk.execute(
            "import os, sqlite3\nfrom nbgrader.api import Gradebook\n"
            "db = 'sqlite:///' + os.path.expanduser('~/course/gradebook.db')\n"
            f"with Gradebook(db, 'safeguarding-case-review') as gb:\n"
            f"    sub = gb.find_submission({MODULE!r}, {users['a']!r})\n"
            "    g = [g for nb in sub.notebooks for g in nb.grades if not g.name.startswith('score-')][0]\n"
            "    g.manual_score = 1.5\n    gb.db.commit()\n"
            "from pathlib import Path\nfrom course.grading.marks import Mark, MarkBook, fingerprint\n"
            "with MarkBook(Path('~/course').expanduser(), Path(os.environ['COURSE_DATA'])) as book:\n"
            f"    book.record(Mark({users['b']!r}, {MODULE!r}, 'trainer', {{'hindsight': 1, 'design': 1}}, 'Good.', "
            "fingerprint('')))\n"
        )
        in_terminal("trainer-feedback")
        term.close()
        course = pwd_home(users["trainer"]) / "course"
        marks = gradebook(course / "gradebook.db")
        assert marks[(users["a"], "score-d-practice-printer")][0] == 2.0
        assert marks[(users["b"], "score-d-practice-printer")][0] == 0.0
        assert 1.5 in [manual for (who, _), (_, manual) in marks.items() if who == users["a"]]
        for who in ("a", "b"):
            assert (course / "feedback" / users[who] / MODULE / f"{MODULE}.html").exists()

        # --- upgrade keeps every setting the administrator made -------------------------------------------
        settings_file = doc.prefix / "etc" / "course-hub.json"
        mine = {"hub_admins": [], "mem_limit": "2G", "cull_idle_after_s": 1800, "site_note": "kept"}
        settings_file.write_text(json.dumps(json.loads(settings_file.read_text()) | mine, indent=2))
        before_local = local.read_text()
        doc.sh(by_name["upgrade"])
        after = json.loads(settings_file.read_text())
        assert {k: after.get(k) for k in mine} == mine
        assert after["ssl_cert"] == str(doc.tls / "hub.pem") and after["bind_url"] == f"https://127.0.0.1:{doc.port}"
        assert local.read_text() == before_local

        # --- a password reset, and the new one works; stopping one trainee's server ------------------------
        doc.sh(by_name["password"])
        new_password = deploy_doc.first_passwords(base / "first-passwords.csv")[users["a"]]
        assert new_password != passwords[users["a"]]
        hub.api("DELETE", f"/users/{users['a']}/server", accept=(202, 204))  # signed out, server stopped
        with browser.tab(ignore_https_errors=True) as tab:
            deploy_doc.login(tab, hub.url, users["a"], new_password)
        # --- before a session: every trainee's server started at once, the trainer's not ------------------
        for who in ("a", "b"):
            hub.api("DELETE", f"/users/{users[who]}/server", accept=(202, 204, 400))
        hub.wait_stopped([users["a"], users["b"]])
        said = doc.sh(by_name["start-servers"])
        assert "all 2 servers ready" in said, said
        for who in ("a", "b"):
            assert hub.api("GET", f"/users/{users[who]}")["servers"][""]["ready"] is True
        assert hub.user_processes(users["b"])
        doc.sh(by_name["stop-server"])
        assert not living(hub.user_processes(users["b"]))  # killed; the hub reaps its child when it polls

        # --- backup, uninstall, a fresh install and restore: nothing lost ----------------------------------
        firsts = sqlite_rows(doc.prefix / "state" / "first-answers.sqlite", "select * from first_answers")
        assert len(firsts) == 2, firsts
        inbound = sorted(p.name for p in (doc.exchange / "safeguarding-case-review" / "inbound").iterdir())
        marks_db = sqlite_rows(course / "marks.sqlite", "select * from marks")
        doc.sh(by_name["backup"])
        doc.stop_hub(hub)
        doc.sh(by_name["uninstall"])
        for name in users.values():
            assert subprocess.run(["id", name], capture_output=True).returncode != 0, f"{name} not removed"
        assert not doc.prefix.exists() and not doc.exchange.exists()
        (doc.prefix).mkdir()
        (doc.prefix / "venv").symlink_to(CACHE / f"venv-{load_setup_module().deps_key(ROOT)}")
        doc.sh(by_name["restore"])
        doc.start_hub(by_name["hub"], hub)
        for who in ("a", "b"):
            path = pwd_home(users[who]) / MODULE / "answers.json"
            assert json.loads(path.read_text()) == answers[who]
            assert path.stat().st_uid == pwd.getpwnam(users[who]).pw_uid
            assert pwd.getpwnam(users[who]).pw_shell == "/usr/sbin/nologin"
        assert gradebook(course / "gradebook.db") == marks
        assert sqlite_rows(course / "marks.sqlite", "select * from marks") == marks_db
        assert sorted(p.name for p in (doc.exchange / "safeguarding-case-review" / "inbound").iterdir()) == inbound
        assert sqlite_rows(doc.prefix / "state" / "first-answers.sqlite", "select * from first_answers") == firsts
        restored = json.loads(settings_file.read_text())
        assert {k: restored.get(k) for k in mine} == mine
        assert local.read_text() == before_local
        with browser.tab(ignore_https_errors=True) as tab:  # the reset password came back with the user
            deploy_doc.login(tab, hub.url, users["a"], new_password)
        hub.spawn(users["trainer"])  # the trainer's server starts from the restored install, tools on PATH
        term = deploy_doc.Terminal(hub, users["trainer"])
        rc, shown = term.run("cd ~/course && nbgrader list --inbound")
        term.close()
        assert rc == 0 and MODULE in shown, shown
        doc.timings["whole test"] = round(time.monotonic() - t_all, 1)
        print("\ndeploy doc timings (s):", json.dumps(doc.timings, indent=1))
    finally:
        if browser is not None:
            with contextlib.suppress(Exception):
                browser.close()
        failing = sys.exc_info()[0] is not None
        problems = _cleanup(hub, base, list(users.values()), [f"{tag}-graders", f"{tag}-trainees"])
        if problems and not failing:
            raise AssertionError(f"cleanup: {problems}")


def pwd_home(name: str) -> Path:
    return Path(pwd.getpwnam(name).pw_dir)


def living(processes: list) -> list:
    import psutil

    out = []
    for p in processes:
        with contextlib.suppress(psutil.Error):
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
    return out


def hub_children(hub: Hub) -> list:
    import psutil

    with contextlib.suppress(psutil.Error):
        return psutil.Process(hub.proc.pid).children(recursive=True)
    return []
