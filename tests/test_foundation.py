"""The foundation: one environment described twice in agreement, the front door, and hygiene."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

import yaml

from course.apps.check import notebook_problems
from tests.paths import ROOT


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _specs(lines) -> dict[str, str]:
    return {_name(s): re.sub(r"\s+", "", s.strip()).lower().replace("_", "-") for s in lines}


def test_environment_yml_and_pyproject_declare_the_same_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        wanted += extra
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str) and _name(d) not in ("python", "pip")]
    assert _specs(conda) == _specs(wanted)
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section


def test_dependency_agreement_check_would_catch_a_drift():
    assert _specs(["nbgrader>=0.9.6"]) != _specs(["nbgrader>=0.9.5"])
    assert _specs(["PyYAML>=6.0"]) == _specs(["pyyaml>=6.0"])


def test_client_packages_are_all_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {_name(d) for d in project["dependencies"]}
    assert {"jupyterlab", "ipywidgets", "matplotlib", "nbgrader", "papermill", "pytest"} <= names
    assert project["scripts"]["course"] == "course.apps.cli:main"


def test_course_check_passes_on_the_fictional_pack():
    out = subprocess.run(
        [sys.executable, "-m", "course.apps.cli", "check", "--data", "tests/fixtures/case", "--data-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "15 quotations verified verbatim" in out.stdout


def test_course_check_fails_with_an_actionable_message_on_a_broken_pack(pack_copy):
    events = pack_copy / "events.yaml"
    events.write_text(events.read_text(encoding="utf-8").replace('date: "2019-07"', 'date: "2019-7"'), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "course.apps.cli", "check", "--data", str(pack_copy), "--data-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "case/events.yaml: event 'argument': date: '2019-7' is not a date" in out.stdout


def test_stored_notebooks_have_no_outputs_or_execution_counts():
    assert notebook_problems(ROOT / "notebooks") == []


def test_notebook_hygiene_check_catches_outputs(tmp_path):
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "1",
                "metadata": {},
                "execution_count": 3,
                "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"}}],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "x.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    problems = notebook_problems(tmp_path)
    assert any("stored with outputs" in p for p in problems)
    assert any("execution count" in p for p in problems)


def test_readme_gives_the_two_commands_and_the_content_warning():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make course" in text and "make test" in text
    assert "Content warning" in text
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^course:", make, re.MULTILINE) and re.search(r"^test:", make, re.MULTILINE)
    # `make course` is the trainee's command: it opens the course home (pages), never JupyterLab.
    recipe = re.search(r"^course:.*\n((?:\t.*\n)+)", make, re.MULTILINE)
    assert recipe and "course open" in recipe.group(1) and "course lab" not in recipe.group(1)


def test_ci_runs_the_readme_test_command_and_refuses_an_empty_run():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    assert "no tests ran" in ci and "exit 1" in ci


def test_git_ignores_generated_grading_folders_and_answer_files():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for entry in (
        "grading/release/",
        "grading/submitted/",
        "grading/autograded/",
        "grading/feedback/",
        "answers.json",
        "workspace/",
        "artifacts/",
    ):
        assert entry in ignored
