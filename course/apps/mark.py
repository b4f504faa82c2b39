"""The marking page: a Jupyter server extension (one page, its script and style, a small JSON API) served under
`<server>/course-mark/`, and `course mark`, which starts a Jupyter server with it on 127.0.0.1 with a token and
opens the page.

Every request is authenticated by the Jupyter server (the token on a laptop, the hub's login on the multi-user
server) and every write checks the XSRF cookie. The page is served with a Content-Security-Policy that allows
only its own script and style, so nothing a trainee wrote can run even if it were ever parsed as markup, and
nothing is fetched from anywhere but this server.
"""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from ..grading.comment_bank import BANK_FILE, add_comment, load_bank
from ..grading.config import DEFAULT_COURSE_DIR, GradingError
from ..grading.marking import MarkingSession, default_marker, mark_scheme

PAGE_DIR = Path(__file__).resolve().parent / "mark_page"
PREFIX = "course-mark"
FILES = {"mark.js": "application/javascript", "mark.css": "text/css"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)


def _jupyter_server_extension_points():
    return [{"module": "course.apps.mark"}]


def session_from_config(config) -> MarkingSession:
    """The session this server marks for, from its `CourseMark` configuration (written by `course mark`; on the
    multi-user server, set in the trainer's Jupyter config): course_dir, marker, moderate."""
    section = config.get("CourseMark", {}) if hasattr(config, "get") else {}
    course_dir = Path(section.get("course_dir") or DEFAULT_COURSE_DIR)
    marker = str(section.get("marker") or default_marker())
    return MarkingSession(course_dir, marker, bool(section.get("moderate", False)))


def _load_jupyter_server_extension(serverapp) -> None:
    import nbgrader.api  # noqa: F401 - imported now, so that the first mark saved does not wait for it
    from jupyter_server.utils import url_path_join

    base = url_path_join(serverapp.web_app.settings["base_url"], PREFIX)
    state = {"session": session_from_config(serverapp.config)}
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (base + "/?", PageHandler, state),
            (base + r"/static/([a-z]+\.(?:js|css))", FileHandler, state),
            (base + "/api/session", SessionHandler, state),
            (base + "/api/item", ItemHandler, state),
            (base + "/api/mark", MarkHandler, state),
            (base + "/api/bank", BankHandler, state),
        ],
    )


class Base(JupyterHandler):
    def initialize(self, session: MarkingSession) -> None:
        self.session = session

    @property
    def content_security_policy(self) -> str:
        return CSP

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")

    def reply(self, data: object, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data))

    def problem(self, message: str, status: int = 400) -> None:
        self.reply({"error": message}, status)

    def body(self) -> dict:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise GradingError("the request must be a JSON object.")
        return data


class PageHandler(Base):
    @web.authenticated
    def get(self) -> None:
        self.xsrf_token  # noqa: B018 - sets the _xsrf cookie the page sends back with each save
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish((PAGE_DIR / "mark.html").read_bytes())


class FileHandler(Base):
    @web.authenticated
    def get(self, name: str) -> None:
        if name not in FILES:
            raise web.HTTPError(404)
        self.set_header("Content-Type", FILES[name] + "; charset=utf-8")
        self.finish((PAGE_DIR / name).read_bytes())


class SessionHandler(Base):
    @web.authenticated
    def get(self) -> None:
        s = self.session
        try:
            queue = s.queue()
            schemes = {m: mark_scheme(m, s.pack_dir) for m in sorted({q["module"] for q in queue})}
            bank = load_bank(s.course_dir, s.pack_dir)
        except GradingError as e:
            self.problem(str(e), 500)
            return
        self.reply(
            {
                "marker": s.marker,
                "moderate": s.moderate,
                "course_dir": str(s.course_dir),
                "bank_file": str(s.course_dir / BANK_FILE),
                "queue": queue,
                "schemes": schemes,
                "bank": bank["modules"],
            }
        )


class ItemHandler(Base):
    @web.authenticated
    def get(self) -> None:
        try:
            self.reply(self.session.item(self.get_argument("trainee"), self.get_argument("module")))
        except GradingError as e:
            self.problem(str(e), 404)


class MarkHandler(Base):
    @web.authenticated
    def post(self) -> None:
        try:
            b = self.body()
            saved = self.session.save(
                str(b.get("trainee")),
                str(b.get("module")),
                b.get("scores"),  # type: ignore[arg-type]  # checked by save
                b.get("comment", ""),
                str(b.get("fingerprint")),
            )
        except GradingError as e:
            self.problem(str(e))
            return
        self.reply(saved)


class BankHandler(Base):
    @web.authenticated
    def post(self) -> None:
        s = self.session
        try:
            b = self.body()
            doc = add_comment(
                s.course_dir, str(b.get("module")), str(b.get("criterion")), b.get("points"), b.get("text"), s.pack_dir
            )
        except GradingError as e:
            self.problem(str(e))
            return
        self.reply({"bank": doc["modules"]})
