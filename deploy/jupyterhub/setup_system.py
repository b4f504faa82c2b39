"""What setup.py install changes on the machine outside its prefix, and what it checks first: the Node the
proxy needs, the trainers' PATH in a login shell, no SSH for trainees, and formgrader
opened in its own browser tab. Standard library only."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from setup_base import SetupError, log, write_file

# configurable-http-proxy 5 declares "engines": {"node": ">= 20"} with engineStrict (its package.json);
# tests/hub/test_hub_install_rules.py checks this number against the proxy's lockfile (deploy/jupyterhub/proxy).
NODE_MIN_MAJOR = 20
NODE_HELP = (
    f"configurable-http-proxy needs Node {NODE_MIN_MAJOR} or newer. Debian 12 ships Node 18: install NodeSource's "
    f"nodejs {NODE_MIN_MAJOR} (it includes npm; do not also install Debian's npm package), or Debian 13's nodejs "
    "and npm, then run install again"
)
NOLOGIN = next((p for p in ("/usr/sbin/nologin", "/sbin/nologin") if os.path.exists(p)), "/usr/sbin/nologin")
PROFILE_D = Path(os.environ.get("COURSE_HUB_PROFILE_D", "/etc/profile.d"))
SSHD_CONFIG_D = Path(os.environ.get("COURSE_HUB_SSHD_CONFIG_D", "/etc/ssh/sshd_config.d"))
# Formgrader inside JupyterLab is an iframe that shows "refused to connect" behind a hub (nbgrader #1870,
# #1947); in a tab of its own it works. JupyterHub's user-redirect reaches the trainer's own server.
FORMGRADER_URL = "/hub/user-redirect/formgrader"
MARKING_MENU = {
    "id": "jp-mainmenu-course-marking",
    "label": "Marking",
    "rank": 900,
    "items": [
        {
            "command": "help:open",
            "args": {"url": FORMGRADER_URL, "text": "Formgrader (opens in a new tab)", "newBrowserTab": True},
        }
    ],
}


def node_major(version: str) -> int | None:
    found = re.match(r"v?(\d+)\.", version.strip())
    return int(found.group(1)) if found else None


def check_node(need_npm: bool) -> str:
    """The Node on PATH, if new enough for the proxy (and npm with it when the proxy must be installed)."""
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        raise SetupError(f"node is not installed. {NODE_HELP}")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    major = node_major(version)
    if major is None or major < NODE_MIN_MAJOR:
        raise SetupError(f"{node} is Node {version or '(unknown version)'}. {NODE_HELP}")
    if need_npm and not shutil.which("npm"):
        raise SetupError(
            f"Node {version} has no npm beside it (Debian's nodejs: apt-get install npm; NodeSource's nodejs "
            "includes npm). npm installs configurable-http-proxy; or give --proxy PATH"
        )
    return version


def proxy_engines(proxy: str) -> str | None:
    """The Node range the installed proxy declares (its package.json), when it is an npm package."""
    real = Path(proxy).resolve()
    for folder in (real.parent.parent, real.parent):
        package = folder / "package.json"
        if package.is_file():
            try:
                return json.loads(package.read_text(encoding="utf-8")).get("engines", {}).get("node")
            except (OSError, ValueError):
                return None
    return None


def profile_script(settings: dict) -> Path:
    return PROFILE_D / f"{settings['graders_group']}-tools.sh"


def write_trainer_path(settings: dict) -> Path:
    """A login shell (a JupyterLab terminal runs `bash -l`) resets PATH from /etc/profile: this puts the course's
    venv first again for members of the graders group, so `course` and `nbgrader` are found there."""
    venv_bin = Path(settings["venv"]) / "bin"
    group = settings["graders_group"]
    path = profile_script(settings)
    write_file(
        path,
        f"""# The course's tools (course, nbgrader) for its trainers, group {group} (written by setup.py install).
case " $(id -Gn 2>/dev/null) " in
  *" {group} "*)
    case ":$PATH:" in
      *":{venv_bin}:"*) ;;
      *) PATH="{venv_bin}:$PATH"; export PATH ;;
    esac ;;
esac
""",
    )
    return path


def ssh_drop_in(settings: dict) -> Path:
    return SSHD_CONFIG_D / f"{settings['trainees_group']}.conf"


def write_ssh_deny(settings: dict) -> Path | None:
    """Trainees log in through the hub only: their login shell is nologin, and when an SSH server is installed
    it refuses their group outright (no tunnels either). Takes effect when sshd reloads."""
    if not SSHD_CONFIG_D.is_dir():
        return None
    path = ssh_drop_in(settings)
    write_file(
        path,
        f"# Trainees of the course log in through JupyterHub only (written by setup.py install).\n"
        f"DenyGroups {settings['trainees_group']}\n",
    )
    log(f"{path}: sshd refuses group {settings['trainees_group']} (reload sshd to apply: systemctl reload ssh)")
    return path


def write_trainer_lab_settings(venv: Path) -> Path:
    """The trainers' JupyterLab (the venv's own settings; trainees' servers read theirs from their config
    folder): a Marking menu that opens formgrader in a new browser tab, and nbgrader's Formgrader entry, an
    iframe that a hub's JupyterLab cannot show, left out."""
    overrides = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    current = json.loads(overrides.read_text(encoding="utf-8")) if overrides.is_file() else {}
    current["@jupyterlab/mainmenu-extension:plugin"] = {"menus": [MARKING_MENU]}
    write_file(overrides, json.dumps(current, indent=2) + "\n")
    page = venv / "etc" / "jupyter" / "labconfig" / "page_config.json"
    config = json.loads(page.read_text(encoding="utf-8")) if page.is_file() else {}
    config.setdefault("disabledExtensions", {})["@jupyter/nbgrader:formgrader"] = True
    write_file(page, json.dumps(config, indent=2) + "\n")
    return overrides


def remove_system_files(settings: dict) -> list[Path]:
    """What write_trainer_path and write_ssh_deny left outside the prefix (for uninstall)."""
    gone = []
    for path in (profile_script(settings), ssh_drop_in(settings)):
        if path.exists():
            path.unlink()
            gone.append(path)
    return gone


# Run by each trainee's own server as it starts (as the trainee): kernels over Unix sockets, and the old home
# notebook removed. Cheap: no process of its own per trainee.
TRAINEE_SERVER_CONFIG = """\
# Written by deploy/jupyterhub/setup.py; do not edit here.
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir

c = get_config()  # noqa: F821

try:  # the course home notebook earlier versions wrote here; the home is a page of this server now
    from course.apps.pages import remove_old_home

    remove_old_home(Path.home())
except Exception:
    pass

# Kernels talk to this server over Unix sockets in the trainee's own runtime folder, not TCP ports: a room of
# servers starting kernels at once each pick a "free" port on their own, two can pick the same one, and a
# trainee's page then fails with "Address already in use". A socket's path must fit in 107 bytes (kernel-<id>-ipc-5
# after the folder); a longer home folder keeps TCP.
if len(jupyter_runtime_dir()) + len("/kernel-00000000-0000-0000-0000-000000000000-ipc-5") < 104:
    c.KernelManager.transport = "ipc"
"""
