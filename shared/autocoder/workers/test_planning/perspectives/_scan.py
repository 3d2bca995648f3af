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
from dataclasses import asdict
from typing import Any

from autocoder.workers.test_planning.perspectives._facts import Boundary, Conds, Site, kind_of
from autocoder.workers.test_planning.perspectives._syntax import (
    EXITS,
    FunctionNode,
    aliases,
    always_exits,
    chain,
    function_nodes,
    handler_names,
    is_none,
    literal_text,
    local_names,
    own_nodes,
    self_attribute,
    subject_param,
)

At = tuple[Conds, tuple[str, ...], bool]  # conditions, enclosing handlers, inside a handler
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
            isinstance(n, ast.Return) and n.value is not None and not is_none(n.value)
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
        for node in own_nodes(stmt):
            self.expression(node, at)
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if self.nameable(exc):
                self.site("raise", ast.unparse(exc), None, stmt.lineno, at)
        elif isinstance(stmt, ast.Return) and self.value_returns and is_none(stmt.value):
            self.site("none", "", None, stmt.lineno, at)
        elif isinstance(stmt, ast.Assign) and self_attribute(stmt):
            attr = stmt.targets[0].attr  # type: ignore[attr-defined]
            self.out["self_attrs"][attr] = ast.unparse(stmt.value)
        if isinstance(stmt, ast.If | ast.While):
            test = ast.unparse(stmt.test)
            self.block(stmt.body, ((*conds, (test, True)), caught, handler))
            self.block(stmt.orelse, ((*conds, (test, False)), caught, handler))
        elif isinstance(stmt, ast.Try | ast.TryStar):
            names = handler_names(stmt)
            self.out["tries"].append((stmt.body[0].lineno, stmt.body[-1].end_lineno, names))
            self.block(stmt.body, (conds, (*caught, *names), handler))
            for h in stmt.handlers:
                self.block(h.body, (conds, caught, True))
            self.block(stmt.orelse + stmt.finalbody, at)
        elif isinstance(stmt, ast.For | ast.AsyncFor | ast.With | ast.AsyncWith):
            self.block(stmt.body + getattr(stmt, "orelse", []), at)

    def expression(self, node: ast.AST, at: At) -> None:
        name = subject_param(node)
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
        """What a call names: ``pkg.mod.f`` through an import, ``f`` in the module, ``self.m``,
        and ``Account.withdraw`` for ``source.withdraw()`` when ``source: Account``."""
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
                         literal_text(first), param, literal_text(mode), returned,
                         patchable)  # fmt: skip
        self.out["boundaries"].append(asdict(found))


def scan_module(tree: ast.Module) -> dict[str, dict[str, Any]]:
    """Qualname -> that function's facts, as JSON for the cache."""
    module = aliases(tree)
    return {qualname: _Function(module, func).out for qualname, func in function_nodes(tree)}
