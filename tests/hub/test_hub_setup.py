"""The hub's setup script and configuration, checked without starting anything (runs everywhere, no root)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from tests.hub.conftest import load_setup_module, missing_for_hub
from tests.paths import ROOT

setup = load_setup_module()


def test_users_csv_example_is_valid_and_has_a_trainer():
    rows = setup.read_users(ROOT / "deploy" / "jupyterhub" / "users.example.csv")
    assert {r["role"] for r in rows} == {"trainer", "trainee"}
    assert all(setup.USERNAME.match(r["username"]) for r in rows)


def test_users_csv_problems_name_the_line_and_the_fix(tmp_path):
    bad = tmp_path / "users.csv"
    bad.write_text("username,role\nAlice Smith,trainee\nbob,student\nbob,trainee\n", encoding="utf-8")
    with pytest.raises(setup.SetupError) as e:
        setup.read_users(bad)
    msg = str(e.value)
    assert f"{bad}:2: username 'alice smith' is not a valid system user name" in msg
    assert f"{bad}:3: role 'student' must be one of trainer, trainee" in msg
    assert f"{bad}:4: 'bob' is listed twice" in msg


def test_users_csv_without_a_header_says_which_columns_are_needed(tmp_path):
    bad = tmp_path / "users.csv"
    bad.write_text("alice,trainee\n", encoding="utf-8")
    with pytest.raises(setup.SetupError, match="must name the columns username,role"):
        setup.read_users(bad)


def test_hub_test_says_exactly_why_it_skips_when_not_root(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert missing_for_hub() == "needs root: it creates system users and starts a JupyterHub (CI runs it as root)"


def _settings(tmp_path, users: str) -> dict:
    (tmp_path / "users.csv").write_text(users, encoding="utf-8")
    s = {
        "course_id": "safeguarding-case-review",
        "venv": "/opt/x/venv",
        "data_dir": "/opt/x/share/data",
        "notebooks_dir": "/opt/x/share/notebooks",
        "exchange_root": "/srv/ex",
        "users_csv": str(tmp_path / "users.csv"),
        "state_dir": str(tmp_path),
        "trainee_config_dir": "/opt/x/etc/jupyter-trainee",
        "proxy_command": "/usr/bin/chp",
        "authenticator": "pam",
        "bind_url": "http://127.0.0.1:8000",
    }
    (tmp_path / "course-hub.json").write_text(json.dumps(s), encoding="utf-8")
    return s


def _load_hub_config(tmp_path, monkeypatch) -> Config:
    monkeypatch.setenv("COURSE_HUB_SETTINGS", str(tmp_path / "course-hub.json"))
    c = Config()
    code = (ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py").read_text(encoding="utf-8")
    path = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"

    def load_subconfig(name: str) -> None:  # as traitlets does: the site's file, with the same config object
        exec(compile(Path(name).read_text(encoding="utf-8"), name, "exec"), {"get_config": lambda: c})

    exec(
        compile(code, str(path), "exec"),
        {"get_config": lambda: c, "load_subconfig": load_subconfig, "__file__": str(path)},
    )
    return c


def test_hub_config_lets_in_only_registered_users_and_gives_trainees_no_trainer_tools(tmp_path, monkeypatch):
    _settings(tmp_path, "username,role,full_name\ntr1,trainer,T\nann,trainee,A\n")
    c = _load_hub_config(tmp_path, monkeypatch)
    assert c.Authenticator.allowed_users == {"tr1", "ann"} and c.Authenticator.allow_all is False
    assert c.JupyterHub.authenticator_class == "pam"
    assert c.Spawner.cmd[-1] == "/opt/x/venv/bin/jupyterhub-singleuser" and "umask 077" in c.Spawner.cmd[2]
    assert c.Spawner.environment["COURSE_DATA"] == "/opt/x/share/data"
    for name, trainer_tools in (("tr1", True), ("ann", False), ("someone-new", False)):
        spawner = SimpleNamespace(user=SimpleNamespace(name=name), environment=dict(c.Spawner.environment))
        c.Spawner.pre_spawn_hook(spawner)
        assert ("JUPYTER_CONFIG_PATH" not in spawner.environment) is trainer_tools, name
        assert any("course.apps.mark" in arg for arg in getattr(spawner, "args", [])) is trainer_tools, name


def test_nbgrader_settings_point_everyone_at_the_shared_exchange_and_our_exchange_classes(tmp_path):
    s = {"course_id": "safeguarding-case-review", "exchange_root": "/srv/ex", "share": str(tmp_path)}
    (tmp_path / "grading").mkdir()
    (tmp_path / "grading" / "nbgrader_config.py").write_text(
        (ROOT / "grading" / "nbgrader_config.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    for text in (setup.global_nbgrader_config(s), setup.trainer_course_config(s)):
        c = Config()
        path = tmp_path / "cfg.py"
        path.write_text(text, encoding="utf-8")
        exec(compile(text, str(path), "exec"), {"get_config": lambda c=c: c, "__file__": str(path)})
        assert c.Exchange.root == "/srv/ex"  # the shipped course config's own exchange folder is overridden
        assert c.ExchangeFactory.submit == "course.grading.exchange.ExchangeSubmit"
        assert c.ExchangeFactory.collect == "course.grading.exchange.ExchangeCollect"


def test_venv_cache_key_follows_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n", encoding="utf-8")
    first = setup.deps_key(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\ndependencies=['y']\n", encoding="utf-8")
    assert setup.deps_key(tmp_path) != first


@pytest.mark.parametrize(
    ("bind_url", "local", "api_url"),
    [
        ("http://127.0.0.1:8000", "", "http://127.0.0.1:8081/hub/api"),
        ("http://127.0.0.1:8000/course/", "", "http://127.0.0.1:8081/course/hub/api"),
        (
            "http://127.0.0.1:8000",
            "c.JupyterHub.hub_ip = '0.0.0.0'\nc.JupyterHub.hub_port = 9999\n",
            "http://127.0.0.1:9999/hub/api",
        ),
        ("http://127.0.0.1:8000", "c.JupyterHub.hub_bind_url = 'http://[::1]:8082'\n", "http://[::1]:8082/hub/api"),
        ("http://127.0.0.1:8000", "c.JupyterHub.hub_bind_url = 'http+unix://%2Ftmp%2Fhub.sock'\n", None),
    ],
)
def test_start_servers_is_told_where_the_hubs_own_api_answers_as_the_site_configured_it(
    tmp_path, monkeypatch, bind_url, local, api_url
):
    """setup.py start-servers reads the hub's API address and its token from state/start-servers.json, which the
    hub's config writes for root alone; the site's config (loaded before it) may move the hub's own address."""
    s = _settings(tmp_path, "username,role,full_name\nann,trainee,A\n")
    s["bind_url"] = bind_url
    (tmp_path / "course-hub.json").write_text(json.dumps(s), encoding="utf-8")
    (tmp_path / "jupyterhub_config.local.py").write_text("c = get_config()  # noqa\n" + local, encoding="utf-8")
    c = _load_hub_config(tmp_path, monkeypatch)
    state = tmp_path / "start-servers.json"
    found = json.loads(state.read_text(encoding="utf-8"))
    assert found["api_url"] == api_url
    assert (found["why"] == "") is (api_url is not None)
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    service = next(x for x in c.JupyterHub.services if x["name"] == "course-start-servers")
    assert service["api_token"] == found["token"] and len(found["token"]) >= 32
    _load_hub_config(tmp_path, monkeypatch)  # the hub started again: the same token, one file
    assert json.loads(state.read_text(encoding="utf-8"))["token"] == found["token"]
    assert sorted(p.name for p in tmp_path.glob("*start-servers*")) == ["start-servers.json"]


@pytest.mark.parametrize(("value", "args"), [(None, []), (0, ["=0", "=60"]), (20, ["=20", "=5"])])
def test_page_kernel_idle_s_reaches_trainees_servers(tmp_path, monkeypatch, value, args):
    s = _settings(tmp_path, "username,role,full_name\nann,trainee,A\n")
    if value is not None:
        s["page_kernel_idle_s"] = value
    (tmp_path / "course-hub.json").write_text(json.dumps(s), encoding="utf-8")
    c = _load_hub_config(tmp_path, monkeypatch)
    spawner = SimpleNamespace(user=SimpleNamespace(name="ann"), environment=dict(c.Spawner.environment))
    c.Spawner.pre_spawn_hook(spawner)
    cull = [a for a in getattr(spawner, "args", []) if "MappingKernelManager" in a]
    assert [a[a.index("=") :] for a in cull] == args


@pytest.mark.parametrize("value", ["900", -1, 1.5, True])
def test_a_bad_page_kernel_idle_s_stops_the_hub_with_the_reason(tmp_path, monkeypatch, value):
    s = _settings(tmp_path, "username,role,full_name\nann,trainee,A\n")
    s["page_kernel_idle_s"] = value
    (tmp_path / "course-hub.json").write_text(json.dumps(s), encoding="utf-8")
    with pytest.raises(SystemExit, match=r"page_kernel_idle_s .* must be a whole number of seconds"):
        _load_hub_config(tmp_path, monkeypatch)
