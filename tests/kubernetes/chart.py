"""The Zero to JupyterHub chart's own files (vendored, deploy/kubernetes/chart/), run offline: its values
defaults and schema, and its hub's jupyterhub_config.py with z2jh.py, loaded as the hub pod loads them, from a
temporary folder laid out like the pod's /usr/local/etc/jupyterhub mounts. Then KubeSpawner, built from the
resulting configuration, makes pod specifications with no cluster: its client configuration points at a
loopback address nothing listens on, and building a manifest contacts nothing."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import io
import re
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace

import yaml
from traitlets.config import Config, PyFileConfigLoader

from tests.paths import ROOT

CHART_DIR = ROOT / "deploy" / "kubernetes" / "chart"
TARBALL = CHART_DIR / "z2jh-4.4.0.tar.gz"
POD_MOUNTS = "/usr/local/etc/jupyterhub"  # where the hub pod finds the chart's config, values and secrets


def chart_files() -> dict[str, bytes]:
    with tarfile.open(TARBALL) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def recorded_sha256() -> dict[str, str]:
    """The files and hashes SOURCE.md records (lines `sha256  path`)."""
    text = (CHART_DIR / "SOURCE.md").read_text(encoding="utf-8")
    return {m.group(2): m.group(1) for m in re.finditer(r"^([0-9a-f]{64})  (\S+)$", text, re.MULTILINE)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_yaml(name: str):
    return yaml.safe_load(io.BytesIO(chart_files()[name]))


def helm_merge(defaults: dict, override: dict) -> dict:
    """Helm's rule for -f values over the chart's: maps merge key by key, anything else replaces, null deletes."""
    out = copy.deepcopy(defaults)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = helm_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def rendered_values(values: dict, release: str = "course") -> dict:
    """What the chart's hub Secret holds as values.yaml: the merged values plus Chart and Release."""
    merged = helm_merge(load_yaml("jupyterhub/values.yaml"), values)
    chart = load_yaml("jupyterhub/Chart.yaml")
    merged["Chart"] = {"Name": chart["name"], "Version": "4.4.0", "AppVersion": chart["appVersion"]}
    merged["Release"] = {"Name": release, "Namespace": "course", "Service": "Helm"}
    return merged


def load_hub_config(values: dict, where: Path, monkeypatch) -> Config:
    """Run the chart's jupyterhub_config.py over `values` as the hub pod would, and return its Config.

    Only two things differ from the pod: the mount folder is `where` instead of /usr/local/etc/jupyterhub (the
    path is replaced in the two files), and tornado's curl HTTP client is not switched on (pycurl is the hub
    image's, not ours; it changes how the hub makes requests, not its configuration)."""
    mounts = where / "etc-jupyterhub"
    files = chart_files()
    for name in ("jupyterhub_config.py", "z2jh.py"):
        text = files[f"jupyterhub/files/hub/{name}"].decode().replace(POD_MOUNTS, str(mounts))
        (mounts / "config").mkdir(parents=True, exist_ok=True)
        (mounts / "config" / name).write_text(text, encoding="utf-8")
    # the chart's ConfigMap: resource names; the Secret: values and the generated secrets
    for short in ("hub", "proxy-api", "proxy-public", "user-scheduler", "priority", "image-pull-secret", "singleuser"):
        (mounts / "config" / short).write_text(short, encoding="utf-8")
    secret = mounts / "secret"
    secret.mkdir()
    (secret / "values.yaml").write_text(yaml.safe_dump(rendered_values(values)), encoding="utf-8")
    (secret / "hub.config.JupyterHub.cookie_secret").write_text("ab" * 32, encoding="utf-8")
    (secret / "hub.config.CryptKeeper.keys").write_text("cd" * 32, encoding="utf-8")
    (secret / "hub.config.ConfigurableHTTPProxy.auth_token").write_text("ef" * 32, encoding="utf-8")
    monkeypatch.setenv("PROXY_API_SERVICE_PORT", "8001")
    monkeypatch.setenv("HUB_SERVICE_PORT", "8081")
    monkeypatch.setenv("POD_NAMESPACE", "course")
    from tornado.httpclient import AsyncHTTPClient

    monkeypatch.setattr(AsyncHTTPClient, "configure", classmethod(lambda cls, impl, **kw: None))
    sys.modules.pop("z2jh", None)
    try:
        config = PyFileConfigLoader("jupyterhub_config.py", path=str(mounts / "config")).load_config()
    finally:
        sys.modules.pop("z2jh", None)  # its values are cached per module: the next load reads its own
        if str(mounts / "config") in sys.path:
            sys.path.remove(str(mounts / "config"))
    return config


def offline_kubeconfig(where: Path, monkeypatch) -> None:
    """A kube config naming a loopback API server nothing listens on: KubeSpawner reads it, never calls it.
    Given as $KUBECONFIG would give it (the client reads that variable once, when it is imported)."""
    import kubernetes_asyncio.config.kube_config as kube_config

    path = where / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "none", "user": {"token": "none"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def hub_user(name: str, uid: int = 0) -> SimpleNamespace:
    """What a spawner reads of JupyterHub's User (kubespawner's own tests use the same stand-in)."""
    server = SimpleNamespace(base_url=f"/user/{name}/", url=f"/user/{name}/")
    return SimpleNamespace(name=name, escaped_name=name, id=uid or 1, url=f"/user/{name}/", server=server, groups=[])


HUB = SimpleNamespace(
    api_url="http://hub:8081/hub/api", base_url="/hub/", url="http://hub:8081/hub/", public_host="", host=""
)


def run(coro):
    return asyncio.run(coro)
