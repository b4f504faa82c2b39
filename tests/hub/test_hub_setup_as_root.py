"""setup.py as root, for real: system users, the first-passwords file, and re-running install over an
administrator's settings (no hub process; tests/hub/system_course.py)."""

from __future__ import annotations

import json
import pwd
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


def test_remove_users_says_what_it_deletes_and_keeps_a_trainers_course_without_the_flag(course):
    trainer = course.users["trainer"]
    listed = course.base / "leaving.csv"
    listed.write_text(f"username,role,full_name\n{trainer},trainer,Test Trainer\n")
    refused = course.setup("remove-users", listed, check=False)
    said = refused.stdout + refused.stderr
    assert refused.returncode == 1
    assert "remove-users will delete:" in said and f"{course.home('trainer')}/course (gradebook" in said
    assert "not removing anyone" in said and "--delete-trainer-courses" in said
    assert (course.home("trainer") / "course" / "nbgrader_config.py").exists()
    dry = course.setup("remove-users", listed, "--delete-trainer-courses", "--dry-run")
    assert "nothing deleted" in dry.stdout
    assert (course.home("trainer") / "course").is_dir()


def test_an_administrator_puts_back_a_trainees_set_aside_answers(course):
    folder = course.home("a") / "m00-welcome"
    course.as_user("a", ["mkdir", "-p", folder])
    course.as_user(
        "a",
        [
            course.venv / "bin" / "python",
            "-c",
            "import sys; from course.store import AnswerStore; from course.core.pack import load_case\n"
            "s = AnswerStore(sys.argv[1], case=load_case(sys.argv[2]))\n"
            "assert s.record('d-practice-printer', 'secure', 'Lock it away.', 3).saved",
            folder,
            course.prefix / "share" / "data",
        ],
    )
    good = (folder / "answers.json").read_text()
    aside = folder / "answers.json.corrupt-20250301T101500Z"
    (folder / "answers.json").rename(aside)
    course.sh("a", 'printf "{not json" > "$1"', folder / "answers.json")
    listed = course.setup("recover-answers", course.users["a"], "m00-welcome").stdout
    assert f"{aside}: readable" in listed
    assert f"{folder / 'answers.json'}: readable" not in listed
    course.setup("recover-answers", course.users["a"], "m00-welcome", "--use", aside.name)
    restored = folder / "answers.json"
    assert restored.read_text() == good
    assert restored.stat().st_uid == pwd.getpwnam(course.users["a"]).pw_uid
    assert stat.S_IMODE(restored.stat().st_mode) == 0o600
    assert [p.read_text() for p in folder.glob("answers.json.replaced-*")] == ["{not json"]
