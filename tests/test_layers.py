"""The package's layers (docs/architecture.md): imports go one way, and the layout stays readable.

Every module under course/ is parsed (not imported), function-local imports included, so an import hidden
inside a function to dodge a cycle is still seen.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

PACKAGE = ROOT / "course"

# A module may import from its own layer package and from layers of a lower rank, never from a higher or an
# equal-rank neighbour. docs/architecture.md draws the same table.
LAYERS = {
    "course.core": 0,
    "course.store": 1,
    "course.render": 1,
    "course.charts": 2,
    "course.widgets": 3,
    "course.notebook": 4,
    "course.authoring": 5,
    "course.grading": 5,
    "course.workshop": 5,
    "course.apps": 6,
}
# What the pure layers may use besides the standard library.
CORE_THIRD_PARTY = {"yaml"}
RENDER_FORBIDDEN = {"ipywidgets", "matplotlib", "PIL", "traitlets", "IPython"}
MAX_LINES = 500
MAX_TOP_ENTRIES = 14


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file, as absolute dotted names (relative ones resolved;
    `from pkg import name` counts as pkg.name when that is a module, else as pkg)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(course module -> the course modules it imports, course module -> the outside packages it imports)."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    top = root.name
    for name, path in modules.items():
        inside, other = set(), set()
        for imported in imports_of(path, root):
            if imported == top or imported.startswith(top + "."):
                # the longest prefix that is a module of the package (pkg.name may be a function, not a module)
                parts = imported.split(".")
                while parts and ".".join(parts) not in modules:
                    parts.pop()
                target = ".".join(parts)
                if target and target != name and target != top:
                    inside.add(target)
            else:
                other.add(imported.split(".")[0])
        graph[name] = inside
        outside[name] = other
    return graph, outside


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str) -> str | None:
    for layer in sorted(LAYERS, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


@pytest.fixture(scope="module")
def graph():
    return import_graph(PACKAGE)


def test_no_import_cycle_in_the_package(graph):
    inside, _ = graph
    assert cycles(inside) == []


def test_every_module_belongs_to_a_layer(graph):
    inside, _ = graph
    assert [m for m in inside if m != "course" and layer_of(m) is None] == []


def test_imports_go_one_way_down_the_layers(graph):
    inside, _ = graph
    wrong = []
    for module, targets in sorted(inside.items()):
        mine = layer_of(module)
        if mine is None:
            continue
        for target in sorted(targets):
            theirs = layer_of(target)
            if theirs is None or theirs == mine:
                continue
            if LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(f"{module} imports {target} ({mine} may not use {theirs})")
    assert wrong == []


def test_core_imports_nothing_outside_the_core(graph):
    inside, outside = graph
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    wrong = []
    for module in sorted(m for m in inside if layer_of(m) == "course.core"):
        wrong += [f"{module} imports {t}" for t in sorted(inside[module]) if layer_of(t) != "course.core"]
        wrong += [f"{module} imports {t}" for t in sorted(outside[module] - stdlib - CORE_THIRD_PARTY)]
    assert wrong == []


def test_render_layer_draws_no_widget_and_no_chart(graph):
    _, outside = graph
    wrong = {m: sorted(outside[m] & RENDER_FORBIDDEN) for m in outside if layer_of(m) == "course.render"}
    assert {m: w for m, w in wrong.items() if w} == {}


def test_no_file_in_the_package_is_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_top_of_the_package_shows_the_pipeline():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert len(entries) <= MAX_TOP_ENTRIES, entries
    assert {p.removeprefix("course.") for p in LAYERS} <= {e.removesuffix(".py") for e in entries}


# ------------------------------------------------------------------ the checker itself


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "course"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/a.py": "from . import b\n",
            "core/b.py": "def later():\n    from .a import thing\n",
        },
    )
    inside, _ = import_graph(root)
    assert cycles(inside) == [["course.core.a", "course.core.b"]]


def test_checker_sees_an_upward_import_and_a_forbidden_library(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/records.py": "def f():\n    from ..widgets import lens\n",
            "render/__init__.py": "",
            "render/view.py": "import matplotlib.pyplot as plt\n",
            "widgets/__init__.py": "",
            "widgets/lens.py": "from ..core import records\n",
        },
    )
    inside, outside = import_graph(root)
    assert inside["course.core.records"] == {"course.widgets", "course.widgets.lens"}
    assert "matplotlib" in outside["course.render.view"]


def test_architecture_doc_draws_the_layers_the_test_checks():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    ranks = {}
    for row in re.findall(r"^\| (`course\.[^|]+) \| (\d) \|", doc, flags=re.MULTILINE):
        for name in re.findall(r"`(course\.[a-z_]+)`", row[0]):
            ranks[name] = int(row[1])
    assert ranks == LAYERS


def test_make_lint_runs_the_same_checks_as_pre_commit_and_make_test_runs_it():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    for tool in ("ruff check", "ruff format --check", "mypy"):
        assert tool in makefile and tool in hooks, tool
    assert re.search(r"^test: .*\blint\b", makefile, flags=re.MULTILINE)


def test_no_module_sets_the_read_only_switch_or_a_grading_setting_in_the_environment(graph):
    """The read-only switch is spelled once (course.core.contract); nbgrader settings are traitlets options."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name == "contract.py":
            continue
        if re.search(r"['\"]COURSE_(READ_ONLY|SHARED_KERNEL)['\"]", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_grading_settings_are_traitlets_options(tmp_path):
    from course.grading.config import make_api
    from course.grading.preprocessors.clean_feedback import CleanFeedback
    from course.grading.preprocessors.shared_kernel import SharedKernelExecute

    api = make_api(tmp_path, reuse_kernel=True)
    assert SharedKernelExecute(config=api.config).reuse_kernel is True
    assert SharedKernelExecute(config=make_api(tmp_path).config).reuse_kernel is False
    for name in ("reuse_kernel", "reuse_limit", "skip_views"):
        assert SharedKernelExecute.class_traits()[name].metadata.get("config"), name
    for name in ("mark_scheme_tag", "review_tag", "hidden_begin"):
        assert CleanFeedback.class_traits()[name].metadata.get("config"), name
