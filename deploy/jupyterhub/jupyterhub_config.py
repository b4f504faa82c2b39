# JupyterHub for the safeguarding course on one machine: one system user per trainee and trainer,
# LocalProcessSpawner, configurable-http-proxy, nbgrader's exchange in a shared folder.
#
# setup.py install copies this file to PREFIX/etc/ and writes PREFIX/etc/course-hub.json, which this file reads
# (path from $COURSE_HUB_SETTINGS, default: beside this file). Site changes go in
# PREFIX/etc/jupyterhub_config.local.py, loaded last, so this file can be replaced on upgrade.
import csv
import importlib.util
import json
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)

# The settings beside this file unless $COURSE_HUB_SETTINGS names others.
_settings_file = os.environ.get("COURSE_HUB_SETTINGS") or str(Path(__file__).with_name("course-hub.json"))
S = json.loads(Path(_settings_file).read_text(encoding="utf-8"))
_venv = Path(S["venv"])


def _users() -> dict[str, str]:
    """username -> role (trainer/trainee), from the registry setup.py add-users keeps."""
    path = Path(S["users_csv"])
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["username"]: r["role"] for r in csv.DictReader(f) if r.get("username")}


def _listening():
    """listening.py, installed beside this file: the one rule for where the hub may listen."""
    spec = importlib.util.spec_from_file_location("course_hub_listening", Path(__file__).with_name("listening.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the hub and its proxy ---------------------------------------------------------------------------------
# Plain HTTP only on loopback, unless there is a certificate or the administrator said --insecure-http;
# the dummy authenticator only on loopback. Checked again here, whatever was edited into course-hub.json.
_rule = _listening()
try:
    _listen = _rule.listen_settings(
        S.get("bind_url"),
        S.get("ssl_cert"),
        S.get("ssl_key"),
        S.get("insecure_http", False),
        S.get("authenticator", "pam"),
    )
except _rule.ListenError as e:
    raise SystemExit(f"course hub: not starting: {e} ({_settings_file})") from None
c.JupyterHub.bind_url = _listen["bind_url"]
if _listen["ssl_cert"]:
    c.JupyterHub.ssl_cert = _listen["ssl_cert"]
    c.JupyterHub.ssl_key = _listen["ssl_key"]
if _listen["insecure_http"]:
    print(_rule.insecure_warning(_listen["bind_url"]), file=sys.stderr, flush=True)
c.JupyterHub.db_url = "sqlite:///" + os.path.join(S["state_dir"], "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(S["state_dir"], "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [S["proxy_command"]]
c.ConfigurableHTTPProxy.pid_file = os.path.join(S["state_dir"], "jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every trainee's server

# --- who may log in ----------------------------------------------------------------------------------------
# Only the people setup.py add-users registered. PAM checks their system password; "dummy" (tests only)
# accepts any password and must never face a network.
if S.get("authenticator", "pam") == "dummy":
    c.JupyterHub.authenticator_class = "dummy"
else:
    c.JupyterHub.authenticator_class = "pam"
_roles = _users()
c.Authenticator.allowed_users = set(_roles)
c.Authenticator.allow_all = False
c.Authenticator.admin_users = set(S.get("hub_admins", []))  # hub admins are not trainers; none by default

# --- each person's server ------------------------------------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
# umask 077: whatever a user's server creates is theirs alone unless the course's code says otherwise.
c.Spawner.cmd = ["/bin/sh", "-c", 'umask 077 && exec "$0" "$@"', str(_venv / "bin" / "jupyterhub-singleuser")]
# Saved widget views would read "model not found" when a notebook is reopened; course/apps/save_hook.py puts a
# "Run All to see this view again" note in their place on disk (the open page keeps its live widgets).
c.Spawner.args = ["--ContentsManager.pre_save_hook=course.apps.save_hook.strip_widget_views"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {
    "PATH": f"{_venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "COURSE_DATA": S["data_dir"],
    "COURSE_NOTEBOOKS": S["notebooks_dir"],
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
# LocalProcessSpawner cannot enforce these; they are advertised to JupyterLab's resource display only.
c.Spawner.mem_limit = S.get("mem_limit", "1G")


# Trainees land on their course home (a page of their own server, course/apps/home_page.py, linking to the module
# pages, Voila in the same server); trainers keep JupyterLab. A trainee can still open /lab.
TRAINEE_HOME = "/course/home"


# How long a left page's kernel lives (course-hub.json `page_kernel_idle_s`, seconds; 0: until the server stops;
# absent: course/apps/pages.py's KERNEL_IDLE_S). Checked here, so a bad value stops the hub with a reason rather
# than every trainee's server failing to start.
_PAGE_IDLE = S.get("page_kernel_idle_s")
if _PAGE_IDLE is not None and (isinstance(_PAGE_IDLE, bool) or not isinstance(_PAGE_IDLE, int) or _PAGE_IDLE < 0):
    raise SystemExit(
        f"course hub: not starting: page_kernel_idle_s in {_settings_file} must be a whole number of seconds "
        f"(0: never), not {_PAGE_IDLE!r}"
    )


def _pre_spawn(spawner):
    role = _roles.get(spawner.user.name) or _users().get(spawner.user.name, "trainee")
    env = spawner.environment = dict(spawner.environment)
    env["COURSE_ROLE"] = role
    if role != "trainer":
        # Trainees' servers run without formgrader and the assignment-creation tools, with the pages' templates.
        env["JUPYTER_CONFIG_PATH"] = S["trainee_config_dir"]
        env["JUPYTER_PATH"] = os.path.join(S["trainee_config_dir"], "share", "jupyter")
        spawner.default_url = TRAINEE_HOME
        # A left page's kernel is shut down after this many idle seconds (course/apps/pages.py: KERNEL_IDLE_S
        # unless course-hub.json says otherwise); an open page keeps its own.
        if _PAGE_IDLE is not None:
            every = max(2, min(60, _PAGE_IDLE // 4)) if _PAGE_IDLE else 60
            cull = [
                f"--MappingKernelManager.cull_idle_timeout={_PAGE_IDLE}",
                f"--MappingKernelManager.cull_interval={every}",
            ]
            spawner.args = [*getattr(spawner, "args", []), *cull]
    else:
        # The marking page (course mark) under the trainer's own server: <server URL>/course-mark/, on ~/course.
        mark = ["--ServerApp.jpserver_extensions=course.apps.mark=True", "--CourseMark.course_dir=course"]
        spawner.args = [*getattr(spawner, "args", []), *mark]


c.Spawner.pre_spawn_hook = _pre_spawn

# --- site overrides ------------------------------------------------------------------------------------------
_local = Path(_settings_file).with_name("jupyterhub_config.local.py")
if _local.exists():
    load_subconfig(str(_local))  # noqa: F821


# --- the course's first-answers service ------------------------------------------------------------------------
# Each trainee's first answer to each decision, recorded by a service of the hub in its own database, where
# trainees cannot write (course/apps/first_answers_service.py; the client is course.store.hub).
# Added after the site's config, so that services and roles defined there add to these, not replace them.
_FIRST = "course-first-answers"
_FIRST_SCOPE = f"access:services!service={_FIRST}"


def _free_local_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _configured(section, name: str) -> list:
    return list(section[name]) if name in section and isinstance(section[name], list) else []


_first_url = S.get("first_answers_url") or _free_local_url()
_services = [s for s in _configured(c.JupyterHub, "services") if s.get("name") != _FIRST]
c.JupyterHub.services = [
    *_services,
    {
        "name": _FIRST,
        "url": _first_url,
        "command": [
            str(_venv / "bin" / "python"),
            "-m",
            "course.apps.first_answers_service",
            "--db",
            os.path.join(S["state_dir"], "first-answers.sqlite"),
            "--users-csv",
            S["users_csv"],
        ],
        "display": False,
    },
]
# Every user may use it, and their server's token (what the kernel holds) carries that permission.
_hub_roles = _configured(c.JupyterHub, "load_roles")
_user_role = next((r for r in _hub_roles if r.get("name") == "user"), None)
if _user_role is None:
    _hub_roles.append({"name": "user", "scopes": ["self", _FIRST_SCOPE]})
else:
    _user_role["scopes"] = sorted({*_user_role.get("scopes", ["self"]), _FIRST_SCOPE})
c.JupyterHub.load_roles = _hub_roles
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", _FIRST_SCOPE]
c.Spawner.environment = {
    **c.Spawner.environment,
    "COURSE_FIRST_ANSWERS_URL": f"{_first_url}/services/{_FIRST}/",
}


# --- the idle culler -------------------------------------------------------------------------------------------
# jupyterhub-idle-culler (installed in the venv by setup.py) stops a server nobody has used for
# `cull_idle_after_s` seconds (course-hub.json; 0 turns it off), so abandoned servers free their memory. Work is
# saved as it is typed (answers.json), so a culled trainee loses nothing; they start again from the hub's page.
_CULLER = "idle-culler"
_cull_after = int(S.get("cull_idle_after_s", 3600))


def _listed(name: str) -> list:
    return list(c.JupyterHub[name]) if name in c.JupyterHub and isinstance(c.JupyterHub[name], list) else []


if _cull_after > 0 and _CULLER not in {s.get("name") for s in _listed("services")}:
    c.JupyterHub.services = [
        *_listed("services"),
        {
            "name": _CULLER,
            "command": [str(_venv / "bin" / "python"), "-m", "jupyterhub_idle_culler", f"--timeout={_cull_after}"],
        },
    ]
    c.JupyterHub.load_roles = [
        *_listed("load_roles"),
        {
            "name": _CULLER,
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": [_CULLER],
        },
    ]


# --- starting the room's servers before a session ------------------------------------------------------------
# `setup.py start-servers` (run by root) starts every trainee's server through the hub's own API, so that a room
# logging in at once waits only for their course homes (docs/operations.md). Its token (made once, kept across
# restarts) and the address of the hub's API as configured here or in the site's config (written at each start)
# are in a file only root can read.
_ADMIN = "course-start-servers"


def _hub_api_url() -> tuple[str | None, str]:
    """Where the hub's own API answers, worked out as JupyterHub does: its base URL (base_url, else the path of
    bind_url), and hub_bind_url, else hub_ip and hub_port. (None, why) when start-servers cannot reach it."""
    from urllib.parse import urlsplit

    hub = c.JupyterHub
    base = hub.base_url if "base_url" in hub else urlsplit(hub.bind_url if "bind_url" in hub else "").path
    base = "/" + base.strip("/") + "/" if base.strip("/") else "/"
    if "hub_bind_url" in hub and hub.hub_bind_url:
        at = urlsplit(hub.hub_bind_url)
        if at.scheme not in ("http", "https"):
            return None, f"the hub listens on {hub.hub_bind_url}; start-servers reaches it over http only"
        scheme, host, port = at.scheme, at.hostname or "", at.port or (443 if at.scheme == "https" else 80)
    else:
        scheme, host, port = (
            "http",
            hub.hub_ip if "hub_ip" in hub else "127.0.0.1",
            hub.hub_port if "hub_port" in hub else 8081,
        )
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}{base}hub/api", ""


if _ADMIN not in {s.get("name") for s in _listed("services")}:
    import secrets as _secrets
    import tempfile as _tempfile

    _admin_file = Path(S["state_dir"]) / "start-servers.json"
    try:
        _admin_token = json.loads(_admin_file.read_text(encoding="utf-8"))["token"]
    except (OSError, ValueError, KeyError, TypeError):
        _admin_token = None
    if not (isinstance(_admin_token, str) and len(_admin_token) >= 32):
        _admin_token = _secrets.token_hex(32)
    _api_url, _why = _hub_api_url()
    # A new file, 0600 from the start, put in place at once: never readable by others, never seen half written.
    _fd, _tmp = _tempfile.mkstemp(dir=S["state_dir"], prefix=".start-servers.")
    with os.fdopen(_fd, "w", encoding="utf-8") as _f:
        json.dump({"token": _admin_token, "api_url": _api_url, "why": _why}, _f)
    os.replace(_tmp, _admin_file)
    c.JupyterHub.services = [*_listed("services"), {"name": _ADMIN, "api_token": _admin_token}]
    c.JupyterHub.load_roles = [
        *_listed("load_roles"),
        {"name": _ADMIN, "scopes": ["list:users", "read:users", "servers"], "services": [_ADMIN]},
    ]
