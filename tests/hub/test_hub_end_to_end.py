"""Many trainees on a real JupyterHub: release, fetch, answer, submit, collect, autograde, feedback; isolation.

Everything a user does runs in that user's own single-user server, started through the hub: the test drives a
kernel in each server over the hub's proxy (sessions API + kernel websocket), and the nbgrader commands run from
that kernel as that system user. Skipped, with the reason, where it cannot run (not root, no useradd, no node or
configurable-http-proxy); CI runs it as root.
"""

from __future__ import annotations

import contextlib
import grp
import json
import pwd
import re
import signal
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from tests.hub.conftest import missing_for_hub, running_hub
from tests.paths import ROOT

_missing = missing_for_hub()
pytestmark = [
    pytest.mark.hub,
    pytest.mark.slow,
    pytest.mark.skipif(_missing is not None, reason=f"JupyterHub test: {_missing}"),
]

COURSE = "safeguarding-case-review"
TIME_LIMIT_S = 300  # the whole flow, once the hub is up; cleanup still runs when it trips


@contextlib.contextmanager
def time_limit(seconds: int):
    def trip(signum, frame):
        raise TimeoutError(f"the hub test took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, trip)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# A real module of the course, and for each trainee the answers they record in order. b's second answer to
# d-overdose-referral is a change after the reveal: kept as a revision, never graded.
MODULE = "m01-early-years"
ANSWERS = {
    "a": [("d-overdose-referral", "safety-first"), ("d-core-assessment-2009", ["history", "verify"])],
    "b": [
        ("d-overdose-referral", "record-nfa"),
        ("d-core-assessment-2009", ["support-close"]),
        ("d-overdose-referral", "safety-first"),
    ],
}


def expected_scores(case) -> dict[str, dict[str, float]]:
    """Points per graded cell: the FIRST answer to each decision, scored by the course's own rules; 0 if unanswered."""
    out = {}
    for who, answers in ANSWERS.items():
        first = {}
        for did, choice in answers:
            first.setdefault(did, choice)
        out[who] = {
            f"score-{d.id}": float(d.score(first[d.id])) if d.id in first else 0.0 for d in case.decisions_in(MODULE)
        }
    return out


def firsts_of(who: str) -> dict:
    firsts: dict = {}
    for decision, choice in ANSWERS[who]:
        firsts.setdefault(decision, choice)
    return firsts


def trainee_logs_in_to_the_course_home_and_opens_the_module(hub, user: str, answered: int, total: int) -> None:
    """Chromium: the hub's login form, the course home (not JupyterLab) with the module's progress and modules not
    yet released named without a link, the module page from the home's link with the recorded answers and the
    review, and the page's Submit button running nbgrader's exchange submit as the trainee."""
    from tests.browser import harness
    from tests.hub import hub_pages

    missing = harness.missing_requirements()
    assert not missing, "the hub test drives a trainee's login in Chromium: " + "; ".join(missing)
    browser = harness.Browser()
    try:
        with browser.tab() as tab:
            hub_pages.log_in(tab, hub.url, user)
            hub_pages.wait_home_interactive(tab)
            page = tab.page
            assert hub_pages.TRAINEE_HOME.search(page.url), page.url
            home = page.locator(".course-home").inner_text()
            assert f"{answered} of {total} decisions answered" in home, home
            assert "Not available to you yet" in home and "Samaritans" in home
            assert (
                page.locator(".jp-Notebook-cell .jp-InputArea:visible, .jp-MenuBar, #jp-main-dock-panel").count() == 0
            )
            tab.screenshot("hub-trainee-home", full_page=True)
            hub_pages.open_module_from_home(tab, MODULE)
            back = page.get_by_role("navigation", name="Course").get_by_role("link", name="Course home")
            assert back.get_attribute("href") == f"/user/{user}/course/home"  # under the trainee's own server
            reviews = page.locator(f".course-decision section[aria-label='{harness.REVIEW_LABEL}']")
            harness.expect(reviews).to_have_count(answered, timeout=30_000)
            submit = page.get_by_role("button", name="Submit this module to your trainer")
            submit.focus()
            page.keyboard.press("Enter")
            page.get_by_text(re.compile(r"^Submitted .*your decisions and your reflection")).wait_for(timeout=90_000)
            tab.screenshot(f"hub-trainee-{MODULE}-submitted", full_page=False)
            assert tab.blocked == [], tab.blocked
            assert hub_pages.page_errors(tab) == []
    finally:
        browser.close()
    # The pages' kernels (the home's, the module's) outlive the closed pages until the server culls them (15 idle
    # minutes, course/apps/pages.py); stopped here, so that they do not slow the hub's shutdown at the end.
    ours = {k.kernel_id for k in hub.kernels if k.user == user}
    for k in hub.server_api(user, "GET", "/api/kernels"):
        if k["id"] not in ours:
            hub.server_api(user, "DELETE", f"/api/kernels/{k['id']}", accept=(204, 404))


class Phases:
    """Wall-clock seconds per phase of the flow, for docs/deploy.md."""

    def __init__(self, into: dict):
        self.times = into.setdefault("phases_s", {})
        self.t = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.times[name] = round(now - self.t, 1)
        self.t = now


def last_line_json(text: str):
    return json.loads(text.strip().splitlines()[-1])


def rss_mb(proc) -> float:
    return round(proc.memory_info().rss / 2**20, 1)


def test_trainer_and_two_trainees_run_the_exchange_through_their_own_servers_and_stay_isolated():
    from course.core.pack import load_case

    case = load_case(ROOT / "data")
    expected = expected_scores(case)
    assert expected["a"] != expected["b"]  # the scores tell the two trainees' work apart
    with running_hub(ROOT / "data", ROOT / "notebooks") as hub, time_limit(TIME_LIMIT_S):
        users = hub.users
        trainer, trainees = users["trainer"], [k for k in users if k != "trainer"]
        home = {who: Path(pwd.getpwnam(name).pw_dir) for who, name in users.items()}
        m = hub.measurements
        phase = Phases(m)

        # --- each person gets their own server, through the hub ------------------------------------------------
        ready = hub.spawn_all(list(users.values()))
        m["spawn_s_all_at_once"] = {who: ready[users[who]] for who in users}
        m["idle_server_rss_mb"] = {who: rss_mb(hub.server_process(users[who])) for who in users}
        m["server_start_cpu_s"] = {who: round(sum(hub.server_process(users[who]).cpu_times()[:2]), 2) for who in users}
        m["hub_and_proxy_rss_mb"] = hub.hub_and_proxy_rss_mb()
        for who in users:
            assert hub.server_process(users[who]).username() == users[who]

        phase.done("spawn 3 servers")

        # The trainer has formgrader; trainees' servers run without it.
        assert hub.status_of(trainer, "/formgrader") == 200
        for who in trainees:
            assert hub.status_of(users[who], "/formgrader") == 404
            assert "@jupyter/nbgrader:formgrader" in hub.lab_page_config(users[who])["disabledExtensions"]
        # The trainer keeps nbgrader's tools; formgrader opens from the Marking menu in a tab of its own, so
        # nbgrader's iframe entry is left out (tests/hub/test_hub_deploy_doc.py clicks it in the browser).
        trainer_disabled = hub.lab_page_config(trainer)["disabledExtensions"]
        assert "@jupyter/nbgrader:create-assignment" not in trainer_disabled
        assert "@jupyter/nbgrader:formgrader" in trainer_disabled
        # Trainees' JupyterLab leaves the arrow keys to the course's option buttons and drop-downs.
        from course.apps.lab import trainee_lab_settings

        ours = trainee_lab_settings()["@jupyterlab/shortcuts-extension:shortcuts"]["shortcuts"]
        assert len(ours) > 20
        for who in trainees:
            assert hub.lab_shortcut_defaults(users[who]) == ours
        assert hub.lab_shortcut_defaults(trainer) != ours

        # --- the trainer releases the module ----------------------------------------------------------------
        tk = hub.kernel(trainer, "course/trainer.ipynb")
        out = tk.sh(
            [
                "course",
                "release",
                "--course-dir",
                ".",
                "--notebooks",
                str(hub.prefix / "share" / "notebooks"),
                "--module",
                MODULE,
            ],
            cwd="~/course",
        )
        assert "Traceback" not in out["out"] + out["err"]
        tk.sh(["nbgrader", "release_assignment", MODULE], cwd="~/course")
        outbound = hub.exchange / COURSE / "outbound" / MODULE
        assert (outbound / f"{MODULE}.ipynb").exists()
        assert stat.S_IMODE(hub.exchange.stat().st_mode) == 0o1777  # release kept our sticky bit
        assert "BEGIN HIDDEN TESTS" not in (outbound / f"{MODULE}.ipynb").read_text()
        phase.done("course release (with validation) + release_assignment")

        # --- each trainee fetches, answers in their own kernel, and submits ---------------------------------
        def fetch_answer_submit(who: str):
            k = hub.kernel(users[who], "trainee.ipynb")
            k.sh(["nbgrader", "fetch_assignment", MODULE])
            nk = hub.kernel(users[who], f"{MODULE}/{MODULE}.ipynb")  # the module notebook's kernel: cwd = its folder
            nk.execute(
                "from course.store import AnswerStore\nfrom course.core.pack import load_case\n"
                "store = AnswerStore(case=load_case())\n"
            )
            kinds = []
            for decision, choice in ANSWERS[who]:
                rec = json.loads(
                    nk.execute(
                        f"r = store.record({decision!r}, {choice!r}, 'What the records already showed.', 3)\n"
                        "print(_j.dumps({'kind': r.kind, 'saved': r.saved, 'path': str(store.path)}))"
                    )
                    .strip()
                    .splitlines()[-1]
                )
                assert rec["saved"], rec
                kinds.append(rec["kind"])
            assert kinds.count("revision") == len(ANSWERS[who]) - len({d for d, _ in ANSWERS[who]})
            answers = Path(rec["path"])
            assert answers == home[who] / MODULE / "answers.json"
            # written by the trainee's own server, as that system user
            assert answers.stat().st_uid == hub.server_process(users[who]).uids().real
            # Each first answer is also kept by the hub's first-answers service, where the trainee cannot change it.
            kept = json.loads(
                nk.execute(
                    "from course.store import hub as _fa\n"
                    "print(_j.dumps({a.decision: a.answer['choice'] for a in _fa.first_answers()}))"
                )
                .strip()
                .splitlines()[-1]
            )
            firsts: dict = {}
            for decision, choice in ANSWERS[who]:
                firsts.setdefault(decision, choice)
            assert kept == firsts, (who, kept)
            if who == "a":
                # a rewrites the reason for a first answer in their own answers.json before submitting: the hub's
                # record still has what a gave at the time, and `course grade` will show the trainer the difference.
                nk.execute(
                    "p = store.path\ndoc = _j.loads(p.read_text())\n"
                    "doc['decisions']['d-overdose-referral']['first']['rationale'] = 'Written afterwards.'\n"
                    "p.write_text(_j.dumps(doc))"
                )
            # Submitted from the module page's own button code, as the trainee, in the module's kernel.
            sent = json.loads(
                nk.execute(
                    "import pathlib\nfrom course.widgets.submit import SubmitView, on_shared_server\n"
                    f"view = SubmitView({MODULE!r}, pathlib.Path.cwd())\nr = view.submit()\n"
                    "print(_j.dumps({'hub': on_shared_server(), 'ok': r.ok, 'message': r.message}))"
                )
                .strip()
                .splitlines()[-1]
            )
            assert sent["hub"] and sent["ok"], sent
            return k, nk

        # The trainees work at the same time, as in a session.
        with ThreadPoolExecutor(len(trainees)) as pool:
            kernels = dict(zip(trainees, pool.map(fetch_answer_submit, trainees), strict=True))
        phase.done("2 trainees: fetch, answer, submit")

        # --- in a browser: a trainee logs in and lands on the course home, opens the module from it, submits -------
        trainee_logs_in_to_the_course_home_and_opens_the_module(
            hub, users["a"], answered=len(firsts_of("a")), total=len(case.decisions_in(MODULE))
        )
        # A trainer lands in JupyterLab (formgrader and the nbgrader tools), not on the trainee pages.
        trainer_browser = hub.login(trainer)
        status, body = hub.get_as(trainer_browser, f"/user/{trainer}/")
        assert status == 200 and '"appName": "JupyterLab"' in body and "course-trainee" not in body
        phase.done("trainee a in Chromium: login, course home, module page, submit; trainer lands in JupyterLab")

        # Working set: the module notebook's kernel with the course's views built (as Run All does), next to
        # the kernel of an otherwise idle notebook.
        m["working_rss_mb"] = {}
        for who in trainees:
            k, nk = kernels[who]
            nk.execute(
                f"from course.notebook import open_module\nmod = open_module({MODULE!r})\n"
                "views = [mod.intro(), mod.lens(), mod.timeline(), mod.summary()]\n"
            )
            m["working_rss_mb"][who] = {
                "server": rss_mb(hub.server_process(users[who])),
                "module_kernel": rss_mb(psutil.Process(nk.pid())),
                "idle_kernel": rss_mb(psutil.Process(k.pid())),
            }

        phase.done("2 trainees: build the module's views")

        # --- isolation, as trainee b ------------------------------------------------------------------------
        a = users["a"]
        inbound = hub.exchange / COURSE / "inbound"
        subs = {p.name.split("+")[0]: p for p in inbound.iterdir()}
        a_sub = subs[a]
        # Our exchange keeps a submission to its owner and the graders group (nbgrader alone: 0777 / 0644).
        graders = grp.getgrnam(f"{hub.tag}-graders").gr_gid
        assert stat.S_IMODE(a_sub.stat().st_mode) == 0o770 and a_sub.stat().st_gid == graders
        for f in a_sub.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == 0o640 and f.stat().st_gid == graders, f
        targets = {
            "a_answers": str(home["a"] / MODULE / "answers.json"),
            "a_home": str(home["a"]),
            "inbound_listing": str(inbound),
            "a_submission_folder": str(a_sub),
            "a_submission_answers": str(a_sub / "answers.json"),
            "trainer_gradebook": str(home["trainer"] / "course" / "gradebook.db"),
            "trainer_course": str(home["trainer"] / "course"),
        }
        # Through the hub, logged in as b in a browser: b's own server yes, a's server (and a's answers) no.
        browser_b = hub.login(users["b"])
        status, body = hub.get_as(browser_b, f"/user/{users['b']}/api/contents/{MODULE}/answers.json")
        assert status == 200 and "d-overdose-referral" in body
        for path in (
            f"/user/{a}/api/contents/{MODULE}/answers.json",
            f"/user/{a}/lab",
            f"/user/{trainer}/formgrader",
            f"/hub/api/users/{a}",
        ):
            status, _ = hub.get_as(browser_b, path)
            assert status in (403, 404), (path, status)

        kb = kernels["b"][0]
        probe = kb.execute(
            "import json as _j, os as _os\nres = {}\n"
            f"for name, path in {targets!r}.items():\n"
            "    try:\n"
            "        _os.listdir(path) if _os.path.isdir(path) else open(path, 'rb').read(1)\n"
            "        res[name] = 'READABLE'\n"
            "    except PermissionError:\n"
            "        res[name] = 'denied'\n"
            "    except FileNotFoundError:\n"
            "        res[name] = 'not found'\n"
            "print(_j.dumps(res))"
        )
        seen = json.loads(probe.strip().splitlines()[-1])
        assert seen == dict.fromkeys(targets, "denied"), seen

        # b cannot submit in a's name with our settings ...
        forged = kb.sh(["nbgrader", "submit", MODULE, f"--student={a}"], check=False)
        assert forged["rc"] != 0 and "only submit your own work" in forged["out"] + forged["err"]
        # ... and a submission forged with nbgrader's own class is not collected as a's.
        kb.sh(
            [
                "nbgrader",
                "submit",
                MODULE,
                f"--student={a}",
                "--ExchangeFactory.submit=nbgrader.exchange.default.submit.ExchangeSubmit",
            ]
        )

        phase.done("isolation probes and forged submissions")

        # --- the trainer collects, autogrades and generates feedback ---------------------------------------
        collect = tk.sh(["nbgrader", "collect", MODULE], cwd="~/course")
        assert "claims to be from" in collect["out"] + collect["err"]
        phase.done("collect")
        graded = tk.sh(
            ["course", "grade", "--course-dir", ".", "--module", MODULE, "--no-progress"], cwd="~/course", check=False
        )
        said = graded["out"] + graded["err"]
        assert "Graded 2, skipped 0, failed 0" in said, said
        # The trainer is told that a's answers.json says something else than the hub's record, and what.
        flagged = [line for line in said.splitlines() if "first answers: decision" in line]
        assert len(flagged) == 1, said
        assert f"{a}/{MODULE}" in flagged[0] and "'d-overdose-referral'" in flagged[0] and "(rationale)" in flagged[0]
        assert graded["rc"] == 1, graded  # something needs the trainer's attention
        # The workshop report reads the same answers and names the same difference among its problems.
        seen = last_line_json(
            tk.execute(
                "import json as _j, pathlib as _p\nfrom course.core.pack import load_case\n"
                "from course.workshop.collect import collect\n"
                "col = collect(_p.Path('~/course/submitted').expanduser(), load_case())\n"
                "print(_j.dumps([p for p in col.problems if 'hub recorded' in p]))"
            )
        )
        assert len(seen) == 1 and seen[0].startswith(f"{a} {MODULE}: decision 'd-overdose-referral'"), seen
        phase.done("course grade: 2 submissions, compared with the hub's first answers")
        tk.sh(["nbgrader", "generate_feedback", MODULE], cwd="~/course")
        tk.sh(["nbgrader", "release_feedback", MODULE], cwd="~/course")
        phase.done("generate_feedback + release_feedback")
        scores = json.loads(
            tk.execute(
                "import json as _j, os as _os\nfrom nbgrader.api import Gradebook\nres = {}\n"
                f"with Gradebook('sqlite:///' + _os.path.expanduser('~/course/gradebook.db'), {COURSE!r}) as gb:\n"
                f"    for s in {[users[w] for w in trainees]!r}:\n"
                f"        sub = gb.find_submission({MODULE!r}, s)\n"
                "        res[s] = {g.name: g.score for nb in sub.notebooks for g in nb.grades if g.name.startswith('score-')}\n"
                "print(_j.dumps(res))"
            )
            .strip()
            .splitlines()[-1]
        )
        assert scores == {users[w]: expected[w] for w in trainees}, scores

        home_t = home["trainer"]
        for who in trainees:
            page = home_t / "course" / "feedback" / users[who] / MODULE / f"{MODULE}.html"
            text = page.read_text(encoding="utf-8")
            assert "BEGIN HIDDEN TESTS" not in text and ".score(" not in text
        gradebook = home_t / "course" / "gradebook.db"
        assert stat.S_IMODE(gradebook.stat().st_mode) & 0o077 == 0, oct(gradebook.stat().st_mode)

        # Each trainee fetches their own feedback (and only theirs) through their server.
        def fetch_feedback(who: str) -> list[Path]:
            kernels[who][0].sh(["nbgrader", "fetch_feedback", MODULE])
            return list((home[who] / MODULE / "feedback").rglob(f"{MODULE}.html"))

        with ThreadPoolExecutor(len(trainees)) as pool:
            for who, got in zip(trainees, pool.map(fetch_feedback, trainees), strict=True):
                assert len(got) == 1, (who, got)
        phase.done("2 trainees: fetch_feedback")
        m["users"] = len(users)
        print("\nhub measurements:", json.dumps(m, indent=1))
        out_dir = ROOT / "artifacts"
        out_dir.mkdir(exist_ok=True)
        (out_dir / "hub-measurements.json").write_text(json.dumps(m, indent=1) + "\n")
