"""Where the hub listens: plain HTTP only on loopback unless it has a certificate or the administrator said
--insecure-http; the any-password test authenticator only on loopback. Checked by setup.py before it changes
anything, and by the hub's own configuration at start (deploy/jupyterhub/listening.py holds the rule).
Runs anywhere, without root."""

from __future__ import annotations

import json
import os

import pytest

from tests.hub.conftest import load_setup_module
from tests.hub.test_hub_setup import _load_hub_config, _settings

setup = load_setup_module()


def install(tmp_path, capsys, *options) -> tuple[int, str]:
    """setup.py install into an empty prefix; a Python that does not exist, so nothing gets far if accepted."""
    code = setup.main(
        [
            "--prefix",
            str(tmp_path / "prefix"),
            "install",
            "--venv",
            str(tmp_path / "venv"),
            "--python",
            str(tmp_path / "no-python"),
            "--exchange",
            str(tmp_path / "exchange"),
            *options,
        ]
    )
    return code, capsys.readouterr().err


def choices(tmp_path, *options, old=None) -> dict:
    args = setup.build_parser().parse_args(["--prefix", str(tmp_path), "install", *options])
    return setup.install_choices(args, old or {})


def test_by_default_the_hub_listens_on_loopback_only(tmp_path):
    assert choices(tmp_path)["bind_url"] == "http://127.0.0.1:8000"
    assert choices(tmp_path, "--authenticator", "dummy")["bind_url"] == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "url", ["http://:8000", "http://0.0.0.0:8000", "http://192.0.2.10:8000", "http://hub.example:80"]
)
def test_install_refuses_plain_http_off_loopback_before_changing_anything(tmp_path, capsys, url):
    code, err = install(tmp_path, capsys, "--bind-url", url)
    assert code == 1
    assert "serves plain HTTP" in err and "passwords would cross the network in clear" in err
    assert "--ssl-cert" in err and "--insecure-http" in err
    assert not (tmp_path / "prefix").exists() and not (tmp_path / "exchange").exists()


def test_plain_http_off_loopback_only_when_asked_for_and_then_marked(tmp_path):
    chosen = choices(tmp_path, "--bind-url", "http://:8000", "--insecure-http")
    assert chosen["bind_url"] == "http://:8000" and chosen["insecure_http"] is True
    assert choices(tmp_path, "--insecure-http")["insecure_http"] is False  # loopback: nothing insecure to mark


@pytest.mark.parametrize("url", ["http://:8000", "http://0.0.0.0:8000", "https://:8000"])
def test_install_refuses_the_any_password_authenticator_off_loopback_even_when_asked(tmp_path, capsys, url):
    cert = tmp_path / "hub.crt"
    key = tmp_path / "hub.key"
    cert.write_text("certificate")
    key.write_text("key")
    os.chmod(key, 0o600)
    tls = ["--ssl-cert", str(cert), "--ssl-key", str(key)] if url.startswith("https") else []
    code, err = install(tmp_path, capsys, "--authenticator", "dummy", "--bind-url", url, "--insecure-http", *tls)
    assert code == 1 and "dummy authenticator lets anyone in with any password" in err


def test_with_a_certificate_the_hub_serves_https_on_every_interface(tmp_path):
    cert, key = tmp_path / "hub.crt", tmp_path / "hub.key"
    cert.write_text("certificate")
    key.write_text("key")
    os.chmod(key, 0o640)
    chosen = choices(tmp_path, "--ssl-cert", str(cert), "--ssl-key", str(key))
    assert chosen["bind_url"] == "https://:8000" and chosen["ssl_cert"] == str(cert)
    with pytest.raises(setup.SetupError, match="with a certificate and key the hub serves https://"):
        choices(tmp_path, "--ssl-cert", str(cert), "--ssl-key", str(key), "--bind-url", "http://:8000")
    with pytest.raises(setup.SetupError, match="both a certificate"):
        choices(tmp_path, "--ssl-cert", str(cert))
    os.chmod(key, 0o644)
    with pytest.raises(setup.SetupError, match="readable by every user"):
        choices(tmp_path, "--ssl-cert", str(cert), "--ssl-key", str(key))


def test_reinstall_keeps_the_listening_choices_an_earlier_install_made(tmp_path):
    old = {"bind_url": "http://:8000", "insecure_http": True, "authenticator": "pam", "exchange_root": "/data/ex"}
    chosen = choices(tmp_path, old=old)
    assert (chosen["bind_url"], chosen["insecure_http"], chosen["exchange_root"]) == ("http://:8000", True, "/data/ex")
    # A new address must be asked for as insecure again.
    with pytest.raises(setup.SetupError, match="serves plain HTTP"):
        choices(tmp_path, "--bind-url", "http://0.0.0.0:9000", old=old)


def test_hub_configuration_applies_the_rule_at_start(tmp_path, monkeypatch, capsys):
    users = "username,role,full_name\nann,trainee,A\n"
    s = _settings(tmp_path, users)
    c = _load_hub_config(tmp_path, monkeypatch)
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000"
    for edited, words in (
        ({"bind_url": "http://:8000"}, "serves plain HTTP"),
        ({"bind_url": "http://:8000", "insecure_http": True, "authenticator": "dummy"}, "dummy authenticator"),
        ({"bind_url": None}, None),
    ):
        (tmp_path / "course-hub.json").write_text(json.dumps(s | edited), encoding="utf-8")
        if words is None:
            assert _load_hub_config(tmp_path, monkeypatch).JupyterHub.bind_url == "http://127.0.0.1:8000"
            continue
        with pytest.raises(SystemExit, match=words):
            _load_hub_config(tmp_path, monkeypatch)
    (tmp_path / "course-hub.json").write_text(json.dumps(s | {"bind_url": "http://:8000", "insecure_http": True}))
    capsys.readouterr()
    assert _load_hub_config(tmp_path, monkeypatch).JupyterHub.bind_url == "http://:8000"
    assert "WARNING: the hub serves plain HTTP on http://:8000 (--insecure-http)" in capsys.readouterr().err


def test_first_passwords_file_is_made_private_whatever_it_was(tmp_path):
    path = tmp_path / "passwords.csv"
    path.write_text("earlier,pw\n")
    os.chmod(path, 0o644)
    fd = setup.open_passwords(str(path))
    os.write(fd, b"new,pw\n")
    os.close(fd)
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert path.read_text() == "earlier,pw\nnew,pw\n"
    link = tmp_path / "link.csv"
    link.symlink_to(path)
    with pytest.raises(setup.SetupError, match="cannot be opened"):
        setup.open_passwords(str(link))
    os.link(path, tmp_path / "other-name.csv")
    with pytest.raises(setup.SetupError, match="hard links"):
        setup.open_passwords(str(path))
