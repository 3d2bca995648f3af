"""What one module's source says about its place in the design: how many public names it
defines, and which of its imports run only later (inside a function or under ``TYPE_CHECKING``).

A cycle through a deferred import cannot fail at import time; that is how projects break cycles
on purpose, so the cycle findings leave those imports out.
"""

from __future__ import annotations

import ast
import warnings
from typing import Any

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def module_shape(text: str) -> dict[str, Any]:
    """``public``: top-level public definitions and assignments; ``deferred``: the lines of the
    imports that do not run when the module is imported. A file that does not parse has none."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {"public": 0, "deferred": []}
    return {"public": len(public_names(tree)), "deferred": sorted(_deferred_lines(tree))}


def public_names(tree: ast.Module) -> set[str]:
    """The public names a module defines at its top level: functions, classes and variables."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


def _deferred_lines(tree: ast.Module) -> set[int]:
    """Every line of each import inside a function, or under ``if TYPE_CHECKING:``."""
    lines: set[int] = set()
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, deferred = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom) and deferred:
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        inside = deferred or isinstance(node, _FUNCTIONS)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend((child, True) for child in node.body)
            stack.extend((child, inside) for child in node.orelse)
            continue
        stack.extend((child, inside) for child in ast.iter_child_nodes(node))
    return lines
