"""The hub's first-answers service on a real JupyterHub: each trainee records and reads back only their own
first answers, from their own kernel with their server's hub token; a first answer is never overwritten;
another trainee cannot read it; trainees cannot write the service's database; the trainer lists them all."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request

import pytest

from tests.hub.conftest import missing_for_hub, running_hub
from tests.paths import ROOT

_missing = missing_for_hub()
pytestmark = [
    pytest.mark.hub,
    pytest.mark.slow,
    pytest.mark.skipif(_missing is not None, reason=f"JupyterHub test: {_missing}"),
]

CLIENT = (
    "import json as _j, os as _os, time as _t\n"
    "from course.store import hub as fa\n"
    "def _show(r):\n"
    "    print(_j.dumps(None if r is None else {'answer': r.answer, 'at': r.recorded_at, 'now': r.recorded_now}))\n"
    "for _ in range(100):  # the hub starts the service beside itself: wait until it answers\n"
    "    try:\n"
    "        fa.first_answers(); break\n"
    "    except fa.FirstAnswersError as e:\n"
    "        if 'did not answer' not in str(e):\n"
    "            break\n"
    "        _t.sleep(0.3)\n"
)


def last_json(text: str):
    return json.loads(text.strip().splitlines()[-1])


def test_trainees_record_and_read_only_their_own_first_answers_and_cannot_overwrite_them():
    with running_hub(ROOT / "data", ROOT / "notebooks") as hub:
        users = hub.users
        hub.spawn_all([users["a"], users["b"], users["trainer"]])
        ka, kb = hub.kernel(users["a"], "a.ipynb"), hub.kernel(users["b"], "b.ipynb")
        for k in (ka, kb):
            k.execute(CLIENT)
        assert last_json(ka.execute("print(_j.dumps(fa.available()))")) is True

        first = last_json(ka.execute("_show(fa.record_first_answer('m01', 'd-one', {'choice': 'refer'}))"))
        assert first["now"] is True and first["answer"] == {"choice": "refer"}
        # A second answer does not replace the first: the service returns the first, unchanged.
        again = last_json(ka.execute("_show(fa.record_first_answer('m01', 'd-one', {'choice': 'wait'}))"))
        assert again == {**first, "now": False}
        assert last_json(ka.execute("_show(fa.first_answer('m01', 'd-one'))")) == {**first, "now": False}

        # b sees none of a's, records their own, and a's stays as it was.
        assert last_json(kb.execute("_show(fa.first_answer('m01', 'd-one'))")) is None
        assert last_json(kb.execute("print(_j.dumps(len(fa.first_answers())))")) == 0
        b_first = last_json(kb.execute("_show(fa.record_first_answer('m01', 'd-one', {'choice': 'wait'}))"))
        assert b_first["now"] is True and b_first["answer"] == {"choice": "wait"}
        mine = last_json(ka.execute("print(_j.dumps([r.answer for r in fa.first_answers()]))"))
        assert mine == [{"choice": "refer"}]

        # What b cannot reach: a's token (in a's processes' environment) and the service's database.
        db = hub.prefix / "state" / "first-answers.sqlite"
        a_pid = ka.pid()
        probe = kb.execute(
            "res = {}\n"
            f"for name, path, mode in [('a_environ', '/proc/{a_pid}/environ', 'rb'), ('db', {str(db)!r}, 'r+b')]:\n"
            "    try:\n"
            "        open(path, mode).close(); res[name] = 'OPEN'\n"
            "    except PermissionError:\n"
            "        res[name] = 'denied'\n"
            "print(_j.dumps(res))"
        )
        assert last_json(probe) == {"a_environ": "denied", "db": "denied"}
        # Ids are checked; no token, or a token that is not a user's with the scope, is refused.
        bad = last_json(kb.execute("print(_j.dumps(fa._request('GET', 'api/answers/..%2F/x', None, None, 10)[0]))"))
        assert bad in (400, 404)
        url = last_json(ka.execute("print(_j.dumps(_os.environ[fa.URL_ENV]))"))
        for headers in ({}, {"Authorization": f"token {hub.token}"}):  # nobody; the test's own service token
            req = urllib.request.Request(url + "api/answers", headers=headers)
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(req, timeout=30)
            assert e.value.code == 403, headers.keys()

        # The trainer (the registry's role) lists every trainee's first answers; a trainee may not.
        kt = hub.kernel(users["trainer"], "t.ipynb")
        kt.execute(CLIENT)
        cohort = last_json(
            kt.execute("print(_j.dumps(sorted([list(k), r.answer] for k, r in fa.cohort_first_answers().items())))")
        )
        assert cohort == [
            [[users["a"], "m01", "d-one"], {"choice": "refer"}],
            [[users["b"], "m01", "d-one"], {"choice": "wait"}],
        ]
        assert last_json(kt.execute("print(_j.dumps(len(fa.cohort_first_answers('m02'))))")) == 0
        refused = last_json(
            kb.execute(
                "try:\n    fa.cohort_first_answers(); print(_j.dumps('listed'))\n"
                "except fa.FirstAnswersError as e:\n    print(_j.dumps(str(e)))"
            )
        )
        assert "403" in refused and "only a trainer" in refused, refused

        # The database holds exactly the two first answers, with the service's times.
        rows = (
            sqlite3.connect(db).execute("SELECT user, answer, recorded_at FROM first_answers ORDER BY user").fetchall()
        )
        assert rows == sorted(
            [
                (users["a"], json.dumps({"choice": "refer"}), first["at"]),
                (users["b"], json.dumps({"choice": "wait"}), b_first["at"]),
            ]
        )
        with pytest.raises(sqlite3.DatabaseError, match="never changed"):
            sqlite3.connect(db).execute("UPDATE first_answers SET answer = '{}'")
        for k in (ka, kb, kt):  # fewer kernels for the hub's shutdown to wait for
            k.close()
