"""A trainee arriving at the hub without a browser: a client of their own (cookies only), the hub's login form,
the hub's progress stream while their server starts, then their own server's address until it answers with the
course home (a page of the trainee's own server: course/apps/home_page.py). Used by the hub tests
and by bench/bench_hub_room.py, where thirty of them arrive at once."""

from __future__ import annotations

import http.cookiejar
import time
import urllib.error
import urllib.parse
import urllib.request

HOME_URL = "/course/home"  # where the hub sends a trainee (jupyterhub_config.py: TRAINEE_HOME)
HOME_MARK = 'class="course-view course-home"'  # the home's own markup, in the page once it is made


def log_in_until_home(hub_url: str, user: str, timeout_s: float = 600, reloads: list[str] | None = None) -> float:
    """Seconds from the login form's submission to the trainee's course home, run, in their own server. An error
    page in its place (the server's, when the home could not be made) is reloaded, as a person would, and the
    trainee's name appended to `reloads`."""
    jar = http.cookiejar.CookieJar()
    client = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    client.open(f"{hub_url}/hub/login", timeout=60).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    form = urllib.parse.urlencode({"username": user, "password": "any", "_xsrf": xsrf}).encode()
    t0 = time.monotonic()
    client.open(f"{hub_url}/hub/login", data=form, timeout=120).read()  # the hub starts the server
    wait_until_ready(client, hub_url, user, xsrf, timeout_s)
    while time.monotonic() - t0 < timeout_s:
        try:
            with client.open(f"{hub_url}/user/{user}/", timeout=300) as r:
                body, url = r.read().decode("utf-8", errors="replace"), r.geturl()
            if HOME_URL in url and HOME_MARK in body:
                return time.monotonic() - t0
            if HOME_URL in url and reloads is not None:
                reloads.append(user)
        except (urllib.error.URLError, OSError):
            pass  # the server is not there yet (the proxy has no route, or it refused)
        time.sleep(1.0)
    raise TimeoutError(f"{user}: no course home after {timeout_s:.0f} s")


def wait_until_ready(client, hub_url: str, user: str, xsrf: str, timeout_s: float) -> None:
    """Follow the hub's progress stream for the trainee's server until it is ready, as the browser's "your server
    is starting" page does (an event stream), rather than asking again and again: 30 clients asking twice a
    second would keep the hub itself busy, which a room of browsers does not do."""
    url = f"{hub_url}/hub/api/users/{user}/server/progress?_xsrf={urllib.parse.quote(xsrf)}"
    try:
        with client.open(url, timeout=timeout_s) as stream:
            for raw in stream:
                line = raw.decode("utf-8", errors="replace").strip()
                if line.startswith("data:") and ('"ready": true' in line or '"failed": true' in line):
                    return
    except (urllib.error.URLError, OSError):
        pass  # no stream (the server was already running, or the hub refused it): the home is asked for below
