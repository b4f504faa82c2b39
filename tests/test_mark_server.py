"""The marking page's server (`course mark`): nothing without the token, the token never on the command line, writes
refused without the XSRF check, the page served with a policy that runs only its own script."""

from __future__ import annotations

import http.cookiejar
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course.apps.mark import CSP
from course.apps.mark_command import start_marking
from course.apps.server import stop
from course.grading.marking import MarkingSession
from course.grading.marks import MODERATION, MarkBook
from tests.test_marking import M01, _full, course  # noqa: F401 - the hand-built graded course fixture

pytestmark = pytest.mark.slow


def _open(opener, url, data: dict | None = None, headers: dict | None = None):
    req = urllib.request.Request(
        url, data=json.dumps(data).encode() if data is not None else None, headers=headers or {}
    )
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_the_marking_server_needs_its_token_checks_xsrf_and_runs_only_its_own_script(course):  # noqa: F811
    session = MarkingSession(course, "Sam", moderate=True)
    proc, url, private = start_marking(session)
    try:
        base, token = url.split("?token=")
        assert token not in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
        plain = urllib.request.build_opener(urllib.request.HTTPRedirectHandler())
        status, _, body = _open(plain, base + "api/session")
        assert status in (302, 403) or b"queue" not in body

        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        status, headers, body = _open(browser, url)
        assert status == 200 and b"Marking reflections" in body
        assert headers["Content-Security-Policy"] == CSP
        status, _, body = _open(browser, base + "api/session")
        queue = json.loads(body)["queue"]
        assert status == 200 and queue and json.loads(body)["moderate"] is True

        t, m = queue[0]["trainee"], queue[0]["module"]
        item = json.loads(_open(browser, base + f"api/item?trainee={t}&module={m}")[2])
        mark = {
            "trainee": t,
            "module": m,
            "scores": _full(m, 1),
            "comment": "Seen.",
            "fingerprint": item["fingerprint"],
        }
        status, _, _ = _open(browser, base + "api/mark", mark, {"Content-Type": "application/json"})
        assert status == 403  # the login cookie alone does not write: no XSRF header
        xsrf = next(c.value for c in jar if c.name == "_xsrf")
        status, _, body = _open(browser, base + "api/mark", mark, {"X-XSRFToken": xsrf})
        assert status == 200, body
        status, _, body = _open(browser, base + "api/mark", {**mark, "scores": {"made-up": 1}}, {"X-XSRFToken": xsrf})
        assert status == 400 and b"no criterion made-up" in body
        with MarkBook(course) as book:
            assert [x.comment for x in book.marks(MODERATION)] == ["Seen."]
        assert M01 in {q["module"] for q in queue}
    finally:
        stop(proc)
        shutil.rmtree(private, ignore_errors=True)
