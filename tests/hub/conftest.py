"""A real JupyterHub on 127.0.0.1 for the multi-user tests, set up with deploy/jupyterhub/setup.py.

The harness creates system users with unique names (ct + random hex), picks free ports at run time, and
always cleans up: hub, proxy, every process of the test users (by pid), the users and their homes, the
groups and the temporary folders, even when the test fails or times out.

The single-user servers run from a venv built from Debian's /usr/bin/python3 (every user can read it),
cached under $COURSE_HUB_CACHE (default /var/tmp/course-hub-cache), keyed by a hash of pyproject.toml;
the course package itself is reinstalled into it on every run.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.cookiejar
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psutil

from tests.paths import ROOT

SETUP = ROOT / "deploy" / "jupyterhub" / "setup.py"
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
SYSTEM_PYTHON = Path("/usr/bin/python3")
CACHE = Path(os.environ.get("COURSE_HUB_CACHE", "/var/tmp/course-hub-cache"))
PROFILE_D = Path(os.environ.get("COURSE_HUB_PROFILE_D", "/etc/profile.d"))
SSHD_CONFIG_D = Path(os.environ.get("COURSE_HUB_SSHD_CONFIG_D", "/etc/ssh/sshd_config.d"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def missing_for_hub() -> str | None:
    """Why the hub test cannot run here, or None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root: it creates system users and starts a JupyterHub (CI runs it as root)"
    for tool in ("useradd", "userdel", "usermod", "groupadd", "groupdel", "chpasswd"):
        if not shutil.which(tool):
            return f"{tool} is missing (Debian package passwd)"
    if not shutil.which("node"):
        return "node is missing (Debian package nodejs; .ci/system-deps installs it)"
    if not PROXY.exists():
        return f"{PROXY.relative_to(ROOT)} is missing (run `npm install` at the repository root or .ci/system-deps)"
    if not SYSTEM_PYTHON.exists():
        return "/usr/bin/python3 is missing: the servers' venv must be built from a Python every user can read"
    return None


def load_setup_module():
    spec = importlib.util.spec_from_file_location("course_hub_setup", SETUP)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout=600, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if out.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
    return out


class KernelError(AssertionError):
    pass


class Kernel:
    """A kernel in a user's own server, started through the hub (sessions API) and driven over its websocket."""

    PRELUDE = (
        "import json as _j, os as _os, subprocess as _sp\n"
        "def _run(args, cwd=None):\n"
        "    p = _sp.run(args, cwd=_os.path.expanduser(cwd or '~'), capture_output=True, text=True, timeout=200)\n"
        "    print(_j.dumps({'rc': p.returncode, 'out': p.stdout[-6000:], 'err': p.stderr[-6000:]}))\n"
    )

    def __init__(self, hub: Hub, user: str, path: str):
        import websocket

        self.hub, self.user = hub, user
        model = hub.server_api(
            user,
            "POST",
            "/api/sessions",
            {"path": path, "type": "notebook", "name": Path(path).name, "kernel": {"name": "python3"}},
        )
        self.session_id = model["id"]
        self.kernel_id = model["kernel"]["id"]
        self.session = uuid.uuid4().hex
        self._connect = websocket.create_connection
        self.execute(self.PRELUDE)

    def execute(self, code: str, timeout: float = 200) -> str:
        """Run code in the kernel and return its printed output. One websocket per call: a connection left idle
        while other users work may be closed by the server, the kernel (and its state) stays."""
        url = f"{self.hub.ws_url}/user/{self.user}/api/kernels/{self.kernel_id}/channels?session_id={self.session}"
        self.ws = self._connect(
            url, header=[f"Authorization: token {self.hub.token}"], timeout=60, **self.hub.ws_options
        )
        try:
            return self._execute(code, timeout)
        finally:
            with contextlib.suppress(Exception):
                self.ws.close()

    def _execute(self, code: str, timeout: float) -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": self.user,
                        "session": self.session,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        out, error, idle, reply = [], None, False, None
        deadline = time.monotonic() + timeout
        while not (idle and reply is not None):
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelError(
                    f"{self.user}: no answer from the kernel within {timeout} s; output so far:\n" + "".join(out)
                )
            self.ws.settimeout(left)
            raw = self.ws.recv()
            if not raw:
                raise KernelError(f"{self.user}: the kernel connection closed; output so far:\n" + "".join(out))
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "execute_result":
                out.append(content["data"].get("text/plain", "") + "\n")
            elif kind == "error":
                error = ANSI.sub("", "\n".join(content.get("traceback", [])))
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                reply = content
        if error or reply.get("status") != "ok":
            raise KernelError(f"{self.user}: the code failed in their own kernel:\n{error}\n{''.join(out)}")
        return "".join(out)

    def sh(self, args: list[str], cwd: str = "~", check: bool = True) -> dict:
        """Run a command as this user, from their kernel (so with their server's environment)."""
        text = self.execute(f"_run({args!r}, cwd={cwd!r})")
        result = json.loads(text.strip().splitlines()[-1])
        if check and result["rc"] != 0:
            raise KernelError(f"{self.user}: {' '.join(args)} exited {result['rc']}:\n{result['out']}\n{result['err']}")
        return result

    def pid(self) -> int | None:
        for proc in self.hub.user_processes(self.user):
            with contextlib.suppress(psutil.Error):
                if self.kernel_id in " ".join(proc.cmdline()):
                    return proc.pid
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.hub.server_api(self.user, "DELETE", f"/api/sessions/{self.session_id}")


class Hub:
    def __init__(self, base: Path, tag: str, users: dict[str, str], venv: Path):
        self.base, self.tag, self.users, self.venv = base, tag, users, venv
        self.prefix = base / "hub"
        self.exchange = base / "exchange"
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.token = secrets.token_hex(32)
        self.proc: subprocess.Popen | None = None
        self.log_path = base / "jupyterhub.log"
        self.measurements: dict = {}
        self.kernels: list[Kernel] = []
        self.ssl_context = None  # an ssl.SSLContext trusting the hub's certificate, when it serves https

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1)

    @property
    def ws_options(self) -> dict:
        return {"sslopt": {"context": self.ssl_context}} if self.ssl_context else {}

    def _request(self, method: str, url: str, body=None, timeout: float = 30, accept=(200, 201, 202, 204)):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if accept is not None and status not in accept:
            raise AssertionError(f"{method} {url} -> {status}: {raw[:500]!r}")
        return status, raw

    def api(self, method: str, path: str, body=None, **kw):
        _, raw = self._request(method, f"{self.url}/hub/api{path}", body, **kw)
        return json.loads(raw) if raw else None

    def server_api(self, user: str, method: str, path: str, body=None, **kw):
        _, raw = self._request(method, f"{self.url}/user/{user}{path}", body, **kw)
        return json.loads(raw) if raw else None

    def text_of(self, user: str, path: str) -> str:
        _, raw = self._request("GET", f"{self.url}/user/{user}{path}")
        return raw.decode("utf-8", errors="replace")

    def login(self, user: str, password: str = "not-checked-by-the-dummy-authenticator"):
        """A browser session: the hub's login form (with its XSRF cookie), then cookies only, no token."""
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        browser.open(f"{self.url}/hub/login", timeout=30).read()
        xsrf = next(c.value for c in jar if c.name == "_xsrf")
        form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode()
        browser.open(f"{self.url}/hub/login", data=form, timeout=60).read()
        assert any(c.name == "jupyterhub-session-id" for c in jar), [c.name for c in jar]
        return browser

    def get_as(self, browser, path: str) -> tuple[int, str]:
        """GET a hub or server path with a browser session; redirects (the OAuth dance) are followed."""
        try:
            with browser.open(f"{self.url}{path}", timeout=60) as r:
                return r.status, r.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", errors="replace")

    def lab_page_config(self, user: str) -> dict:
        """The page configuration JupyterLab serves to this user (what its front end loads)."""
        page = self.text_of(user, "/lab")
        found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.DOTALL)
        assert found, page[:500]
        return json.loads(found.group(1))

    def lab_shortcut_defaults(self, user: str) -> list[dict]:
        """The default keyboard shortcuts this user's JupyterLab serves (site overrides applied)."""
        plugin = json.loads(self.text_of(user, "/lab/api/settings/@jupyterlab/shortcuts-extension:shortcuts"))
        return plugin["schema"]["properties"]["shortcuts"].get("default", [])

    def status_of(self, user: str, path: str) -> int:
        status, _ = self._request("GET", f"{self.url}/user/{user}{path}", accept=None)
        return status

    def log_tail(self, n: int = 60) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def start(self, timeout: float = 60) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "VIRTUAL_ENV", "COURSE_"))}
        env["PATH"] = f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"
        env["COURSE_HUB_SETTINGS"] = str(self.prefix / "etc" / "course-hub.json")
        log = open(self.log_path, "ab")  # noqa: SIM115 (the hub writes to it until stop() closes it)
        self.proc = subprocess.Popen(
            [str(self.venv / "bin" / "jupyterhub"), "-f", str(self.prefix / "etc" / "jupyterhub_config.py")],
            cwd=self.prefix / "state",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"jupyterhub exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, AssertionError):
                if self.api("GET", "/", timeout=2) is not None:
                    return
            time.sleep(0.3)
        raise AssertionError(f"jupyterhub did not answer within {timeout} s:\n{self.log_tail()}")

    def spawn(self, user: str, timeout: float = 120) -> float:
        """Start a user's server through the hub; returns seconds until the hub reports it ready."""
        t0 = time.monotonic()
        self.api("POST", f"/users/{user}/server", accept=(201, 202))
        while time.monotonic() - t0 < timeout:
            model = self.api("GET", f"/users/{user}")
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - t0
            time.sleep(0.2)
        raise AssertionError(f"{user}'s server was not ready within {timeout} s:\n{self.log_tail()}")

    def spawn_all(self, users: list[str], timeout: float = 120) -> dict[str, float]:
        """Ask the hub for everyone's server at once (as at the start of a session); seconds until each is ready."""
        t0 = time.monotonic()
        for user in users:
            self.api("POST", f"/users/{user}/server", accept=(201, 202))
        ready: dict[str, float] = {}
        while len(ready) < len(users):
            if time.monotonic() - t0 > timeout:
                raise AssertionError(
                    f"servers not ready within {timeout} s: {sorted(set(users) - set(ready))}\n" + self.log_tail()
                )
            for user in users:
                if user not in ready:
                    server = (self.api("GET", f"/users/{user}").get("servers") or {}).get("")
                    if server and server.get("ready"):
                        ready[user] = round(time.monotonic() - t0, 2)
            time.sleep(0.2)
        return ready

    def user_processes(self, user: str) -> list[psutil.Process]:
        procs = []
        for p in psutil.process_iter(["username"]):
            if p.info["username"] == user:
                procs.append(p)
        return procs

    def wait_stopped(self, users: list[str], timeout: float = 120) -> None:
        """Until the hub reports none of these users' servers (after a stop was asked for)."""
        deadline = time.monotonic() + timeout
        while any((self.api("GET", f"/users/{u}").get("servers") or {}) for u in users):
            if time.monotonic() > deadline:
                raise AssertionError(f"servers did not stop within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.5)

    def server_process(self, user: str) -> psutil.Process:
        for p in self.user_processes(user):
            with contextlib.suppress(psutil.Error):
                if "jupyterhub-singleuser" in " ".join(p.cmdline()):
                    return p
        raise AssertionError(f"no jupyterhub-singleuser process for {user}")

    def hub_and_proxy_rss_mb(self) -> dict[str, float]:
        out = {"hub": round(psutil.Process(self.proc.pid).memory_info().rss / 2**20, 1)}
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            pid = int((self.prefix / "state" / "jupyterhub-proxy.pid").read_text().strip())
            out["proxy"] = round(psutil.Process(pid).memory_info().rss / 2**20, 1)
        return out

    def kernel(self, user: str, path: str) -> Kernel:
        k = Kernel(self, user, path)
        self.kernels.append(k)
        return k


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _cleanup(hub: Hub | None, base: Path, users: list[str], groups: list[str]) -> list[str]:
    problems = []
    if hub is not None:
        leftovers: set[int] = set()
        if hub.proc is not None:
            with contextlib.suppress(psutil.Error):
                leftovers |= {c.pid for c in psutil.Process(hub.proc.pid).children(recursive=True)}
            if hub.proc.poll() is None:
                hub.proc.terminate()  # the hub stops every user's server and its proxy (cleanup_servers)
                try:
                    hub.proc.wait(20)
                except subprocess.TimeoutExpired:
                    problems.append(f"jupyterhub did not stop within 20 s; killed. Its log ends:\n{hub.log_tail(25)}")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(hub.proc.pid, signal.SIGKILL)  # its own process group only
            with contextlib.suppress(Exception):
                hub.proc.wait(5)
        pid_file = hub.prefix / "state" / "jupyterhub-proxy.pid"
        with contextlib.suppress(OSError, ValueError):
            leftovers.add(int(pid_file.read_text().strip()))
        for pid in leftovers:
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(pid)
                if p.is_running():
                    _kill(pid)
    # The shipped way to remove people (setup.py remove-users); the steps below only catch what it left.
    removed_by_setup = False
    csv_path = base / "users.csv"
    if hub is not None and (hub.prefix / "etc" / "course-hub.json").exists() and csv_path.exists():
        out = subprocess.run(
            [
                "/usr/bin/python3",
                str(SETUP),
                "--prefix",
                str(hub.prefix),
                "remove-users",
                str(csv_path),
                "--delete-trainer-courses",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if out.returncode != 0:
            problems.append(f"setup.py remove-users failed: {out.stdout[-500:]} {out.stderr[-500:]}")
        removed_by_setup = out.returncode == 0
    for user in users:
        for p in psutil.process_iter(["username"]):
            if p.info["username"] == user:
                _kill(p.pid)
    time.sleep(0.2)
    for user in users:
        if subprocess.run(["id", "-u", user], capture_output=True).returncode == 0:
            if removed_by_setup:
                problems.append(f"setup.py remove-users left the user {user}")
            out = subprocess.run(["userdel", "--remove", user], capture_output=True, text=True)
            if out.returncode not in (0, 12):
                problems.append(f"userdel {user}: {out.stderr.strip()}")
    for group in groups:
        if subprocess.run(["getent", "group", group], capture_output=True).returncode == 0:
            subprocess.run(["groupdel", group], capture_output=True)
    for group in groups:  # what install wrote in /etc for these groups (setup_system.py)
        for leftover in (PROFILE_D / f"{group}-tools.sh", SSHD_CONFIG_D / f"{group}.conf"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    shutil.rmtree(base, ignore_errors=True)
    return problems


@contextlib.contextmanager
def _cache_lock():
    CACHE.mkdir(parents=True, exist_ok=True)
    os.chmod(CACHE, 0o755)
    with open(CACHE / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def running_hub(data: Path, notebooks: Path, trainees=("a", "b"), settings: dict | None = None):
    """Install with setup.py into a fresh temp prefix, add a trainer and trainees, start the hub; clean up always.
    `settings` are added to course-hub.json before the hub starts, as an administrator would (docs/deploy.md)."""
    setup = load_setup_module()
    tag = "ct" + secrets.token_hex(3)
    users = {"trainer": f"{tag}tr", **{t: f"{tag}{t}" for t in trainees}}
    groups = [f"{tag}-graders", f"{tag}-trainees"]
    base = Path(tempfile.mkdtemp(prefix=f"course-hub-{tag}-"))
    os.chmod(base, 0o755)  # users must reach the exchange and the shared files inside it
    hub = None
    try:
        venv = CACHE / f"venv-{setup.deps_key(ROOT)}"
        hub = Hub(base, tag, users, venv)
        t0 = time.monotonic()
        with _cache_lock():
            cached = (venv / ".course-deps").exists()
            for old in CACHE.glob("venv-*"):
                if old != venv:
                    shutil.rmtree(old, ignore_errors=True)
            # As on a hardened server, where root's umask is 077: whatever trainees' servers must read is
            # made readable by setup.py itself.
            run(
                [
                    "/usr/bin/python3",
                    SETUP,
                    "--prefix",
                    hub.prefix,
                    "install",
                    "--venv",
                    venv,
                    "--exchange",
                    hub.exchange,
                    "--group-prefix",
                    tag,
                    "--authenticator",
                    "dummy",
                    "--bind-url",
                    hub.url,
                    "--proxy",
                    PROXY,
                    "--data",
                    data,
                    "--notebooks",
                    notebooks,
                ],
                preexec_fn=lambda: os.umask(0o077),
            )
        hub.measurements["install_s"] = round(time.monotonic() - t0, 1)
        hub.measurements["install_venv_was_cached"] = cached
        csv_path = base / "users.csv"
        csv_path.write_text(
            "username,role,full_name\n"
            + f"{users['trainer']},trainer,Test Trainer\n"
            + "".join(f"{users[t]},trainee,Trainee {t.upper()}\n" for t in trainees)
        )
        run(["/usr/bin/python3", SETUP, "--prefix", hub.prefix, "add-users", csv_path])
        run(["/usr/bin/python3", SETUP, "--prefix", hub.prefix, "init-course", "--trainer", users["trainer"]])
        (hub.prefix / "etc" / "jupyterhub_config.local.py").write_text(f"""
c = get_config()  # noqa
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub.hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{hub.api_port}"
c.JupyterHub.services = [{{"name": "course-test-driver", "api_token": {hub.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-test-driver", "services": ["course-test-driver"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"]}}]
""")
        os.chmod(hub.prefix / "etc" / "jupyterhub_config.local.py", 0o600)
        if settings:
            path = setup.settings_path(hub.prefix)
            path.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8")) | settings, indent=2) + "\n")
        hub.start()
        yield hub
    finally:
        failing = sys.exc_info()[0] is not None
        problems = _cleanup(hub, base, list(users.values()), groups)
        if problems and not failing:
            raise AssertionError(f"cleanup: {problems}")
