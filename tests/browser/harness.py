"""Drive the real JupyterLab and Voila in Debian's Chromium, as a trainee or a facilitator would.

Plain Python (no pytest) so that bench/bench_browser.py can use it too. Servers run on free loopback ports
with a random token and are stopped by process id; every browser context gets a fresh profile folder that
is removed on close; every request that leaves the machine is blocked and recorded.
"""

from __future__ import annotations

import contextlib
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
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.paths import ROOT

VENV_BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
LOOPBACK = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")
LOCAL_SCHEMES = ("data:", "blob:", "about:", "chrome:", "chrome-extension:", "devtools:")
# Placeholders the widget managers (JupyterLab's and Voila's) put where a widget view should be.
WIDGET_PLACEHOLDERS = ("Loading widget...", "Error displaying widget")

SERVER_START_S = 90
RUN_ALL_S = 180


def missing_requirements() -> list[str]:
    """What the browser suite needs and this machine lacks, in words a person can act on."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (Debian package 'chromium': run .ci/system-deps as root)")
    if not AXE_JS.exists():
        missing.append(f"{AXE_JS.relative_to(ROOT)} (npm package axe-core: run 'npm install' at the repo root)")
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- servers


class Server:
    """A server process in its own session, stopped by its process id (and its children by group id)."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict, ready_url: str, log_path: Path, name: str):
        self.argv, self.cwd, self.env, self.ready_url, self.log_path, self.name = (
            argv,
            cwd,
            env,
            ready_url,
            log_path,
            name,
        )
        self.proc: subprocess.Popen | None = None
        self.stop_signal = signal.SIGTERM  # a Jupyter server shuts its kernels down on SIGTERM

    def start(self, timeout: float = SERVER_START_S) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {self.proc.returncode} before it was ready:\n" + self.log_tail()
                )
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as r:
                    if r.status < 500:
                        return self
            except Exception:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"{self.name} was not ready after {timeout:.0f} s:\n" + self.log_tail())

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.send_signal(self.stop_signal)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
        # Anything the server left in its own process group (a stuck kernel) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def server_env(home: Path, extra: dict | None = None) -> dict:
    """An environment in which kernels run the project's Python and JupyterLab keeps its state in `home`."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    settings = home / "lab-settings"
    # No "would you like news?" toast over the page in tests; nothing here may reach the internet anyway.
    notif = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True, exist_ok=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(home / "lab-workspaces")
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    env["IPYTHONDIR"] = str(home / "ipython")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop("NBGRADER_EXECUTION", None)
    env.pop("COURSE_READ_ONLY", None)
    env.update(extra or {})
    return env


@dataclass
class Lab:
    server: Server
    port: int
    token: str
    root: Path

    def url(self, path: str) -> str:
        # ?reset: start from an empty layout, not the tabs an earlier test left open in this server's workspace.
        return f"http://127.0.0.1:{self.port}/lab/tree/{path}?reset&token={self.token}"

    def stop(self) -> None:
        self.server.stop()


def start_lab(root: Path, home: Path, env_extra: dict | None = None, save_hook: bool = False) -> Lab:
    """JupyterLab on `root` as a trainee runs it (as root here, hence --allow-root). `save_hook`: with the
    course's pre-save hook and trainees' JupyterLab settings on the command line (a `course lab` workspace
    has both in its own config)."""
    port, token = free_port(), secrets.token_hex(16)
    argv = [
        str(VENV_BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
    ]
    if save_hook:
        from course.apps.lab import write_trainee_lab_settings

        settings_dir = write_trainee_lab_settings(home / "trainee-config")["LabApp"]["app_settings_dir"]
        argv += [
            "--ContentsManager.pre_save_hook=course.apps.save_hook.strip_widget_views",
            f"--LabApp.app_settings_dir={settings_dir}",
        ]
    server = Server(
        argv,
        cwd=root,
        env=server_env(home, env_extra),
        ready_url=f"http://127.0.0.1:{port}/api/status?token={token}",
        log_path=home / "jupyterlab.log",
        name="JupyterLab",
    ).start()
    return Lab(server, port, token, root)


# --------------------------------------------------------------------------- the browser


@dataclass
class Tab:
    """One browser context with a fresh profile: its page, what it tried to fetch from outside, its errors."""

    context: object
    page: object
    profile: Path
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def js_errors(self) -> list[str]:
        """Console errors and uncaught exceptions, except the load failures we caused by blocking a request."""
        return list(self.console_errors)

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


class Browser:
    """Playwright driving Debian's Chromium by executable path."""

    def __init__(self):
        from playwright.sync_api import sync_playwright

        self._pw_cm = sync_playwright()
        self.pw = self._pw_cm.__enter__()

    def close(self) -> None:
        self._pw_cm.__exit__(None, None, None)

    @contextlib.contextmanager
    def tab(self, viewport=(1280, 900), ignore_https_errors: bool = False, bypass_csp: bool = False):
        """`ignore_https_errors`: for a hub serving a self-signed certificate made for the test. `bypass_csp`: for
        axe-core on a page whose Content-Security-Policy allows no script (the course home), so it can be added."""
        profile = Path(tempfile.mkdtemp(prefix="course-chromium-profile-"))
        context = None
        try:
            context = self.pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": viewport[0], "height": viewport[1]},
                ignore_https_errors=ignore_https_errors,
                bypass_csp=bypass_csp,
            )
            context.set_default_timeout(30_000)
            page = context.pages[0] if context.pages else context.new_page()
            tab = Tab(context, page, profile)

            def route(r):
                url = r.request.url
                if LOOPBACK.match(url) or url.startswith(LOCAL_SCHEMES):
                    return r.continue_()
                tab.blocked.append(url)
                return r.abort("internetdisconnected")

            context.route("**/*", route)

            def on_console(msg):
                if msg.type != "error":
                    return
                where = (msg.location or {}).get("url", "")
                if msg.text.startswith("Failed to load resource") and where in tab.blocked:
                    return  # our own blocking of an outside request; the request itself is in tab.blocked
                tab.console_errors.append(f"console.error: {msg.text} ({where})")

            page.on("console", on_console)
            page.on("pageerror", lambda e: tab.console_errors.append(f"uncaught: {e}"))
            page.on("dialog", lambda d: d.accept())  # "leave the page?" on reload
            yield tab
        finally:
            if context is not None:
                with contextlib.suppress(Exception):
                    context.close()
            shutil.rmtree(profile, ignore_errors=True)


# --------------------------------------------------------------------------- JupyterLab, as a trainee uses it

_WATCH_STATUS_JS = """() => {
  // Record every state the notebook's execution indicator goes through, from now on.
  window.__courseStatuses = [];
  window.__courseClickAt = window.__courseLastChange = performance.now();
  for (const ind of document.querySelectorAll('.jp-Notebook-ExecutionIndicator')) {
    new MutationObserver(() => { window.__courseStatuses.push(ind.getAttribute('data-status'));
                                 window.__courseLastChange = performance.now(); })
      .observe(ind, {attributes: true, attributeFilter: ['data-status']});
  }
}"""

_RUN_DONE_JS = """(quietMs) => {
  if (document.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')) return 'error';
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!ind || !window.__courseStatuses.includes('busy')) return false;
  return ind.getAttribute('data-status') === 'idle' && performance.now() - window.__courseLastChange > quietMs;
}"""

_PLACEHOLDERS_JS = """(placeholders) => {
  const out = [];
  for (const el of document.querySelectorAll('.jp-OutputArea-output, .jupyter-widgets, #rendered_cells *')) {
    if (el.children.length > 0) continue;
    const t = (el.textContent || '').trim();
    for (const p of placeholders) if (t.startsWith(p)) out.push(t.slice(0, 200));
  }
  return [...new Set(out)];
}"""


def open_notebook(tab: Tab, lab: Lab, path: str) -> None:
    page = tab.page
    page.goto(lab.url(path), wait_until="domcontentloaded", timeout=90_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
    wait_kernel_idle(tab)


_KERNEL_IDLE_JS = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some(e => /^(?!No Kernel).+ \\| Idle$/.test(e.textContent.trim()))"""


def wait_kernel_idle(tab: Tab, timeout_s: float = 90) -> None:
    """Wait until the status bar says '<kernel> | Idle'. Run All pressed while the kernel is still
    initialising is dropped by JupyterLab 4.6 (measured): nothing runs and no message is shown."""
    tab.page.wait_for_function(_KERNEL_IDLE_JS, timeout=timeout_s * 1000)


def menu(tab: Tab, top: str, command: str) -> None:
    """Click a JupyterLab menu entry by its command id (the visible labels change between versions)."""
    page = tab.page
    page.get_by_role("menuitem", name=top, exact=True).first.click()
    page.locator(f"li.lm-Menu-item[data-command='{command}']").first.click()


def run_all(tab: Tab, timeout_s: float = RUN_ALL_S) -> float:
    """Run > Run All Cells, then wait until the kernel went busy and is idle again (and stays idle for a
    moment: the indicator can dip to idle between cells). Returns seconds. Hidden-source cells show no
    input prompt, so the prompts cannot tell us; callers confirm on disk that every cell ran."""
    page = tab.page
    page.evaluate(_WATCH_STATUS_JS)
    menu(tab, "Run", "runmenu:run-all")
    status = page.wait_for_function(_RUN_DONE_JS, arg=700, timeout=timeout_s * 1000, polling=100).json_value()
    if status == "error":
        raise AssertionError("a cell raised an error during Run All:\n" + error_outputs(tab))
    # From the click to the kernel's last busy->idle, measured in the page.
    return page.evaluate("() => (window.__courseLastChange - window.__courseClickAt) / 1000")


def unexecuted_code_cells(nb_path: Path) -> list[int]:
    """Indexes of code cells without an execution count in a saved notebook (cells Run All did not run)."""
    nb = json.loads(nb_path.read_text())
    return [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and c.get("execution_count") is None]


def error_outputs(tab: Tab) -> str:
    return "\n---\n".join(
        tab.page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error'], "
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).all_text_contents()
    )[:4000]


def placeholder_count(tab: Tab, prefix: str) -> int:
    return tab.page.evaluate(
        """(prefix) => [...document.querySelectorAll('.jp-OutputArea-output')]
        .filter(o => (o.textContent || '').trim().startsWith(prefix)).length""",
        prefix,
    )


def widget_placeholders(tab: Tab) -> list[str]:
    return tab.page.evaluate(_PLACEHOLDERS_JS, list(WIDGET_PLACEHOLDERS))


def wait_widgets_rendered(tab: Tab, expected_views: int | None = None, timeout_s: float = 60) -> float:
    """Wait until no widget placeholder is left (and at least `expected_views` views exist). Returns seconds."""
    t0 = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    while True:
        left = widget_placeholders(tab)
        views = count_widget_views(tab)
        if not left and (expected_views is None or views >= expected_views):
            return time.perf_counter() - t0
        if time.monotonic() > deadline:
            raise AssertionError(
                f"widgets not rendered after {timeout_s:.0f} s: {views} views of "
                f"{expected_views} expected; placeholders still shown: {left}; "
                f"error outputs: {error_outputs(tab) or 'none'}"
            )
        tab.page.wait_for_timeout(200)


def count_widget_views(tab: Tab) -> int:
    """Top-level widget views: a widget output in JupyterLab, or a widget output in Voila's rendered cells."""
    return tab.page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output')]
        .filter(o => o.querySelector(':scope > .jupyter-widgets, :scope > .lm-Widget.jupyter-widgets')
                     || (o.classList.contains('jupyter-widgets') && o.children.length)).length""")


def widget_view_outputs(nb_path: Path) -> int:
    """How many widget views a saved notebook's outputs hold (one per displayed widget), counting those the
    course's save hook replaced by a "Run All to see this view again" note."""
    nb = json.loads(nb_path.read_text())
    return sum(
        1
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        or o.get("metadata", {}).get("course_stale_view")
    )


def live_widget_view_outputs(nb_path: Path) -> int:
    """Widget views saved as such (pointing at kernel models): the save hook leaves none."""
    nb = json.loads(nb_path.read_text())
    return sum(
        1
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    )


def save(tab: Tab) -> None:
    page = tab.page
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
    menu(tab, "File", "docmanager:save")
    page.wait_for_function(
        "() => !document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.jp-mod-dirty')", timeout=30_000
    )


def restart_kernel(tab: Tab) -> None:
    """Kernel > Restart Kernel..., accept the dialog, wait for the new kernel to be idle."""
    page = tab.page
    menu(tab, "Kernel", "kernelmenu:restart")
    page.locator(".jp-Dialog button.jp-mod-accept", has_text="Restart").click()
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=30_000)
    page.wait_for_timeout(500)
    wait_kernel_idle(tab)


# --------------------------------------------------------------------------- accessibility (axe-core)

OWNER_JS = """(targets) => targets.map(sel => {
  // Who wrote the markup axe flagged: 'ours' (course HTML, our notebooks' text), 'ipywidgets', 'jupyterlab'
  // (JupyterLab's or Voila's page chrome).
  let el = null;
  try { el = document.querySelector(sel); } catch (e) { return 'unknown'; }
  if (!el) return 'unknown';
  // Our HTML carries course-* classes; a course-* class on a widget container does not make the ipywidgets
  // controls inside it ours, so the nearest of the two decides.
  const w = el.closest('.jupyter-widgets'), c = el.closest('[class*="course-"]');
  if (c && (!w || w === c || w.contains(c))) return 'ours';
  if (w) return 'ipywidgets';
  if (el.matches('.jp-InternalAnchorLink, .anchor-link')) return 'jupyterlab';
  if (el.closest('.jp-MarkdownCell .jp-RenderedMarkdown, #rendered_cells .jp-RenderedMarkdown')) return 'ours';
  if (el.closest('.jp-OutputArea-output')) return 'ours';  // any other output our cells display
  return 'jupyterlab';
})"""


def run_axe(tab: Tab, context_selector: str | None = None) -> list[dict]:
    """axe-core violations of impact serious or critical, each node classified as ours or upstream."""
    page = tab.page
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """async (ctx) => {
        const r = await axe.run(ctx ? document.querySelector(ctx) : document,
                                {resultTypes: ['violations'], runOnly: {type: 'tag', values:
                                 ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.map(String).join(' '), html: n.html.slice(0, 300),
                                      impact: n.impact, summary: n.failureSummary}))}));
    }""",
        context_selector,
    )
    out = []
    for v in result:
        if v["impact"] not in ("serious", "critical"):
            continue
        owners = page.evaluate(OWNER_JS, [n["target"] for n in v["nodes"]])
        for n, owner in zip(v["nodes"], owners, strict=True):
            n["owner"] = owner
        out.append(v)
    return out


# --------------------------------------------------------------------------- generated notebooks


def write_notebook(path: Path, code_cells: list[str], markdown: str = "", hide_code: bool = False) -> Path:
    """A notebook of the given code cells (no outputs), optionally with code hidden as in trainee notebooks."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    if markdown:
        nb.cells.append(nbformat.v4.new_markdown_cell(markdown))
    for src in code_cells:
        cell = nbformat.v4.new_code_cell(src)
        if hide_code:
            cell.metadata["jupyter"] = {"source_hidden": True}
            cell.metadata["editable"] = False
            cell.metadata["deletable"] = False
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


PLAIN_WIDGETS_CELLS = [
    "import ipywidgets as w\nfrom IPython.display import display\n"
    "day = w.IntSlider(value=1, min=0, max=10, description='Day')\n"
    "shown = w.HTML(value='<p>Day 1</p>')\n"
    "day.observe(lambda ch: setattr(shown, 'value', f'<p>Day {ch.new}</p>'), 'value')\n"
    "display(day, shown)",
    "submit = w.Button(description='Submit')\nlog = w.Output()\n"
    "def clicked(_):\n    with log:\n        print('Submitted')\n"
    "submit.on_click(clicked)\ndisplay(submit, log)",
]

ONE_WIDGET_CELLS = ["import ipywidgets as w\nw.IntSlider(value=1, min=0, max=10, description='Day')"]


# --------------------------------------------------------------------------- a trainee's journey through a module

MODULE_IDS = ("m00-welcome", "m01-early-years", "m02-fracture", "m03-pregnancy", "m04-school", "m05-whole-picture")
SUBMIT_FIRST = "Submit my answer"
REVIEW_LABEL = "What the review found"
YOURS_LABEL = "Your answer"


def shutdown_kernels(lab: Lab) -> None:
    """Shut down every kernel session of the server through its REST API (as closing the tab would not)."""
    base = f"http://127.0.0.1:{lab.port}"
    headers = {"Authorization": f"token {lab.token}"}
    with contextlib.suppress(Exception):
        with urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions", headers=headers), timeout=10) as r:
            sessions = json.load(r)
        for s in sessions:
            req = urllib.request.Request(f"{base}/api/sessions/{s['id']}", headers=headers, method="DELETE")
            with contextlib.suppress(Exception):
                urllib.request.urlopen(req, timeout=10).close()


def lens_output(tab: Tab):
    """The agency lens: the widget output holding the 'View as' agency chooser."""
    page = tab.page
    return (
        page.locator(".jp-OutputArea-output, .jp-OutputArea-child")
        .filter(has=page.locator(".widget-dropdown", has_text="View as"))
        .last
    )


def lens_heading(lens) -> str:
    return lens.locator("section.course-view h3").first.inner_text()


def move_lens_date_with_keyboard(tab: Tab) -> tuple[str, str]:
    """Focus the lens's Date drop-down, press ArrowDown (the next date); return the lens heading before and after."""
    lens = lens_output(tab)
    lens.scroll_into_view_if_needed()
    lens.locator("section.course-view h3").first.wait_for(timeout=30_000)
    before = lens_heading(lens)
    date = lens.get_by_role("combobox", name="Date")
    date.focus()
    tab.page.keyboard.press("ArrowDown")
    deadline = time.monotonic() + 20
    after = before
    while after == before and time.monotonic() < deadline:
        tab.page.wait_for_timeout(150)
        after = lens_heading(lens)
    return before, after


def decision_outputs(tab: Tab):
    """Every decision widget on the page, in notebook order."""
    page = tab.page
    return page.locator(".jp-OutputArea-output, #rendered_cells .jupyter-widgets.widget-vbox").filter(
        has=page.get_by_role("button", name=re.compile(r"^(Submit my answer|Record a change)"))
    )


@dataclass
class Answered:
    option_texts: list[str]
    rationale: str
    confidence: int


def answer_decision(tab: Tab, decision, rationale: str) -> Answered:
    """Answer one decision widget with the keyboard and mouse as a trainee would, and press Submit."""
    page = tab.page
    radios = decision.get_by_role("radio")
    # The option from the keyboard: focus it (Tab reaches each one) and press Space.
    option = radios.first if radios.count() else decision.get_by_role("checkbox").first
    option.focus()
    page.keyboard.press("Space")
    assert option.is_checked(), "Space on a decision's option did not choose it"
    chosen = [option.locator("xpath=..").inner_text().strip()]
    # Confidence: the labelled drop-down, by its name, from the keyboard: it starts on "Choose 1 to 5" (no
    # default), and four ArrowDowns reach 4. JupyterLab would take that key to move to the next cell
    # (ipywidgets#3912) but for trainees' shortcut settings (course/apps/lab.py); the focus must stay on it.
    conf = decision.get_by_role("combobox", name=re.compile(r"^How confident are you"))
    cells = "() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length"
    before = page.evaluate(cells)
    conf.focus()
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("a")  # JupyterLab's "insert a cell above", but for trainees' shortcut settings
    assert conf.evaluate("e => e === document.activeElement"), "a key on the confidence drop-down left it"
    assert page.evaluate(cells) == before, "a key on the confidence drop-down changed the notebook"
    text = decision.get_by_role("textbox").first
    text.click()
    text.fill(rationale)
    text.press("Tab")  # ipywidgets Textarea syncs on change/blur
    page.wait_for_timeout(300)
    decision.get_by_role("button", name=SUBMIT_FIRST).click()
    decision.locator(f"section[aria-label='{REVIEW_LABEL}']").wait_for(timeout=30_000)
    return Answered(chosen, rationale, 4)


def tall_screenshot(tab: Tab, name: str, max_height: int = 14000) -> Path:
    """The whole notebook in one image: JupyterLab scrolls inside its panel, so grow the window to fit."""
    page = tab.page
    size = page.viewport_size
    height = page.evaluate("""() => { const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
        return s ? s.scrollHeight + 200 : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), max_height))})
    page.evaluate(
        """() => { for (const s of document.querySelectorAll('.jp-WindowedPanel-outer')) s.scrollTop = 0; }"""
    )
    page.wait_for_timeout(500)
    try:
        return tab.screenshot(name, full_page=False)
    finally:
        page.set_viewport_size(size)


def element_screenshot(tab: Tab, locator, name: str) -> Path:
    """One widget as a person sees it; the window grows so that a tall widget fits in one image."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page = tab.page
    size = page.viewport_size
    box = locator.bounding_box() or {"height": 0}
    if box["height"] + 200 > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(box["height"]) + 300, 14000)})
    try:
        locator.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        locator.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path


# --------------------------------------------------------------------------- Voila: `course present`


@dataclass
class Present:
    server: Server
    url: str

    def stop(self) -> None:
        self.server.stop()


def start_present(home: Path, module: str | None = None, data: Path | None = None) -> Present:
    """`course present` as a facilitator runs it, on a free port; stopped with Ctrl-C (SIGINT) so that it
    shuts its Voila down itself."""
    port = free_port()
    argv = [str(VENV_BIN / "course"), "present", "--no-browser", "--port", str(port)]
    if module:
        argv += ["--module", module]
    if data:
        argv += ["--data", str(data)]
    server = Server(
        argv,
        cwd=home,
        env=server_env(home),
        ready_url=f"http://127.0.0.1:{port}/voila/static/voila.js",
        log_path=home / f"present-{module or 'case'}.log",
        name="course present",
    )
    server.stop_signal = signal.SIGINT
    server.start()
    return Present(server, f"http://127.0.0.1:{port}/")


def wait_voila_done(tab: Tab, timeout_s: float = RUN_ALL_S) -> float:
    """Wait until Voila has executed every cell and shows the rendered page; returns seconds."""
    t0 = time.perf_counter()
    tab.page.wait_for_function(
        """() => { const r = document.getElementById('rendered_cells');
        const l = document.getElementById('loading');
        return r && r.style.display !== 'none' && (!l || l.style.display === 'none'); }""",
        timeout=timeout_s * 1000,
        polling=100,
    )
    return time.perf_counter() - t0


def open_projector(tab: Tab, present: Present, expected_views: int = 2) -> dict:
    """Open the projector view and wait until Voila has run every cell and every widget shows."""
    timings = {}
    try:
        tab.page.goto(present.url, wait_until="domcontentloaded", timeout=90_000)
        timings["executed_s"] = wait_voila_done(tab)
        timings["rendered_s"] = wait_widgets_rendered(tab, expected_views=expected_views)
    except Exception as e:
        raise AssertionError(f"{e}\n--- course present log (last lines):\n{present.server.log_tail(30)}") from e
    return timings


def expect(*args, **kwargs):
    """Playwright's expect, imported late so that the suite can be collected (and skipped) without Playwright."""
    from playwright.sync_api import expect as _expect

    return _expect(*args, **kwargs)
