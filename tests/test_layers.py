"""The package's layers, read from its source: no import cycles, and each audience imports only down.

* ``airoadmap/*.py`` (the learner runtime, what notebooks import) never imports ``airoadmap.tooling``
  or ``airoadmap.grading``, at module level or inside a function;
* ``airoadmap.cache`` (the leaf) imports no other airoadmap module;
* no cycles among airoadmap modules at module level (imports inside functions run later, on use);
* only ``settings`` asks torch whether there is a GPU.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airoadmap

PACKAGE = Path(airoadmap.__file__).resolve().parent
AUDIENCES = ("airoadmap.tooling", "airoadmap.grading")


def module_name(path: Path) -> str:
    parts = ["airoadmap", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute name ``from <node.module>`` refers to, inside ``module`` (a file at ``path``)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, path: Path) -> list[tuple[str, bool]]:
    """``(imported airoadmap module, at module level?)`` for every import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                inner = False  # annotations only: never imported when the module runs
            if isinstance(child, ast.Import):
                found.extend((alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = resolve(module, path, child)
                for alias in child.names:  # `from . import plots` imports the module airoadmap.plots
                    full = f"{base}.{alias.name}"
                    found.append((full if full in MODULES else base, top))
            visit(child, inner)

    visit(tree, True)
    return [(name, top) for name, top in found if name == "airoadmap" or name.startswith("airoadmap.")]


GRAPH = {m: imports(m, p) for m, p in MODULES.items()}


def is_runtime(module: str) -> bool:
    return not module.startswith(AUDIENCES)


def test_the_layout_has_three_audiences():
    assert {"airoadmap.tooling", "airoadmap.grading"} <= set(MODULES), "tooling/ and grading/ are packages"
    assert {"airoadmap.settings", "airoadmap.cache", "airoadmap.models", "airoadmap.triage"} <= set(MODULES)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if is_runtime(m)))
def test_the_learner_runtime_never_imports_tooling_or_grading(module):
    bad = sorted({name for name, _ in GRAPH[module] if name.startswith(AUDIENCES)})
    assert not bad, f"{module} (learner runtime) imports {bad}: notebooks must not need the course tooling"


def test_cache_is_the_leaf():
    others = sorted({name for name, _ in GRAPH["airoadmap.cache"]})
    assert not others, f"airoadmap.cache must import no other airoadmap module, imports {others}"


def test_lazy_names_are_learner_runtime_modules():
    tree = ast.parse(MODULES["airoadmap"].read_text(encoding="utf-8"))
    lazy = next(ast.literal_eval(n.value) for n in tree.body
                if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "_LAZY" for t in n.targets))
    for name in lazy:
        assert f"airoadmap.{name}" in MODULES and is_runtime(f"airoadmap.{name}"), name


def test_no_import_cycles_at_module_level():
    edges = {m: sorted({n for n, top in deps if top and n in MODULES and n != m}) for m, deps in GRAPH.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in edges[m]:
            if state.get(n) == 1:
                cycle = path[path.index(n):] + [n]
                pytest.fail("import cycle at module level: " + " -> ".join(cycle))
            if n not in state:
                walk(n)
        path.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            walk(m)


def test_the_resolver_reads_relative_imports():
    """Guard the test itself: it must see the edges we know exist."""
    assert ("airoadmap.cache", True) in GRAPH["airoadmap.models"]
    assert ("airoadmap.grading.nbtools", True) in GRAPH["airoadmap.tooling.release"]
    assert ("airoadmap.plots", True) in GRAPH["airoadmap"]
    assert ("airoadmap.models", False) in GRAPH["airoadmap.adapters"], "imports inside functions count too"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if is_runtime(m) and m != "airoadmap.settings"))
def test_only_settings_asks_for_a_gpu(module):
    text = MODULES[module].read_text(encoding="utf-8")
    for probe in ("cuda.is_available", "is_bf16_supported", "get_device_capability"):
        assert probe not in text, f"{module} calls {probe}: take the device and dtype from the settings"
