"""Imports flow one way: no cycle between skinfluence's modules, deferred imports included.

Every ``import`` of a skinfluence module (at module level or inside a function: a
deferred import that would hide a cycle counts too) is an edge; importing
``a.b.c`` also imports the package ``a.b`` (its ``__init__``). The root package
``skinfluence`` is left out as a target: it only re-exports.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

import skinfluence

ROOT = pathlib.Path(skinfluence.__file__).parent


def _module_name(path):
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module, is_package, node):
    if node.level == 0:
        return node.module
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _graph():
    modules = {}
    for path in ROOT.rglob("*.py"):
        modules[_module_name(path)] = path
    graph = {m: set() for m in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if not t or not t.startswith("skinfluence"):
                    continue
                while t not in modules and "." in t:
                    t = t.rsplit(".", 1)[0]
                # a submodule import runs its packages' __init__ first (not the root's)
                parts = t.split(".")
                for k in range(2, len(parts) + 1):
                    dep = ".".join(parts[:k])
                    if dep in modules and dep != module and not module.startswith(dep + "."):
                        graph[module].add(dep)
    return graph


def _find_cycle(graph):
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if d == "skinfluence":
                continue
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        state[m] = 2
        stack.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycles():
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_finds_a_cycle():
    graph = {"skinfluence.a": {"skinfluence.b"}, "skinfluence.b": {"skinfluence.a"}}
    assert _find_cycle(graph) is not None
    assert _find_cycle({"skinfluence.a": {"skinfluence.b"}, "skinfluence.b": set()}) is None


@pytest.mark.parametrize("module", ["skinfluence.sketch", "skinfluence.svm",
                                    "skinfluence.selection", "skinfluence.validation",
                                    "skinfluence.adapters", "skinfluence.pipeline"])
def test_each_public_module_imports_on_its_own(module):
    # a fresh interpreter: import order must not matter
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)


def test_no_optional_library_imported():
    code = ("import sys, skinfluence, skinfluence.sketch, skinfluence.selection; "
            "bad = [m for m in ('torch', 'dask', 'matplotlib') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
