"""Running the hub after day one (setup.py backup, restore, uninstall, reset-password, stop-server,
start-servers, recover-answers): everything a backup holds, put back into a fresh install. Standard library only.

A backup is one tar.gz (mode 0600: it holds password hashes and everyone's work) with manifest.json, the
settings (etc/), the hub's state (state/: the first-answers database, the hub's database and cookie secret),
every registered user's home (homes/<name>/: trainees' answers and submissions, the trainer's course with its
gradebook and any marks database), the exchange (exchange/) and the users' password hashes (shadow).
SQLite files are copied with SQLite's own backup, so a backup taken while the hub runs is consistent.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import grp
import io
import json
import os
import pwd
import secrets
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from setup_base import SetupError, existing_settings, load_settings, log, run, settings_path, write_file
from setup_system import remove_system_files
from setup_users import (
    add_users,
    kill_processes_of,
    open_passwords,
    read_users,
    remove_users,
    user_exists,
    write_users,
)

FORMAT = 1
# Keys a fresh install decides for itself (paths on this machine, how it listens); every other key in
# course-hub.json is the administrator's and comes back from the backup.
INSTALL_KEYS = (
    "prefix",
    "venv",
    "share",
    "data_dir",
    "notebooks_dir",
    "users_csv",
    "state_dir",
    "trainee_config_dir",
    "proxy_command",
    "exchange_root",
    "graders_group",
    "trainees_group",
    "bind_url",
    "ssl_cert",
    "ssl_key",
    "insecure_http",
    "authenticator",
    "python",
    "data_source",
    "notebooks_source",
)
SQLITE_HEADER = b"SQLite format 3\x00"


def _add_tree(tar: tarfile.TarFile, src: Path, arcname: str) -> int:
    """Add src (a folder, its links as links) under arcname; SQLite files through SQLite's backup."""
    count = 0
    for folder, dirs, files in os.walk(src):
        dirs.sort()
        here = Path(folder)
        rel = here.relative_to(src)
        tar.add(here, arcname=str(Path(arcname) / rel), recursive=False)
        for name in sorted(files) + sorted(d for d in dirs if (here / d).is_symlink()):
            try:
                count += _add_entry(tar, here / name, str(Path(arcname) / rel / name))
            except FileNotFoundError:  # gone since it was listed (a kernel's temporary file)
                continue
            except OSError as e:  # e.g. swapped for a link while the backup ran: left out, and said
                log(f"not in the backup: {here / name}: {e.strerror or e}")
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
    return count


def _add_entry(tar: tarfile.TarFile, path: Path, member: str) -> int:
    """One file or link of a home: a regular file is opened without following a link and described from
    what was opened (a file replaced, or swapped for a link, while the backup runs is never read through
    the link); SQLite files are copied with SQLite's backup; pipes, sockets and devices are left out."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        tar.addfile(tar.gettarinfo(path, arcname=member))
        return 1
    if not stat.S_ISREG(st.st_mode):
        return 0
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = tar.gettarinfo(arcname=member, fileobj=f)
        if not info.isreg():
            return 0
        if f.read(16) == SQLITE_HEADER:
            with tempfile.NamedTemporaryFile(suffix=".sqlite") as tmp:
                with (
                    sqlite3.connect(f"file:/proc/self/fd/{fd}?mode=ro", uri=True) as db,
                    sqlite3.connect(tmp.name) as copy,
                ):
                    db.backup(copy)
                info.size = os.path.getsize(tmp.name)
                with open(tmp.name, "rb") as snapshot:
                    tar.addfile(info, snapshot)
            return 1
        f.seek(0)
        tar.addfile(info, f)
    return 1


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o600) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(dt.datetime.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def _shadow_lines(names: list[str]) -> str:
    wanted = set(names)
    with open("/etc/shadow", encoding="utf-8") as f:
        return "".join(line for line in f if line.split(":", 1)[0] in wanted)


def backup(args: argparse.Namespace) -> Path:
    settings = load_settings(args.prefix)
    registry = Path(settings["users_csv"])
    users = read_users(registry) if registry.exists() else []
    out = Path(args.archive)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    homes = {}
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        etc = settings_path(args.prefix).parent
        for name in ("course-hub.json", "jupyterhub_config.local.py", "users.csv"):
            if (etc / name).is_file():
                tar.add(etc / name, arcname=f"etc/{name}")
        state = Path(settings["state_dir"])
        if state.is_dir():
            _add_tree(tar, state, "state")
        for r in users:
            if user_exists(r["username"]):
                home = Path(pwd.getpwnam(r["username"]).pw_dir)
                homes[r["username"]] = str(home)
                n = _add_tree(tar, home, f"homes/{r['username']}") if home.is_dir() else 0
                log(f"{r['username']} ({r['role']}): {home}, {n} files and folders")
        exchange = Path(settings["exchange_root"])
        if exchange.is_dir():
            _add_tree(tar, exchange, "exchange")
        _add_bytes(tar, "shadow", _shadow_lines(list(homes)).encode())
        manifest = {
            "format": FORMAT,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "settings": settings,
            "users": users,
            "homes": homes,
        }
        _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
    log(f"backup written to {out} (mode 0600): settings, hub state, {len(homes)} homes, the exchange")
    return out


def _inside(root: Path, name: str) -> Path:
    """Where a member goes under root; refused if it would leave root or pass through a link (a trainee's
    home is theirs: a link planted there must not send a restored file elsewhere)."""
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise SetupError(f"backup member {name!r} points outside its folder")
    target = root / name
    expected = os.path.join(os.path.realpath(root), os.path.dirname(name))
    if os.path.realpath(target.parent) != os.path.normpath(expected):
        raise SetupError(f"backup member {name!r} would pass through a link")
    return target


def _extract(tar: tarfile.TarFile, prefix: str, root: Path) -> int:
    """Extract the members under prefix/ into root (owners by name, modes kept); links only as links."""
    count = 0
    members = [m for m in tar.getmembers() if m.name == prefix or m.name.startswith(prefix + "/")]
    folders = []
    for m in members:
        rel = m.name[len(prefix) + 1 :]
        if not (m.isreg() or m.isdir() or m.issym()):
            continue
        try:
            target = _inside(root, rel) if rel else root
        except SetupError as e:
            log(f"not restored: {e}")  # one crafted entry never stops a restore
            continue
        if m.isdir():
            target.mkdir(parents=True, exist_ok=True)
            folders.append((target, m))
            continue
        if target.is_symlink() or target.exists():
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        if m.issym():
            os.symlink(m.linkname, target)
            _chown(target, m, follow=False)
        else:
            with tar.extractfile(m) as src, open(target, "wb") as dst:  # type: ignore[union-attr]
                shutil.copyfileobj(src, dst)
            _chown(target, m)
            os.chmod(target, m.mode & 0o7777)
            os.utime(target, (m.mtime, m.mtime))
        count += 1
    for target, m in reversed(folders):  # after their contents, so nothing in them changes their times
        _chown(target, m)
        os.chmod(target, m.mode & 0o7777)
    return count


def _chown(path: Path, m: tarfile.TarInfo, follow: bool = True) -> None:
    uid, gid = m.uid, m.gid
    with contextlib.suppress(KeyError):
        uid = pwd.getpwnam(m.uname).pw_uid if m.uname else uid
    with contextlib.suppress(KeyError):
        gid = grp.getgrnam(m.gname).gr_gid if m.gname else gid
    os.chown(path, uid, gid, follow_symlinks=follow)


def restore(args: argparse.Namespace) -> None:
    settings = load_settings(args.prefix)
    with tarfile.open(args.archive, "r:gz") as tar:
        try:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        except KeyError:
            raise SetupError(f"{args.archive}: not a course hub backup (no manifest.json)") from None
        if manifest.get("format") != FORMAT:
            raise SetupError(f"{args.archive}: backup format {manifest.get('format')!r}, this setup.py reads {FORMAT}")
        old = manifest["settings"]
        merged = {k: v for k, v in old.items() if k not in INSTALL_KEYS} | {
            k: settings[k] for k in INSTALL_KEYS if k in settings
        }
        write_file(settings_path(args.prefix), json.dumps(merged, indent=2) + "\n")
        etc = settings_path(args.prefix).parent
        names = tar.getnames()
        if "etc/jupyterhub_config.local.py" in names:
            local = etc / "jupyterhub_config.local.py"
            if local.exists():
                shutil.copy2(local, local.with_name(local.name + ".before-restore"))
            local.write_bytes(tar.extractfile("etc/jupyterhub_config.local.py").read())  # type: ignore[union-attr]
            os.chmod(local, 0o600)
        # The people first (groups and login shells as add-users gives them), then their passwords and homes.
        with tempfile.TemporaryDirectory() as tmp:
            people = Path(tmp) / "users.csv"
            write_users(people, manifest["users"])
            add_users(argparse.Namespace(prefix=args.prefix, csv=str(people), passwords=None))
        shadow = tar.extractfile("shadow").read().decode()  # type: ignore[union-attr]
        hashes = [":".join(line.split(":")[:2]) for line in shadow.splitlines() if line.count(":") >= 2]
        if hashes:
            run(["chpasswd", "-e"], input="\n".join(hashes) + "\n")
        for name in manifest["homes"]:
            home = Path(pwd.getpwnam(name).pw_dir)
            n = _extract(tar, f"homes/{name}", home)
            log(f"{name}: {n} files restored into {home}")
        exchange = Path(settings["exchange_root"])
        exchange.mkdir(parents=True, exist_ok=True)
        n = _extract(tar, "exchange", exchange)
        os.chmod(exchange, 0o1777)
        log(f"exchange: {n} files restored into {exchange}")
        state = Path(settings["state_dir"])
        n = _extract(tar, "state", state)
        os.chmod(state, 0o700)
        log(f"hub state: {n} files restored into {state} (first answers, the hub's database)")
    log("restored; start the hub again (or restart it) to use the restored users and settings")


def uninstall(args: argparse.Namespace) -> None:
    """Remove what install made: the prefix, the exchange, the groups, the files in /etc; users only when
    asked (--remove-users, and a trainer's course only with --delete-trainer-courses)."""
    settings = existing_settings(args.prefix)
    if not settings:
        raise SetupError(f"{settings_path(args.prefix)}: not found, nothing to uninstall")
    registry = Path(settings["users_csv"])
    if args.remove_users and registry.exists():
        with tempfile.TemporaryDirectory() as tmp:
            listed = Path(tmp) / "users.csv"
            shutil.copy2(registry, listed)
            remove_users(
                argparse.Namespace(
                    prefix=args.prefix,
                    csv=str(listed),
                    keep_homes=False,
                    delete_trainer_courses=args.delete_trainer_courses,
                    dry_run=False,
                )
            )
    elif registry.exists():
        kept = [r["username"] for r in read_users(registry)]
        log(f"keeping {len(kept)} users and their homes ({', '.join(kept) or 'none'}): --remove-users removes them")
    for path in remove_system_files(settings):
        log(f"removed {path}")
    exchange = Path(settings["exchange_root"])
    if exchange.exists() and not args.keep_exchange:
        shutil.rmtree(exchange)
        log(f"removed the exchange {exchange}")
    if args.remove_users:
        for group in (settings["graders_group"], settings["trainees_group"]):
            subprocess.run(["groupdel", group], capture_output=True)
            log(f"removed the group {group}")
    prefix = Path(settings["prefix"])
    shutil.rmtree(prefix)
    log(f"removed {prefix} (the venv, the course files, the settings and the hub's state)")


def reset_password(args: argparse.Namespace) -> None:
    """A new random password for one user, appended to a 0600 file as add-users does for first passwords."""
    load_settings(args.prefix)
    if not user_exists(args.user):
        raise SetupError(f"{args.user}: no such user")
    fd = open_passwords(args.passwords)
    password = secrets.token_urlsafe(12)
    run(["chpasswd"], input=f"{args.user}:{password}\n")
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(f"{args.user},{password}\n")
    log(f"new password for {args.user} appended to {args.passwords} (mode 0600)")


def stop_server(args: argparse.Namespace) -> None:
    """Stop one person's server and kernels (a runaway notebook): their processes, by pid. The hub notices
    within its poll interval; their files are untouched and they can start again from the hub's home page."""
    load_settings(args.prefix)
    if not user_exists(args.user):
        raise SetupError(f"{args.user}: no such user")
    kill_processes_of(pwd.getpwnam(args.user).pw_uid)
    log(f"stopped every process of {args.user}")


def hub_api(settings: dict):
    """A caller of the running hub's own API with the start-servers token (jupyterhub_config.py keeps both in a
    file only root can read, and writes the API's address there each time the hub starts). It returns the status
    and the decoded body; status 0 when the hub did not answer in time (busy, not gone)."""
    path = Path(settings["state_dir"]) / "start-servers.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        token, api = found["token"], found["api_url"]
    except (OSError, ValueError, KeyError, TypeError):
        raise SetupError(
            f"{path}: not there or not readable: is the hub running, and upgraded since 2026-12?"
        ) from None
    if not api:
        raise SetupError(f"{path}: {found.get('why') or 'the hub API address is unknown'}")

    def call(method: str, where: str, timeout: float = 30) -> tuple[int, object, dict]:
        req = urllib.request.Request(f"{api}{where}", method=method, headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, raw, headers = r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            status, raw, headers = e.code, e.read(), dict(e.headers or {})
        except TimeoutError:
            return 0, None, {}
        except (urllib.error.URLError, OSError) as e:
            if isinstance(getattr(e, "reason", None), TimeoutError):
                return 0, None, {}
            raise SetupError(f"the hub's API at {api} did not answer ({e}): is the hub running?") from None
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = raw[:300].decode("utf-8", "replace")
        return status, body, headers

    return call


def _message(body) -> str:
    return str(body.get("message", body)) if isinstance(body, dict) else str(body or "")


def active_servers(call) -> dict[str, dict]:
    """name -> default server model of every user with one (starting, ready or stopping), one page at a time."""
    found: dict[str, dict] = {}
    offset = 0
    while True:
        status, page, _ = call("GET", f"/users?state=active&limit=200&offset={offset}")
        if status != 200 or not isinstance(page, list):
            raise SetupError(f"the hub's list of active users: {status} {_message(page)}")
        if not page:
            return found
        for user in page:
            server = (user.get("servers") or {}).get("")
            if server:
                found[user["name"]] = server
        offset += len(page)


def ask_for_server(call, name: str, deadline: float) -> str:
    """Ask the hub to start one server: "asked", "running", or why not ("unknown ..." / "failed ...")."""
    while time.monotonic() < deadline:
        status, body, headers = call("POST", f"/users/{name}/server", timeout=60)
        if status in (0, 201, 202):  # 0: the hub is busy starting others; the progress below tells
            return "asked"
        if status == 400 and "stop" in _message(body).lower():  # stopping: ask again once it has stopped
            time.sleep(1.0)
            continue
        if status == 400:  # already running, or already starting
            return "running"
        if status == 404:
            return "unknown to the hub (restart the hub after add-users)"
        if status == 429:  # too many starting at once: the hub says when to ask again
            time.sleep(min(30.0, float(headers.get("Retry-After") or 5)))
            continue
        return f"failed ({status} {_message(body)[:200]})"
    return "failed (still stopping when the time ran out)"


def start_servers(args: argparse.Namespace) -> None:
    """Start trainees' servers before a session (a few minutes ahead), all at once, and wait until each is ready:
    a room then logging in at once waits only for its course homes (docs/operations.md). Every trainee in the
    users registry unless names are given; a server already running is left as it is. Every server is asked for
    and waited for, whatever happens to another; the ones that did not start are named at the end."""
    settings = load_settings(args.prefix)
    registered = read_users(Path(settings["users_csv"]))
    trainees = [r["username"] for r in registered if r["role"] == "trainee"]
    names = list(dict.fromkeys(n.strip().lower() for n in args.users)) if args.users else trainees
    unknown = sorted(set(names) - {r["username"] for r in registered})
    if unknown:
        raise SetupError(f"not in {settings['users_csv']}: {', '.join(unknown)}")
    if not names:
        log(f"no trainees in {settings['users_csv']}: nothing to start")
        return
    call = hub_api(settings)
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    # Asked for together: the hub answers each request only once that server is up or slow to start (10 s), so
    # one after the other they would start one at a time.
    with ThreadPoolExecutor(min(32, len(names))) as pool:
        answers = dict(zip(names, pool.map(lambda n: ask_for_server(call, n, deadline), names), strict=True))
    failed = {n: why for n, why in answers.items() if why not in ("asked", "running")}
    running = sum(1 for why in answers.values() if why == "running")
    log(f"asked the hub to start {len(names) - running - len(failed)} servers ({running} already running)")
    waiting, shown = [n for n in names if n not in failed], -1
    while waiting and time.monotonic() < deadline:
        active = active_servers(call)
        for name in list(waiting):
            server = active.get(name)
            if server and server.get("ready"):
                waiting.remove(name)
            elif not server or server.get("stopped"):
                waiting.remove(name)
                failed[name] = "did not start"
        ready = len(names) - len(waiting) - len(failed)
        if ready != shown:
            shown = ready
            log(f"{ready} of {len(names)} servers ready ({time.monotonic() - t0:.0f} s)")
        if waiting:
            time.sleep(1.0)
    for name in waiting:
        failed[name] = f"not ready after {args.timeout:.0f} s"
    if failed:
        lines = "".join(f"\n  {name}: {why}" for name, why in sorted(failed.items()))
        raise SetupError(
            f"{len(names) - len(failed)} of {len(names)} servers ready; these did not start (the hub's log says "
            f"why):{lines}"
        )
    log(f"all {len(names)} servers ready after {time.monotonic() - t0:.0f} s; the culler stops them once idle")


def recover_answers(args: argparse.Namespace) -> None:
    """List a trainee's answers files and the copies the course set aside when one was damaged; with
    --use COPY put that copy back as answers.json (the current file is kept aside in turn)."""
    settings = load_settings(args.prefix)
    home = Path(pwd.getpwnam(args.user).pw_dir)
    folder = home / args.module
    if not folder.is_dir():
        raise SetupError(f"{folder}: no such module folder for {args.user}")
    python = Path(settings["venv"]) / "bin" / "python"
    # The course's own reader, on a copy named answers.json (it reads a file by that name).
    check = (
        "import shutil, sys, tempfile; from course.core.answers import read_answers as r\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    r(shutil.copy(sys.argv[1], d + '/answers.json')); print('readable')"
    )
    for path in sorted(folder.glob("answers.json*")):
        if path.name.endswith(".lock"):
            continue
        out = subprocess.run([str(python), "-c", check, str(path)], capture_output=True, text=True)
        verdict = "readable" if out.returncode == 0 else (out.stderr.strip().splitlines() or ["damaged"])[-1]
        print(f"{path}: {verdict}")
    if args.use:
        chosen = folder / Path(args.use).name
        if not chosen.is_file() or chosen.parent != folder:
            raise SetupError(f"{chosen}: not a file in {folder}")
        current = folder / "answers.json"
        owner = pwd.getpwnam(args.user)
        if current.exists():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            os.replace(current, folder / f"answers.json.replaced-{stamp}")
        shutil.copy2(chosen, current)
        os.chown(current, owner.pw_uid, owner.pw_gid)
        os.chmod(current, 0o600)
        log(f"{current}: now {chosen.name} (the trainee reloads the module's page to see it)")


def add_commands(sub) -> None:
    """The operations commands, for setup.py's parser."""
    s = sub.add_parser("backup", help="settings, hub state, every registered user's home, the exchange: one file")
    s.add_argument("archive", help="the .tar.gz to write (mode 0600)")
    s.set_defaults(func=backup)

    s = sub.add_parser("restore", help="put a backup back into this install (users, homes, exchange, state)")
    s.add_argument("archive")
    s.set_defaults(func=restore)

    s = sub.add_parser("uninstall", help="remove the prefix, the exchange, the groups and the files in /etc")
    s.add_argument("--remove-users", action="store_true", help="also delete the registered users and homes")
    s.add_argument("--delete-trainer-courses", action="store_true", help="with --remove-users: trainers too")
    s.add_argument("--keep-exchange", action="store_true")
    s.set_defaults(func=uninstall)

    s = sub.add_parser("reset-password", help="a new random password for one user, appended to a 0600 file")
    s.add_argument("user")
    s.add_argument("--passwords", required=True, help="file the new password is appended to (mode 0600)")
    s.set_defaults(func=reset_password)

    s = sub.add_parser("stop-server", help="stop one person's server and kernels (their processes, by pid)")
    s.add_argument("user")
    s.set_defaults(func=stop_server)

    s = sub.add_parser("start-servers", help="before a session: start trainees' servers and wait until ready")
    s.add_argument("users", nargs="*", help="only these users (default: every trainee in the registry)")
    s.add_argument("--timeout", type=float, default=600, help="seconds to wait for them all (default 600)")
    s.set_defaults(func=start_servers)

    s = sub.add_parser("recover-answers", help="a trainee's answers files and set-aside copies; --use to restore")
    s.add_argument("user")
    s.add_argument("module", help="the module folder in their home, e.g. m00-introduction")
    s.add_argument("--use", help="the set-aside copy to put back as answers.json")
    s.set_defaults(func=recover_answers)
