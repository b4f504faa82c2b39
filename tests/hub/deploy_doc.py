"""The commands of docs/deploy.md and docs/operations.md, as the deploy test runs them.

A fenced block right after `<!-- deploy-test: NAME -->` is one the test runs, in the order of the pages
(deploy.md first). The test runs them as written, with these names replaced (so that the test's users,
folders and ports cannot collide with a real install on the machine):

    /opt/course-hub, /srv/nbgrader/exchange, /srv/course-src (the checkout under test), /etc/course-hub/tls,
    /root/staff.csv, /root/first-passwords.csv, /root/course-backup.tar.gz, t.jones, a.khan, b.osei

and setup.py's defaults for what the commands leave out given through its environment variables
(COURSE_HUB_PREFIX, COURSE_HUB_EXCHANGE, COURSE_HUB_GROUP_PREFIX, COURSE_HUB_BIND_URL: 127.0.0.1 and a free
port, so the test's hub never faces the network).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from tests.paths import ROOT

DOCS = (ROOT / "docs" / "deploy.md", ROOT / "docs" / "operations.md")
MARK = re.compile(r"<!-- deploy-test: ([a-z0-9.-]+) -->\s*\n```[a-z]*\n(.*?)\n```", re.DOTALL)
# The steps, in the order the pages must give them (the test's own checks run between them).
STEPS = (
    "packages",
    "tls",
    "install",
    "staff.csv",
    "users",
    "hub",
    "trainer-release",
    "trainer-grade",
    "trainer-feedback",
    "upgrade",
    "password",
    "start-servers",
    "stop-server",
    "backup",
    "uninstall",
    "restore",
)
DOC_USERS = {"trainer": "t.jones", "a": "a.khan", "b": "b.osei"}


@dataclass(frozen=True)
class Block:
    doc: str
    name: str
    text: str

    def commands(self) -> list[str]:
        """One command per line, a line ending in a backslash joined with the next; comments and blanks left out."""
        joined = re.sub(r"\\\n\s*", " ", self.text)
        return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def blocks() -> list[Block]:
    found = []
    for doc in DOCS:
        for m in MARK.finditer(doc.read_text(encoding="utf-8")):
            found.append(Block(doc.name, m.group(1), m.group(2)))
    return found


def all_fenced_commands() -> list[str]:
    """Every line of every fenced block of the two pages (tested or not), for the checks that hold for all."""
    lines = []
    for doc in DOCS:
        for m in re.finditer(r"```[a-z]*\n(.*?)\n```", doc.read_text(encoding="utf-8"), re.DOTALL):
            lines += re.sub(r"\\\n\s*", " ", m.group(1)).splitlines()
    return lines


def substitute(text: str, names: dict[str, str]) -> str:
    # Longest first, so /opt/course-hub/etc is not half-replaced by a shorter name.
    for old in sorted(names, key=len, reverse=True):
        text = text.replace(old, names[old])
    return text


class Terminal:
    """A JupyterLab terminal in a user's own server (the terminals API and its websocket, through the hub):
    what the user gets from File > New > Terminal, a login shell."""

    def __init__(self, hub, user: str):
        import websocket

        self.hub, self.user = hub, user
        self.name = hub.server_api(user, "POST", "/api/terminals")["name"]
        self.ws = websocket.create_connection(
            f"{hub.ws_url}/user/{user}/terminals/websocket/{self.name}",
            header=[f"Authorization: token {hub.token}"],
            timeout=30,
            **hub.ws_options,
        )
        self.count = 0
        self.transcript = ""

    def run(self, command: str, timeout: float = 300) -> tuple[int, str]:
        """Type a command and Enter; its exit status (echoed after it) and what the terminal showed."""
        self.count += 1
        marker = re.compile(rf"__rc=(\d+)__{self.count}__")
        self.ws.send(json.dumps(["stdin", f'{command}; echo "__rc=$?__{self.count}__"\r']))
        seen = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(1.0, deadline - time.monotonic()))
            msg = json.loads(self.ws.recv())
            if msg[0] == "stdout":
                seen += msg[1]
                found = marker.search(seen)
                if found:
                    self.transcript += seen
                    return int(found.group(1)), seen
        raise AssertionError(f"{self.user}'s terminal: {command!r} did not finish in {timeout} s:\n{seen[-3000:]}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        with contextlib.suppress(Exception):
            self.hub.server_api(self.user, "DELETE", f"/api/terminals/{self.name}")


def login(tab, url: str, user: str, password: str) -> None:
    """Sign in on the hub's login page as a person would, and wait for their own server's page."""
    page = tab.page
    page.goto(f"{url}/hub/login", wait_until="domcontentloaded")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{re.escape(user)}/"), timeout=120_000)


def first_passwords(path: Path) -> dict[str, str]:
    """The newest password given to each user in a first-passwords file (name,password lines)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, password = line.partition(",")
        out[name] = password
    return out
