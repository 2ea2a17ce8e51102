"""The package's layering: every module imports on its own, and imports flow one way.

Layer order (imports flow up only): ``linalg <- glm <- selection <- linear_model <- inspection
<- cli``. The shared low-level modules (exceptions, _validation, _optional, conventions, io,
datasets) sit below linalg and may be imported by anyone; ``nn/``, ``dask.py`` and ``spark.py``
import downward only and are imported by ``cli/`` alone; nothing imports ``cli/`` except the lazy
``ridgeway.load_model`` in the package root's ``__getattr__``. Imports are read statically
(ast), at any depth: a function-level import counts as much as a module-level one.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "ridgeway"

SHARED = {"exceptions", "_validation", "_optional", "conventions", "io", "datasets"}
LAYERS = ["linalg", "glm", "selection", "linear_model", "inspection", "cli"]
SIDE = {"nn", "dask", "spark"}  # import downward only; imported by cli (the top) alone
RANK = {**dict.fromkeys(SHARED, 0), **{name: i + 1 for i, name in enumerate(LAYERS)},
        **dict.fromkeys(SIDE, len(LAYERS))}
ROOT = "ridgeway"
FRAMEWORKS = ("sklearn", "matplotlib", "torch", "dask")
KERNELS = ("linalg", "glm")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _target(name: str) -> str | None:
    """The ridgeway module an import of ``name`` loads (the longest module prefix)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name: str):
    """Yield ``(imported module or third-party top name, line, function or None, names)``."""
    tree = ast.parse(MODULES[name].read_text(), str(MODULES[name]))
    package = name if _is_package(name) else name.rpartition(".")[0]
    functions: dict[ast.AST, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                functions.setdefault(inner, node.name)
    for node in ast.walk(tree):
        where = functions.get(node)
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, where, ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = tuple(a.name for a in node.names)
            if source.split(".")[0] != ROOT:
                yield source, node.lineno, where, names
                continue
            submodules = [f"{source}.{n}" for n in names if f"{source}.{n}" in MODULES]
            rest = tuple(n for n in names if f"{source}.{n}" not in MODULES)
            for sub in submodules:
                yield sub, node.lineno, where, ()
            if rest:
                yield source, node.lineno, where, rest


def _edges():
    """Each import of one ridgeway module by another: (importer, imported, line, function,
    names)."""
    for name in MODULES:
        for source, line, where, names in _imports(name):
            target = _target(source) if source.split(".")[0] == ROOT else None
            if target is not None and target != name:
                yield name, target, line, where, names


EDGES = list(_edges())


def _floor(name: str) -> str | None:
    """The layer of a module: its first component under ridgeway (None for the root)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def _show(edge) -> str:
    importer, target, line, where, names = edge
    inside = f" (in {where}())" if where else ""
    what = f" ({', '.join(names)})" if names else ""
    return f"{MODULES[importer].relative_to(SRC)}:{line}{inside}: {importer} -> {target}{what}"


def test_the_layer_map_covers_every_module():
    unknown = sorted({f for f in map(_floor, MODULES) if f is not None and f not in RANK}
                     - {"__main__"})
    assert not unknown, f"modules outside the layer map (add them to RANK): {unknown}"


def test_no_upward_imports():
    bad = []
    for edge in EDGES:
        importer, target, *_, names = edge
        low, high = _floor(importer), _floor(target)
        if low is None or low == "__main__":
            continue  # the root and `python -m ridgeway` sit above every layer
        if high is None:
            if set(names) - {"__version__"}:
                bad.append(_show(edge) + "  [imports the package root]")
        elif high in SIDE and high != low and low != "cli":
            bad.append(_show(edge) + f"  [{high} is imported by cli alone]")
        elif RANK[high] > RANK[low]:
            bad.append(_show(edge) + f"  [{low} is below {high}]")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_nothing_imports_cli_but_the_lazy_load_model():
    bad = [_show(e) for e in EDGES
           if _floor(e[1]) == "cli" and _floor(e[0]) not in ("cli", "__main__")
           and not (e[0] == ROOT and e[3] == "__getattr__")]
    assert not bad, "cli/ imported from outside the command:\n" + "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _shortest_cycle(graph: dict[str, set[str]], start: str) -> list[str]:
    """A shortest path start -> ... -> start (breadth first)."""
    parent: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if w not in parent:
                parent[w] = v
                queue.append(w)
    return []


def test_no_import_cycles():
    # Every submodule import runs the root package first, so edges into the root are not
    # cycles of their own (upward imports of the root are test_no_upward_imports' business).
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for importer, target, *_ in EDGES:
        if target != ROOT:
            graph[importer].add(target)
    lines, seen = [], set()
    for component in _cycles(graph):
        sub = {v: graph[v] & set(component) for v in component}
        for start in component:  # one shortest cycle through each module, each shown once
            cycle = _shortest_cycle(sub, start)
            pairs = list(itertools.pairwise(cycle))
            if frozenset(pairs) not in seen:
                seen.add(frozenset(pairs))
                lines.append("\n    ".join(_show(next(e for e in EDGES if e[:2] == pair))
                                           for pair in pairs))
    assert not lines, "import cycles:\n    " + "\n  and\n    ".join(lines)


def test_kernels_import_no_frameworks():
    bad = []
    for name in MODULES:
        if _floor(name) not in KERNELS:
            continue
        for source, line, where, _ in _imports(name):
            if source.split(".")[0] in FRAMEWORKS:
                bad.append(_show((name, source, line, where, ())))
    assert not bad, f"linalg/ and glm/ import {FRAMEWORKS}:\n" + "\n".join(bad)


ISOLATED = r"""
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    for key in [k for k in sys.modules if k == "ridgeway" or k.startswith("ridgeway.")]:
        del sys.modules[key]
    try:
        importlib.import_module(name)
    except ImportError as exc:
        if "pip install" not in str(exc):  # a missing optional extra says how to install it
            failures[name] = traceback.format_exc(limit=-3)
    except Exception:
        failures[name] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""


def test_every_module_imports_in_isolation():
    # One fresh interpreter; before each module every ridgeway module is forgotten, so each
    # is imported first, alone (third-party libraries stay loaded: that keeps it fast).
    names = sorted(n for n in MODULES if n != "ridgeway.__main__")
    res = subprocess.run([sys.executable, "-c", ISOLATED, json.dumps(names)], cwd=SRC,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(SRC)})
    assert res.returncode == 0, res.stderr
    failures = json.loads(res.stdout.strip().splitlines()[-1])
    assert not failures, "\n".join(f"{k}:\n{v}" for k, v in failures.items())
