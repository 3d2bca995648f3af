"""What the names of a module stand for: ``from aiohttp_jinja2 import setup as setup_jinja``
makes ``setup_jinja(...)`` a call of ``aiohttp_jinja2.setup``, so rules match the real callee."""

from __future__ import annotations

import ast


def import_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the dotted name it was imported as (top-level and nested imports)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def resolve(name: str, aliases: dict[str, str], keep: frozenset[str] = frozenset()) -> str:
    """``name`` with its first part replaced by what it was imported as; names in ``keep`` (the
    short forms the rules already list, e.g. ``send_file``) stay as they are."""
    head, _, rest = name.partition(".")
    if head not in aliases or name in keep:
        return name
    return f"{aliases[head]}.{rest}" if rest else aliases[head]
