"""The hub's first-answers service: each trainee's first answer to each decision, recorded where the trainee
cannot write (a sqlite database of the service's own), when they submit it.

A JupyterHub managed service (deploy/jupyterhub/jupyterhub_config.py starts it): a caller is whoever the
hub says owns the token in `Authorization: token ...` (jupyterhub.services.auth.HubAuth), and the token
must carry the `access:services!service=course-first-answers` scope (the hub gives it to users' servers).
A user reads and records only their own answers; the first answer to a decision is never replaced.

    GET  {prefix}api/answers                       the caller's first answers
    GET  {prefix}api/answers/<module>/<decision>   one (404 if none)
    POST {prefix}api/answers/<module>/<decision>   {"answer": {...}} -> 201 recorded, 409 if one was already
                                                   (the response is then the first one, unchanged)
    GET  {prefix}api/cohort[?module=<module>]      trainers only: every trainee's first answers, for `course
                                                   grade` and `course workshop` to compare with answers.json

A trainer is whoever the course's users registry (--users-csv, the file setup.py add-users keeps) gives the
role "trainer"; it is read at each request, so a trainer added later needs no restart. Without the registry
nobody is a trainer.

Run by the hub as `python -m course.apps.first_answers_service --db PATH --users-csv PATH`; JupyterHub gives it
its address and token in the environment. The client is course.store.hub.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import signal
import sqlite3
import sys
import threading
from urllib.parse import urlsplit

SERVICE_NAME = "course-first-answers"
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")  # module and decision ids
MAX_BODY = 64 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS first_answers (
    user TEXT NOT NULL,
    module TEXT NOT NULL,
    decision TEXT NOT NULL,
    answer TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (user, module, decision)
)
"""
# A first answer is written once: no statement of this service updates or deletes one, and the database
# refuses it too, should another program try.
GUARDS = """
CREATE TRIGGER IF NOT EXISTS first_answers_no_update BEFORE UPDATE ON first_answers
BEGIN SELECT RAISE(ABORT, 'a first answer is never changed'); END;
CREATE TRIGGER IF NOT EXISTS first_answers_no_delete BEFORE DELETE ON first_answers
BEGIN SELECT RAISE(ABORT, 'a first answer is never deleted'); END;
"""


class FirstAnswers:
    """The database: one row per (user, module, decision), written once."""

    def __init__(self, path: str):
        self._lock = threading.Lock()
        old_umask = os.umask(0o077)  # the database (and its journal) is the service's alone
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(SCHEMA)
            self.db.executescript(GUARDS)
        finally:
            os.umask(old_umask)

    @staticmethod
    def _row(row) -> dict:
        _user, module, decision, answer, recorded_at = row
        return {"module": module, "decision": decision, "answer": json.loads(answer), "recorded_at": recorded_at}

    def get(self, user: str, module: str, decision: str) -> dict | None:
        with self._lock:
            row = self.db.execute(
                "SELECT * FROM first_answers WHERE user = ? AND module = ? AND decision = ?", (user, module, decision)
            ).fetchone()
        return self._row(row) if row else None

    def cohort(self, module: str | None = None) -> list[dict]:
        """Every user's first answers (each with its user), optionally of one module."""
        sql, args = "SELECT * FROM first_answers", tuple[str, ...]()
        if module:
            sql, args = sql + " WHERE module = ?", (module,)
        with self._lock:
            rows = self.db.execute(sql + " ORDER BY user, module, decision", args).fetchall()
        return [{"user": r[0], **self._row(r)} for r in rows]

    def all(self, user: str) -> list[dict]:
        with self._lock:
            rows = self.db.execute(
                "SELECT * FROM first_answers WHERE user = ? ORDER BY recorded_at, module, decision", (user,)
            ).fetchall()
        return [self._row(r) for r in rows]

    def record(self, user: str, module: str, decision: str, answer: dict) -> tuple[bool, dict]:
        """(True, the record) if this is the first answer, else (False, the first one, unchanged)."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        with self._lock:
            try:
                self.db.execute(
                    "INSERT INTO first_answers VALUES (?, ?, ?, ?, ?)",
                    (user, module, decision, json.dumps(answer, sort_keys=True), now),
                )
                created = True
            except sqlite3.IntegrityError:
                created = False
        found = self.get(user, module, decision)
        assert found is not None
        return created, found


def trainers(users_csv: str | None) -> set[str]:
    """The usernames the course's users registry gives the role "trainer" (none without a readable registry)."""
    if not users_csv:
        return set()
    try:
        with open(users_csv, newline="", encoding="utf-8") as f:
            return {r["username"] for r in csv.DictReader(f) if r.get("username") and r.get("role") == "trainer"}
    except (OSError, csv.Error, KeyError, UnicodeDecodeError):
        return set()


def make_app(store: FirstAnswers, prefix: str, users_csv: str | None = None):
    from jupyterhub.services.auth import HubAuthenticated
    from jupyterhub.utils import url_path_join
    from tornado import web

    class Answers(HubAuthenticated, web.RequestHandler):
        def initialize(self, store: FirstAnswers):
            self.store = store

        def check_xsrf_cookie(self):
            """Only token authentication is accepted (no cookies), so there is no cross-site request to stop."""

        def write_error(self, status_code, **kwargs):
            """The reason in words (the message the handler gave), not only the status's name."""
            exc = (kwargs.get("exc_info") or (None, None, None))[1]
            self.finish({"status": status_code, "message": getattr(exc, "log_message", None) or self._reason})

        def _caller(self) -> str:
            user = self.get_current_user()
            if not user or user.get("kind", "user") != "user":
                raise web.HTTPError(403, "only a hub user with this service's scope may use it")
            return user["name"]

        def _ids(self, module: str, decision: str) -> None:
            if not (ID.match(module) and ID.match(decision)):
                raise web.HTTPError(400, "module and decision ids are letters, digits, '.', '_' and '-'")

        def get(self, module: str | None = None, decision: str | None = None):
            user = self._caller()
            if module is None or decision is None:
                self.finish({"answers": self.store.all(user)})
                return
            self._ids(module, decision)
            found = self.store.get(user, module, decision)
            if found is None:
                raise web.HTTPError(404, "no first answer recorded for this decision")
            self.finish(found)

        def post(self, module: str, decision: str):
            user = self._caller()
            self._ids(module, decision)
            if len(self.request.body) > MAX_BODY:
                raise web.HTTPError(413, f"an answer is at most {MAX_BODY} bytes")
            try:
                answer = json.loads(self.request.body or b"null")["answer"]
            except (ValueError, TypeError, KeyError):
                raise web.HTTPError(400, 'send {"answer": {...}}') from None
            if not isinstance(answer, dict):
                raise web.HTTPError(400, "the answer is a JSON object")
            created, record = self.store.record(user, module, decision, answer)
            self.set_status(201 if created else 409)
            self.finish(record)

    class Cohort(Answers):
        def get(self):  # type: ignore[override]
            user = self._caller()
            if user not in trainers(users_csv):
                raise web.HTTPError(403, "only a trainer may list every trainee's first answers")
            module = self.get_argument("module", None)
            if module is not None and not ID.match(module):
                raise web.HTTPError(400, "a module id is letters, digits, '.', '_' and '-'")
            self.finish({"answers": self.store.cohort(module)})

        def post(self, *args):
            raise web.HTTPError(405)

    routes = [
        (url_path_join(prefix, r"api/cohort/?"), Cohort, {"store": store}),
        (url_path_join(prefix, r"api/answers/?"), Answers, {"store": store}),
        (url_path_join(prefix, r"api/answers/([^/]+)/([^/]+)/?"), Answers, {"store": store}),
    ]
    return web.Application(routes)


def _stop(signum, frame):
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--db", required=True, help="the sqlite database (made if missing; keep it where users cannot write)"
    )
    p.add_argument("--users-csv", help="the course's users registry: who is a trainer (may list every first answer)")
    args = p.parse_args(argv)
    url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    if not url:
        print("first-answers service: run it as a JupyterHub service (no JUPYTERHUB_SERVICE_URL)", file=sys.stderr)
        return 2
    from tornado.ioloop import IOLoop

    where = urlsplit(url)
    app = make_app(FirstAnswers(args.db), prefix, args.users_csv)
    app.listen(where.port or 80, address=where.hostname or "127.0.0.1")
    print(f"first-answers service on {url}{prefix.lstrip('/')} with {args.db}", flush=True)
    # Stop at once on the hub's SIGINT or SIGTERM, even when started with SIGINT ignored (a shell's background
    # job): the hub waits for its services when it stops, and every trainee's server waits with it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    IOLoop.current().start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
