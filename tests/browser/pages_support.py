"""The trainee's pages as `course open` serves them, for the browser tests: a workspace served by JupyterLab with
the Voila pages configured (templates, settings), opening a page and waiting for it, and what the keyboard and
zoom tests measure in the page (focus rings, cut-off content)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from . import harness

# Voila, as a Jupyter server extension, asks the server to shut a page's kernel down when the page is left, and
# the server refuses that request without an XSRF token (voila-dashboards/voila#1417-style). The kernel is left
# to the server's idle culling; the message is the browser's, not the course's. On the hub the same request is
# under /user/<name>/.
LEAVING_A_PAGE = re.compile(r"403 \(Forbidden\) \(http://127\.0\.0\.1:\d+/(user/[^/]+/)?voila/api/shutdown/")


def page_errors(tab) -> list[str]:
    return [e for e in tab.js_errors() if not LEAVING_A_PAGE.search(e)]


def copy_workspace(built: Path, into: Path) -> Path:
    """A copy of the built trainee workspace with the pages' config, as `course open` leaves it."""
    from course.apps import lab as ws_mod

    shutil.copytree(built, into)
    ws_mod.write_lab_config(into)
    return into


def serve(root: Path, home: Path) -> harness.Lab:
    """The Jupyter server `course open` starts on `root` (Voila pages and JupyterLab, one token)."""
    from course.apps import lab as ws_mod

    env = ws_mod.lab_environment(root)
    extra = {k: env[k] for k in ("JUPYTER_CONFIG_PATH", "JUPYTER_PATH")}
    return harness.start_lab(root, home, extra)


def voila_url(lab, path: str) -> str:
    return f"http://127.0.0.1:{lab.port}/voila/render/{path}?token={lab.token}"


def home_url(lab) -> str:
    """The course home, a page of the server itself (course/apps/home_page.py), not a notebook."""
    from course.apps.pages import HOME_PAGE

    return f"http://127.0.0.1:{lab.port}/{HOME_PAGE}?token={lab.token}"


def open_home(tab, lab) -> None:
    tab.page.goto(home_url(lab), wait_until="domcontentloaded", timeout=90_000)
    tab.page.locator(".course-home").wait_for(timeout=60_000)


def open_page(tab, lab, path: str) -> None:
    tab.page.goto(voila_url(lab, path), wait_until="domcontentloaded", timeout=90_000)
    harness.wait_voila_done(tab)


def open_module(tab, lab, module: str) -> None:
    """Open a module's page and wait until its last view (the reflection box, below every decision) is drawn:
    Voila can show the page before every widget view is in it, and an output waiting for its view shows no
    placeholder."""
    open_page(tab, lab, f"{module}/{module}.ipynb")
    harness.wait_widgets_rendered(tab)
    tab.page.locator(".course-reflection textarea").wait_for(timeout=60_000)


# What the focused element shows (WCAG 2.2, 2.4.13 focus appearance, measured as Chromium computes it): the
# outline or box-shadow ring, its thickness in CSS px, the contrast of its colour against the background next to
# it, and whether an ancestor that clips its overflow cuts the ring off.
FOCUS_RING_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const rgb = (s) => { const m = (s || '').match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const contrast = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  let bg = {r: 255, g: 255, b: 255, a: 1};
  for (let n = el.parentElement; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor); if (c && c.a > 0.5) { bg = c; break; } }
  const cs = getComputedStyle(el);
  let width = 0, color = null, reach = 0;
  if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) {
    width = parseFloat(cs.outlineWidth); color = rgb(cs.outlineColor);
    reach = width + Math.max(0, parseFloat(cs.outlineOffset) || 0);
  } else if (cs.boxShadow && cs.boxShadow !== 'none') {
    // A focus ring drawn as a box-shadow: its spread is its thickness (inset or not).
    const m = cs.boxShadow.match(/(rgba?\\([^)]+\\))\\s+(-?[\\d.]+)px\\s+(-?[\\d.]+)px\\s+([\\d.]+)px\\s+([\\d.]+)px/);
    if (m && parseFloat(m[5]) > 0) { width = parseFloat(m[5]); color = rgb(m[1]); reach = /inset/.test(cs.boxShadow) ? 0 : width; }
  }
  const r = el.getBoundingClientRect();
  let clippedBy = null;
  for (let n = el.parentElement; n && n !== document.body; n = n.parentElement) {
    const s = getComputedStyle(n);
    if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
    const b = n.getBoundingClientRect();
    if (r.left - reach < b.left - 0.5 || r.right + reach > b.right + 0.5
        || r.top - reach < b.top - 0.5 || r.bottom + reach > b.bottom + 0.5) {
      clippedBy = n.tagName + '.' + String(n.className).split(' ').slice(0, 3).join('.'); break; }
  }
  const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.title || '').trim().slice(0, 50)
    || (el.labels && el.labels[0] ? el.labels[0].innerText.trim().slice(0, 50) : '');
  return {what: `${el.tagName.toLowerCase()}${el.type ? '[' + el.type + ']' : ''} "${name}"`, width,
          contrast: color ? Math.round(contrast(color, bg) * 100) / 100 : 0, clippedBy,
          key: el.tagName + '|' + [...document.querySelectorAll('*')].indexOf(el)};
}"""


def focus_ring(tab) -> dict | None:
    return tab.page.evaluate(FOCUS_RING_JS)


def focus_problems(ring: dict) -> list[str]:
    """What is wrong with one control's focus ring: thinner than 2 CSS px, under 3:1 against its background, or
    cut off by a container."""
    out = []
    if ring["width"] < 2:
        out.append(f"{ring['what']}: no focus ring of at least 2 px (found {ring['width']} px)")
    elif ring["contrast"] < 3:
        out.append(f"{ring['what']}: focus ring contrast {ring['contrast']}:1 against its background, under 3:1")
    if ring["clippedBy"]:
        out.append(f"{ring['what']}: focus ring cut off by {ring['clippedBy']}")
    return out


# Content cut off or scrolled sideways: any element on the page whose content is wider than its box while it
# hides or scrolls its overflow, and the page itself scrolling sideways.
CUT_OFF_JS = """() => {
  const out = [];
  const d = document.documentElement;
  if (d.scrollWidth > d.clientWidth + 1) out.push(`the page scrolls sideways (${d.scrollWidth} px in ${d.clientWidth} px)`);
  for (const el of document.querySelectorAll('#rendered_cells *, main.course-home *')) {
    if (!el.clientWidth || el.closest('[style*="display: none"]')) continue;
    const s = getComputedStyle(el);
    if (s.overflowX === 'visible' || el.scrollWidth <= el.clientWidth + 1) continue;
    out.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ').slice(0, 4).join('.')} (overflow ${s.overflowX}): `
             + `${el.scrollWidth} px of content in ${el.clientWidth} px: "${(el.innerText || '').trim().slice(0, 60)}"`);
  }
  return out;
}"""


def cut_off(tab) -> list[str]:
    return tab.page.evaluate(CUT_OFF_JS)


def within_width(locator, width: int) -> bool:
    """Whether the element, scrolled into view, lies within the window's width (nothing off to the side)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    return bool(box) and box["x"] >= -0.5 and box["x"] + box["width"] <= width + 0.5
