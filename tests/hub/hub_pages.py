"""A person logging in to the hub in Chromium: the hub's own login form, then wherever the hub sends them. A
trainee lands on their course home (the trainee pages in their own server) and opens a module from it; a trainer
lands in JupyterLab. Used by the hub tests and the hub benchmark."""

from __future__ import annotations

import re
import time

from tests.browser import harness
from tests.browser.pages_support import LEAVING_A_PAGE

TRAINEE_HOME = re.compile(r"/user/[^/]+/course/home")


def page_errors(tab) -> list[str]:
    """JavaScript errors, less Voila's refused kernel shutdown when a page is left (as in the browser suite)."""
    return [e for e in tab.js_errors() if not LEAVING_A_PAGE.search(e)]


def log_in(tab, hub_url: str, user: str, password: str = "not-checked-by-the-dummy-authenticator") -> float:
    """The hub's login form, as a person fills it in; returns seconds from pressing Sign in to the page the hub
    sends them to having started loading."""
    page = tab.page
    page.goto(f"{hub_url}/hub/login", wait_until="domcontentloaded", timeout=60_000)
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(password)
    t0 = time.monotonic()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/user/{re.escape(user)}/"), wait_until="commit", timeout=120_000)
    return time.monotonic() - t0


def wait_home_interactive(tab, timeout_s: float = 180) -> None:
    """The course home (a page of the trainee's server, no kernel) shows its links."""
    tab.page.locator(".course-home").wait_for(timeout=timeout_s * 1000)


def open_module_from_home(tab, module: str) -> None:
    """Follow the home's link to a module from the keyboard (focus, Enter) and wait for its views."""
    page = tab.page
    link = page.locator(f".course-home li a[href$='/voila/render/{module}/{module}.ipynb']")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/voila/render/{module}/{module}\.ipynb"), wait_until="commit", timeout=60_000)
    harness.wait_voila_done(tab)
    harness.wait_widgets_rendered(tab)
