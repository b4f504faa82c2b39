"""Record a trainee's first answer with the hub's first-answers service (course.apps.first_answers_service),
where the trainee cannot change it afterwards, and read one's own first answers back.

On the multi-user server each user's server, and so each kernel, has the address of the service in
COURSE_FIRST_ANSWERS_URL (set by deploy/jupyterhub/jupyterhub_config.py) and the user's hub token in
JUPYTERHUB_API_TOKEN (set by JupyterHub). Elsewhere (a laptop, `course lab`) there is no service:
`available()` is False and the calls raise FirstAnswersError saying so.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

URL_ENV = "COURSE_FIRST_ANSWERS_URL"
TOKEN_ENV = "JUPYTERHUB_API_TOKEN"


class FirstAnswersError(Exception):
    """The service could not be reached or refused the request; the message says why."""


@dataclass(frozen=True)
class FirstAnswer:
    module: str
    decision: str
    answer: dict
    recorded_at: str  # ISO time, by the service's clock
    recorded_now: bool  # False: a first answer was already recorded, and this is that one, unchanged


def available(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get(URL_ENV) and env.get(TOKEN_ENV))


def _request(method: str, path: str, body: dict | None, env: Mapping[str, str] | None, timeout: float):
    env = os.environ if env is None else env
    if not available(env):
        raise FirstAnswersError(f"no first-answers service here ({URL_ENV} and {TOKEN_ENV} are not both set)")
    url = env[URL_ENV].rstrip("/") + "/" + path
    req = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode("utf-8"),
        method=method,
        headers={"Authorization": f"token {env[TOKEN_ENV]}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except ValueError:
            return e.code, None
    except (OSError, ValueError) as e:
        raise FirstAnswersError(f"the first-answers service at {env[URL_ENV]} did not answer ({e})") from None


def _path(module: str, decision: str) -> str:
    return "api/answers/" + "/".join(urllib.parse.quote(x, safe="") for x in (module, decision))


def _answer(data: dict, recorded_now: bool) -> FirstAnswer:
    return FirstAnswer(data["module"], data["decision"], data["answer"], data["recorded_at"], recorded_now)


def _refused(status: int, data) -> FirstAnswersError:
    message = data.get("message") if isinstance(data, dict) else None
    return FirstAnswersError(f"the first-answers service refused the request ({status}: {message or 'no reason'})")


def record_first_answer(
    module: str, decision: str, answer: dict, env: Mapping[str, str] | None = None, timeout: float = 10
) -> FirstAnswer:
    """Record this user's first answer to a decision. If one is already recorded, it is kept and returned
    (recorded_now False): a first answer is never replaced."""
    status, data = _request("POST", _path(module, decision), {"answer": answer}, env, timeout)
    if status in (201, 409) and isinstance(data, dict):
        return _answer(data, status == 201)
    raise _refused(status, data)


def first_answer(module: str, decision: str, env: Mapping[str, str] | None = None, timeout: float = 10):
    """This user's recorded first answer to a decision, or None."""
    status, data = _request("GET", _path(module, decision), None, env, timeout)
    if status == 404:
        return None
    if status == 200 and isinstance(data, dict):
        return _answer(data, False)
    raise _refused(status, data)


def first_answers(env: Mapping[str, str] | None = None, timeout: float = 10) -> list[FirstAnswer]:
    """Every first answer this user has recorded, oldest first."""
    status, data = _request("GET", "api/answers", None, env, timeout)
    if status == 200 and isinstance(data, dict):
        return [_answer(a, False) for a in data.get("answers", [])]
    raise _refused(status, data)


# ------------------------------------------------------------------------------ the trainer's side: compare
COMPARED = ("choice", "rationale", "confidence", "submitted_at")  # what a first answer says, and when


@dataclass(frozen=True)
class RecordedFirst:
    user: str
    module: str
    decision: str
    answer: dict
    recorded_at: str


def cohort_first_answers(
    module: str | None = None, env: Mapping[str, str] | None = None, timeout: float = 30
) -> dict[tuple[str, str, str], RecordedFirst]:
    """Every trainee's first answers as the service recorded them, (user, module, decision) -> record.
    Only a trainer may ask: anyone else gets FirstAnswersError."""
    path = "api/cohort" + (f"?module={urllib.parse.quote(module, safe='')}" if module else "")
    status, data = _request("GET", path, None, env, timeout)
    if status == 200 and isinstance(data, dict):
        out = {}
        for a in data.get("answers", []):
            r = RecordedFirst(a["user"], a["module"], a["decision"], a["answer"], a["recorded_at"])
            out[(r.user, r.module, r.decision)] = r
        return out
    raise _refused(status, data)


def _said(record: Mapping | None) -> dict:
    return {k: record.get(k) for k in COMPARED if k in record} if record else {}


def first_answer_differences(
    trainee: str,
    module: str,
    firsts: Mapping[str, Mapping | None],
    recorded: Mapping[tuple[str, str, str], RecordedFirst],
) -> list[str]:
    """What differs between the first answers a trainee's answers.json holds for a module (decision id ->
    first answer) and those the hub's service recorded when the trainee gave them, in plain words for the
    trainer. A first answer the service never recorded is named too (the page could not reach it, or the file
    was written by hand)."""
    out = []
    mine = {d for (u, m, d) in recorded if u == trainee and m == module}
    for decision in sorted(set(firsts) | mine):
        have = _said(firsts.get(decision))
        kept = recorded.get((trainee, module, decision))
        if kept is None:
            if have:
                out.append(
                    f"decision {decision!r}: answers.json has a first answer the hub never recorded "
                    "(the page could not reach the hub's record then, or the file was written by hand)"
                )
            continue
        if not have:
            out.append(
                f"decision {decision!r}: the hub recorded a first answer at {kept.recorded_at} that answers.json "
                "does not have"
            )
            continue
        changed = [k for k in COMPARED if have.get(k) != kept.answer.get(k)]
        if changed:
            out.append(
                f"decision {decision!r}: answers.json's first answer differs from the one the hub recorded at "
                f"{kept.recorded_at} ({', '.join(changed)})"
            )
    return out
