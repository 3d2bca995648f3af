"""Small questions about Python syntax trees, for the scan of :mod:`._scan`: what a module
imports and defines, the receiver chain of a call, the names a function binds, whether a body
always exits."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from autocoder.engine.names import import_aliases

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def aliases(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local name -> dotted import path (anywhere in the module), and the module-level names."""
    found = import_aliases(tree, relative=False)
    top: set[str] = set()
    for n in tree.body:
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            top.add(n.name)
        elif isinstance(n, ast.Import | ast.ImportFrom):
            top |= {a.asname or a.name.split(".")[0] for a in n.names}
        else:
            top |= {
                t.id
                for t in ast.walk(n)
                if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)
            }
    return found, top


def function_nodes(tree: ast.Module) -> Iterator[tuple[str, FunctionNode]]:
    """Top-level functions and the methods of top-level classes, by qualname (as the inventory)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", item


def chain(node: ast.expr) -> tuple[str, list[str]] | None:
    """``Path(p).write_text`` -> ("Path", ["()", "write_text"]); None for other receivers."""
    steps: list[str] = []
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute):
            steps.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            steps.append("()")
            node = node.func
        else:
            return None
    return node.id, steps[::-1]


def literal_text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float):
        return str(node.value)
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)  # an f-string's literal prefix: a URL or a path
    return None


def handler_names(node: ast.Try | ast.TryStar) -> list[str]:
    names: list[str] = []
    for h in node.handlers:
        types = [] if h.type is None else h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        names += [ast.unparse(t).split(".")[-1] for t in types] or ["*"]
    return names


def own_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The expressions of a statement, not those of the statements nested in its bodies."""
    for name, value in ast.iter_fields(stmt):
        if name not in BODIES and not isinstance(
            stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.AST):
                    yield from ast.walk(item)


def local_names(func: FunctionNode, nodes: list[ast.AST]) -> set[str]:
    """The names bound inside ``func``: parameters, assignments, loop and ``with`` targets,
    ``except ... as`` names, nested functions and classes (``global`` ones excepted)."""
    args = func.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    bound = {a.arg for a in params if a is not None}
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler | FunctionNode | ast.ClassDef) and node is not func:
            bound.add(node.name or "")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {a.asname or a.name.split(".")[0] for a in node.names}
    declared = {n for node in nodes if isinstance(node, ast.Global) for n in node.names}
    return bound - declared


def always_exits(body: list[ast.stmt]) -> bool:
    """Every path through ``body`` ends in ``return`` or ``raise``."""
    last = body[-1] if body else None
    if isinstance(last, ast.If):
        return always_exits(last.body) and always_exits(last.orelse)
    if isinstance(last, ast.With | ast.AsyncWith):
        return always_exits(last.body)
    if isinstance(last, ast.Try | ast.TryStar):
        handlers = all(always_exits(h.body) for h in last.handlers)
        return (always_exits(last.body) and handlers) or always_exits(last.finalbody)
    return isinstance(last, ast.Return | ast.Raise)


def is_none(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def self_attribute(stmt: ast.Assign) -> bool:
    """``self.x = name`` or ``self.x = literal``."""
    target = stmt.targets[0]
    return (
        isinstance(target, ast.Attribute)
        and ast.unparse(target.value) == "self"
        and isinstance(stmt.value, ast.Name | ast.Constant)
    )


def subject_param(node: ast.AST) -> str:
    """The parameter a subscript reads (``p[k]``) or a conversion converts (``int(p)``)."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        literal = isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int | str)
        return node.value.id if literal else ""
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", "") in ("int", "float")
        and node.args
    ):
        return node.args[0].id if isinstance(node.args[0], ast.Name) else ""
    return ""
