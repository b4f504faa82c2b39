"""The values checks again, under the chart's own JupyterHub (5.5.0) rather than the pinned 6.1.1 the test venv
has: the chart's hub runs KubeSpawner 7.0.0 on JupyterHub 5.5.0, and a pod specification must come out the
same there (issue 20, point 7)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.paths import ROOT


@pytest.mark.slow
def test_values_checks_pass_with_the_chart_hub_jupyterhub_and_kubespawner(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_k8s_values_hub", ROOT / "deploy/kubernetes/values.py")
    values_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(values_py)
    pins = (ROOT / "deploy" / "constraints.txt").read_text(encoding="utf-8")
    chart_pins = tmp_path / "constraints.txt"
    chart_pins.write_text(re.sub(r"(?m)^jupyterhub==.*$", f"jupyterhub=={values_py.CHART_JUPYTERHUB}", pins))
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=120)
    py = str(venv / "bin" / "python")
    wanted = ["jupyterhub", "jupyterhub-kubespawner", "pyyaml", "jsonschema", "pytest", "packaging"]
    install = subprocess.run(
        [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", str(chart_pins), *wanted],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    version = subprocess.run(
        [py, "-c", "import jupyterhub, kubespawner; print(jupyterhub.__version__, kubespawner.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert version == [values_py.CHART_JUPYTERHUB, values_py.CHART_KUBESPAWNER]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", "tests/kubernetes/test_k8s_values.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-4000:]
    assert re.search(r"\b(\d+) passed\b", out.stdout) and " failed" not in out.stdout
