"""Where the hub may listen, and how: one rule, read by setup.py (refuses at install) and by
jupyterhub_config.py (refuses at start, whatever was edited into course-hub.json since). Standard library only.

The hub takes system passwords. Plain HTTP carries them in clear, so the hub listens on plain HTTP only on
the loopback interface (behind a TLS proxy on the same machine) unless it has a certificate and key, or the
administrator has said `--insecure-http` (logged at every start). The test-only authenticator, which accepts
any password, never listens anywhere but loopback.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

DEFAULT_PORT = 8000
LOOPBACK_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
TLS_URL = f"https://:{DEFAULT_PORT}"


class ListenError(ValueError):
    """A refused combination; the message says what to give instead."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # "" (every interface), 0.0.0.0 and names: not loopback


def listen_settings(
    bind_url: str | None,
    ssl_cert: str | None = None,
    ssl_key: str | None = None,
    insecure_http: bool = False,
    authenticator: str = "pam",
) -> dict:
    """The hub's bind_url, ssl_cert, ssl_key and insecure_http (True only when it really serves plain HTTP
    off loopback); ListenError for anything this module refuses."""
    ssl_cert, ssl_key = ssl_cert or "", ssl_key or ""
    tls = bool(ssl_cert or ssl_key)
    if tls and not (ssl_cert and ssl_key):
        raise ListenError("TLS needs both a certificate (--ssl-cert) and its private key (--ssl-key)")
    url = bind_url or (TLS_URL if tls else LOOPBACK_URL)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ListenError(f"bind URL {url!r}: give http://HOST:PORT or https://HOST:PORT")
    try:
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        raise ListenError(f"bind URL {url!r}: the port is not a number from 1 to 65535") from None
    host = parts.hostname or ""
    where = host or "every interface"
    if tls and parts.scheme != "https":
        raise ListenError(f"bind URL {url!r}: with a certificate and key the hub serves https://, not http://")
    if not tls and parts.scheme == "https":
        raise ListenError(f"bind URL {url!r}: https needs a certificate and key (--ssl-cert, --ssl-key)")
    loopback = is_loopback(host)
    if authenticator == "dummy" and not loopback:
        raise ListenError(
            f"the dummy authenticator lets anyone in with any password: it is for tests and listens only on "
            f"127.0.0.1, not on {where} ({url})"
        )
    plain_off_loopback = not tls and not loopback
    if plain_off_loopback and not insecure_http:
        raise ListenError(
            f"{url} serves plain HTTP on {where}: system passwords would cross the network in clear. Give a "
            "certificate (--ssl-cert FILE --ssl-key FILE), or keep the hub on 127.0.0.1 behind a TLS proxy "
            f"(--bind-url {LOOPBACK_URL}), or say --insecure-http to accept it"
        )
    for label, path in (("certificate", ssl_cert), ("private key", ssl_key)):
        if path and not os.path.isfile(path):
            raise ListenError(f"the TLS {label} {path} is not a file")
    if ssl_key and os.stat(ssl_key).st_mode & 0o004:
        raise ListenError(f"the TLS private key {ssl_key} is readable by every user: chmod o-r it first")
    return {"bind_url": url, "ssl_cert": ssl_cert, "ssl_key": ssl_key, "insecure_http": plain_off_loopback}


def insecure_warning(url: str) -> str:
    return (
        f"WARNING: the hub serves plain HTTP on {url} (--insecure-http): passwords and every trainee's work "
        "cross the network unencrypted. Use a certificate, or a TLS proxy in front of 127.0.0.1."
    )
