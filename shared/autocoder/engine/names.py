"""Names in Python source: the dotted name an expression spells, and what imports bind names to."""

from __future__ import annotations

import ast


def dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` for a name or a chain of attributes on a name, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (inner := dotted_name(node.value)):
        return f"{inner}.{node.attr}"
    return None


def from_module(node: ast.ImportFrom) -> str:
    """The module a ``from`` import reads, with its leading dots: ``..pkg``, ``.``, ``os``."""
    return "." * node.level + (node.module or "")


def imported_name(module: str, name: str) -> str:
    """The dotted name ``from module import name`` binds: ``os.path``, ``.x``, ``..pkg.y``."""
    return module + name if module.endswith(".") else f"{module}.{name}"


def import_aliases(tree: ast.AST, *, relative: bool) -> dict[str, str]:
    """Local name -> the dotted name it is imported as (``from time import sleep``: sleep ->
    time.sleep; ``import os.path``: os -> os). Relative imports (``.x``) count when ``relative``."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                aliases[a.asname or top] = a.name if a.asname else top
        elif isinstance(node, ast.ImportFrom) and (relative or not node.level):
            module = from_module(node)
            aliases.update(
                {a.asname or a.name: imported_name(module, a.name) for a in node.names
                 if a.name != "*"}
            )  # fmt: skip
    return aliases
