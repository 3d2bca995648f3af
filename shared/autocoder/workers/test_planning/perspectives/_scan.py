"""One ``ast`` pass per module that finds each function's :mod:`._facts`.

A call counts as a boundary only when it resolves through the module's imports to a known library
(``import requests as r`` makes ``r.get`` ``requests.get``) or is the builtin ``open``. A ``raise``
is a site only when a test can name what it raises: a builtin or a module-level name, never a
local variable (``raise error`` re-raises something built at run time).
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from autocoder.workers.test_planning.perspectives._facts import (
    Boundary,
    Conds,
    Site,
    kind_of,
)

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
At = tuple[Conds, tuple[str, ...], bool]  # conditions, enclosing handlers, inside a handler
EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def aliases(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local name -> dotted import path (anywhere in the module), and the module-level names."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                first = a.name.split(".")[0]
                found[a.asname or first] = a.name if a.asname else first
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
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


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float):
        return str(node.value)
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)  # an f-string's literal prefix: a URL or a path
    return None


def _handler_names(node: ast.Try | ast.TryStar) -> list[str]:
    names: list[str] = []
    for h in node.handlers:
        types = [] if h.type is None else h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        names += [ast.unparse(t).split(".")[-1] for t in types] or ["*"]
    return names


def _own_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The expressions of a statement, not those of the statements nested in its bodies."""
    for name, value in ast.iter_fields(stmt):
        if name not in BODIES and not isinstance(
            stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.AST):
                    yield from ast.walk(item)


OPS = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
WRITES = ("write", "writelines", "write_text", "write_bytes")
FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


class _Function:
    """One pass over one function: its boundaries, failure sites and literal comparisons."""

    def __init__(self, module: tuple[dict[str, str], set[str]], func: FunctionNode) -> None:
        self.aliases, self.top = module
        args = func.args
        self.params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        nodes = list(ast.walk(func))
        self.locals = local_names(func, nodes)
        self.typed = {  # parameters annotated with a plain class name (not a string or union)
            a.arg: a.annotation
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
            if isinstance(a.annotation, ast.Name | ast.Attribute)
        }
        self.returned = {id(n.value) for n in nodes if isinstance(n, ast.Return) and n.value}
        self.value_returns = not any(
            isinstance(n, ast.Yield | ast.YieldFrom) for n in nodes
        ) and any(
            isinstance(n, ast.Return) and n.value is not None and not _is_none(n.value)
            for n in nodes
        )
        lists = ("boundaries", "sites", "comparisons", "tries", "calls", "targets", "writes")
        self.out: dict[str, Any] = {**{name: [] for name in lists}, "self_attrs": {}}
        end = self.block(func.body, ((), (), False))
        if self.value_returns and not always_exits(func.body):
            self.site("none", "", None, func.body[-1].end_lineno or func.lineno, (end, (), False))

    def site(self, what: str, detail: str, param: str | None, line: int, at: At) -> None:
        self.out["sites"].append(asdict(Site(what, detail, param, line, *at)))

    def block(self, body: list[ast.stmt], at: At) -> Conds:
        """Visit ``body``; the conditions after it (early exits taken as not happening)."""
        for stmt in body:
            self.statement(stmt, at)
            if isinstance(stmt, ast.If) and isinstance(stmt.body[-1], EXITS) and not stmt.orelse:
                at = ((*at[0], (ast.unparse(stmt.test), False)), at[1], at[2])
        return at[0]

    def statement(self, stmt: ast.stmt, at: At) -> None:
        conds, caught, handler = at
        for node in _own_nodes(stmt):
            self.expression(node, at)
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if self.nameable(exc):
                self.site("raise", ast.unparse(exc), None, stmt.lineno, at)
        elif isinstance(stmt, ast.Return) and self.value_returns and _is_none(stmt.value):
            self.site("none", "", None, stmt.lineno, at)
        elif isinstance(stmt, ast.Assign) and _self_attribute(stmt):
            attr = stmt.targets[0].attr  # type: ignore[attr-defined]
            self.out["self_attrs"][attr] = ast.unparse(stmt.value)
        if isinstance(stmt, ast.If | ast.While):
            test = ast.unparse(stmt.test)
            self.block(stmt.body, ((*conds, (test, True)), caught, handler))
            self.block(stmt.orelse, ((*conds, (test, False)), caught, handler))
        elif isinstance(stmt, ast.Try | ast.TryStar):
            names = _handler_names(stmt)
            self.out["tries"].append((stmt.body[0].lineno, stmt.body[-1].end_lineno, names))
            self.block(stmt.body, (conds, (*caught, *names), handler))
            for h in stmt.handlers:
                self.block(h.body, (conds, caught, True))
            self.block(stmt.orelse + stmt.finalbody, at)
        elif isinstance(stmt, ast.For | ast.AsyncFor | ast.With | ast.AsyncWith):
            self.block(stmt.body + getattr(stmt, "orelse", []), at)

    def expression(self, node: ast.AST, at: At) -> None:
        name = _subject_param(node)
        guard = rf"\b{name}\b" if isinstance(node, ast.Subscript) else rf"\b{name}\.is\w+\(|match"
        unchecked = bool(name) and not any(re.search(guard, c) for c, _ in at[0])
        if isinstance(node, ast.Call):
            func, target = node.func, self.resolve(node.func)
            self.out["calls"].append(
                func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            )
            self.out["targets"].append(self.callee(func, target))
            self.boundary(node, target, node.args[0] if node.args else None)
            if isinstance(node.func, ast.Attribute) and node.func.attr in WRITES:
                args = [n.id for a in node.args for n in ast.walk(a) if isinstance(n, ast.Name)]
                self.out["writes"] += [a for a in args if a in self.params]
            if unchecked and name in self.params:
                self.site("convert", ast.unparse(node.func), name, node.lineno, at)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            target = self.resolve(node.value)
            if target is not None and target[0] == "os.environ":
                self.boundary(
                    node, ("os.environ[]", target[1], f"{target[2]}.__getitem__"), node.slice
                )
            elif unchecked and name in self.params:
                self.site("index", ast.unparse(node.slice), name, node.lineno, at)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in OPS:
            self.comparison(node)

    def nameable(self, exc: ast.expr) -> bool:
        """A test can name what ``raise exc`` raises: a builtin or a module-level name (or an
        attribute of one), not a local variable or ``self.error_class``."""
        found = chain(exc)
        if found is None or "()" in found[1] or found[0] in self.locals:
            return False
        return found[0] in self.top or found[0] in vars(builtins)

    def callee(self, func: ast.expr, target: tuple[str, str, str] | None) -> str:
        """What a call names: ``pkg.mod.f`` through an import, ``f`` in the module, ``self.m``."""
        if target is not None:
            return target[0]
        if isinstance(func, ast.Name):
            return func.id
        receiver = getattr(func, "value", None)
        if not isinstance(func, ast.Attribute) or not isinstance(receiver, ast.Name):
            return ""
        if receiver.id == "self":
            return f"self.{func.attr}"
        typed = self.typed.get(receiver.id)  # ``source: Account`` makes ``source.withdraw``
        resolved = self.resolve(typed) if typed is not None else None  # ``Account.withdraw``
        if resolved is not None or (isinstance(typed, ast.Name) and typed.id in self.top):
            return f"{resolved[0] if resolved else getattr(typed, 'id', '')}.{func.attr}"
        return ""

    def comparison(self, node: ast.Compare) -> None:
        op, left, right = OPS[type(node.ops[0])], node.left, node.comparators[0]
        if isinstance(left, ast.Constant):
            op, left, right = FLIP[op], right, left
        value = right.value if isinstance(right, ast.Constant) else None
        length = (
            isinstance(left, ast.Call)
            and getattr(left.func, "id", "") == "len"
            and len(left.args) == 1
        )
        name = left.args[0] if length and isinstance(left, ast.Call) else left
        if (
            isinstance(name, ast.Name)
            and name.id in self.params
            and not isinstance(value, bool)
            and (isinstance(value, int | float) or (isinstance(value, str) and not length))
        ):
            self.out["comparisons"].append(
                {
                    "param": name.id,
                    "op": op,
                    "value": repr(value),
                    "line": node.lineno,
                    "length": length,
                }
            )

    def resolve(self, node: ast.expr) -> tuple[str, str, str] | None:
        """(resolved dotted name, root, mock path) of an expression, when it is resolvable."""
        found = chain(node)
        if found is None:
            return None
        root, steps = found
        if root in self.aliases:
            base = self.aliases[root]
        elif root in vars(builtins) and root not in self.top:
            base = root
        else:
            return None
        dotted = base + "".join(s if s == "()" else f".{s}" for s in steps)
        return dotted, root, ".".join("return_value" if s == "()" else s for s in steps)

    def boundary(
        self,
        node: ast.Call | ast.Subscript,
        target: tuple[str, str, str] | None,
        first: ast.expr | None,
    ) -> None:
        kind = kind_of(target[0]) if target else None
        if target is None or kind is None or "()" in target[0].removeprefix("pathlib.Path()"):
            return
        mode = node.args[1] if isinstance(node, ast.Call) and len(node.args) > 1 else None
        mode = next((k.value for k in getattr(node, "keywords", []) if k.arg == "mode"), mode)
        mode = mode if target[0].endswith("open") else None
        if target[0].startswith("pathlib.Path().") and isinstance(node, ast.Call):
            made = node.func.value if isinstance(node.func, ast.Attribute) else None
            first = made.args[0] if isinstance(made, ast.Call) and made.args else None
            mode = ast.Constant("w") if "write" in target[0] else mode
        param = first.id if isinstance(first, ast.Name) and first.id in self.params else None
        patchable = target[1] in self.top or target[1] in vars(builtins)
        returned = id(node) in self.returned
        found = Boundary(kind, target[0], target[1], target[2].strip("."), node.lineno,
                         _literal(first), param, _literal(mode), returned, patchable)  # fmt: skip
        self.out["boundaries"].append(asdict(found))


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


def _is_none(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _self_attribute(stmt: ast.Assign) -> bool:
    """``self.x = name`` or ``self.x = literal``."""
    target = stmt.targets[0]
    return (
        isinstance(target, ast.Attribute)
        and ast.unparse(target.value) == "self"
        and isinstance(stmt.value, ast.Name | ast.Constant)
    )


def _subject_param(node: ast.AST) -> str:
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


def scan_module(tree: ast.Module) -> dict[str, dict[str, Any]]:
    """Qualname -> that function's facts, as JSON for the cache."""
    module = aliases(tree)
    return {qualname: _Function(module, func).out for qualname, func in function_nodes(tree)}
