"""The course home as a page of the Jupyter server itself (`<server>/course/home`): the content warning and
support, the modules in order with each one's progress, and where to carry on, with links to the module pages
(Voila). It needs no kernel: a room of trainees arriving at once waits for no Python process per person, and a
trainee's server keeps no kernel for it (docs/deploy.md, "A room logging in at once").

Every request is authenticated by the Jupyter server (the token on a laptop, the hub's login on the multi-user
server); the progress is read from the answers files in the server's own folder, never written. No script runs
in the page.
"""

from __future__ import annotations

from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from tornado import web

PATH = "course/home"  # under the server's base URL
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# The trainee pages' look (course/apps/voila_templates.py: TRAINEE_CSS) for a page without JupyterLab's styles.
PAGE_CSS = """
  html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
  body { font-size: 17px; color: #1a1a1a; background: #ffffff; margin: 0; }
  main.course-home { margin: 0 auto; padding: 1rem 1.5rem 3rem; }
  a { color: #00446b; }
  html body :focus-visible { outline: 3px solid #0072B2 !important; outline-offset: 2px !important; }
  .course-home ol.course-items li { margin: 0 0 0.8em; }
"""


def _jupyter_server_extension_points():
    return [{"module": "course.apps.home_page"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join

    base = serverapp.web_app.settings["base_url"]
    state = {"workspace": Path(serverapp.root_dir).expanduser(), "pages_at": url_path_join(base, "voila/render/")}
    serverapp.web_app.add_handlers(".*$", [(url_path_join(base, PATH) + "/?", HomeHandler, state)])


def page(title: str, body: str) -> str:
    from ..render.style import esc

    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def home_page(workspace: Path, pages_at: str, case=None) -> str:
    """The whole page: the course's home (course/render/home.py) for the modules in `workspace`, each linked to
    its Voila page under `pages_at`; the case pack of the server's environment (COURSE_DATA) unless given."""
    from ..core.cached import load_case_cached
    from ..notebook import module_progress
    from ..render.home import home_html

    case = case if case is not None else load_case_cached(None)
    return page(f"Course home: {case.title}", home_html(case, module_progress(case, workspace), pages_at))


class HomeHandler(JupyterHandler):
    def initialize(self, workspace: Path, pages_at: str) -> None:
        self.workspace, self.pages_at = workspace, pages_at

    @property
    def content_security_policy(self) -> str:
        return CSP

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")

    @web.authenticated
    def get(self) -> None:
        from ..render.style import problem_html

        try:
            text = home_page(self.workspace, self.pages_at)
        except Exception as e:  # the case pack or a module cannot be read: say so, in the page
            self.log.error("course home: %s", e)
            self.set_status(500)
            text = page("Course home", f"<main>{problem_html(f'The course home cannot be shown: {e}')}</main>")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(text)
