"""Shape of the package's code: no function longer than a screen, except declared tables."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 60

#: ``"path/under/src.py:qualified.name": why`` -- only functions that are a parameter list
#: (an argument parser, a scikit-learn ``__init__``) or a table of data, never logic.
ALLOWED: dict[str, str] = {}


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the end of the function."""
    body = node.body
    if (len(body) > 1 and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
        body = body[1:]
    return node.end_lineno - body[0].lineno + 1


def _functions(tree: ast.AST, prefix: str = ""):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{node.name}", node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def _long_functions() -> dict[str, int]:
    found = {}
    for path in sorted((SRC / "ridgeway").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for name, node in _functions(tree):
            lines = _body_lines(node)
            if lines > MAX_LINES:
                found[f"{path.relative_to(SRC).as_posix()}:{name}"] = (node.lineno, lines)
    return found


def test_body_lines_count_code_not_the_docstring():
    tree = ast.parse('def f():\n    """Doc.\n\n    More.\n    """\n    a = 1\n    return a\n')
    assert _body_lines(tree.body[0]) == 2


def test_no_function_over_sixty_lines():
    found = _long_functions()
    long = [f"{key} (line {line}): {n} lines" for key, (line, n) in found.items()
            if key not in ALLOWED]
    assert not long, (f"functions over {MAX_LINES} lines (split them, or add a parameter list "
                      "or table to ALLOWED with the reason):\n" + "\n".join(long))


def test_allowlist_names_existing_long_functions():
    # an entry whose function was split or removed is dropped, so the list stays short
    stale = sorted(set(ALLOWED) - set(_long_functions()))
    assert not stale, f"ALLOWED entries that are no longer over {MAX_LINES} lines: {stale}"
