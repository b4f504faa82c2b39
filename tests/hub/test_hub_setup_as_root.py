"""setup.py as root, for real: system users, the first-passwords file, and re-running install over an
administrator's settings (no hub process; tests/hub/system_course.py)."""

from __future__ import annotations

import json
import stat

import pytest

from tests.hub.conftest import missing_for_hub
from tests.hub.system_course import system_course

_missing = missing_for_hub()
pytestmark = [
    pytest.mark.hub,
    pytest.mark.slow,
    pytest.mark.skipif(_missing is not None, reason=f"setup.py as root: {_missing}"),
]


@pytest.fixture(scope="module")
def course():
    with system_course(trainees=("a",)) as c:
        yield c


def test_first_passwords_file_is_made_private_and_kept(course):
    """add-users --passwords appended to an existing world-readable file and left it so; now it is 0600."""
    mode = stat.S_IMODE(course.passwords.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert course.passwords.stat().st_uid == 0
    lines = course.passwords.read_text().splitlines()
    assert lines[0] == "someone-earlier,their-first-password"
    assert {line.split(",")[0] for line in lines[1:]} == set(course.users.values())


def test_reinstalling_keeps_the_administrators_settings(course):
    settings_file = course.prefix / "etc" / "course-hub.json"
    settings = json.loads(settings_file.read_text())
    settings.update(hub_admins=["t.admin"], mem_limit="2G", bind_url="http://127.0.0.1:8123")
    settings_file.write_text(json.dumps(settings))
    course.install()  # the same command as the first time
    again = json.loads(settings_file.read_text())
    assert again["hub_admins"] == ["t.admin"] and again["mem_limit"] == "2G"
    assert again["bind_url"] == "http://127.0.0.1:8123"  # not given this time: the administrator's stays
    assert again["exchange_root"] == str(course.exchange)
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o644
    # An option given on the command line wins, and the rest stays.
    course.install("--bind-url", "http://127.0.0.1:8124")
    again = json.loads(settings_file.read_text())
    assert again["bind_url"] == "http://127.0.0.1:8124" and again["hub_admins"] == ["t.admin"]
