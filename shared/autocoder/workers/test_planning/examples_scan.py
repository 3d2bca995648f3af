"""How a module builds classes with literal arguments, in its code and in its doctests: what the
inventory keeps as the target's own way to construct a class (see
:attr:`.inventory.Inventory.constructions`), so generated tests build instances as the authors do.
"""

from __future__ import annotations

import ast


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


MAX_EXAMPLES = 3  # per class name and file: enough to pick one that fits


def constructions(tree: ast.AST) -> dict[str, list[str]]:
    """Class name -> the argument lists (source text) of ``Name(...)`` and ``mod.Name(...)``
    calls whose arguments are all literals: how the code builds an instance, reproducible in a
    test as written. Only capitalised names (classes by convention)."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not (node.args or node.keywords):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if not name[:1].isupper() or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        if all(_literal(a) for a in node.args) and all(
            k.arg and _literal(k.value) for k in node.keywords
        ):
            args = [ast.unparse(a) for a in node.args]
            args += [f"{k.arg}={ast.unparse(k.value)}" for k in node.keywords]
            known = found.setdefault(name, [])
            if len(known) < MAX_EXAMPLES and ", ".join(args) not in known:
                known.append(", ".join(args))
    return found


def doctest_source(tree: ast.Module) -> str:
    """The ``>>>`` lines of every docstring in the module, as one source text. A construction
    continued on ``...`` lines does not parse alone and is left out, as is any other such line."""
    lines: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for line in (ast.get_docstring(node) or "").splitlines():
            code = line.strip()
            if code.startswith(">>> "):
                lines.append(code[4:])
    return "\n".join(line for line in lines if _parses(line))


def _parses(line: str) -> bool:
    try:
        ast.parse(line)
    except SyntaxError:
        return False
    return True
