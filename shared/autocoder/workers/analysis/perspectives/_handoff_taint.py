"""One step across a call: request data a view hands to a function of the target itself.

Vulnerable web apps keep their SQL in a data layer: the view calls ``Student.create(conn,
data["name"])`` and ``create`` builds the query. :func:`handed_over` finds, in every view, the
calls whose arguments hold request data, and names the parameters of the called function that
receive it, resolved by name: ``Class.method(...)`` to a method of a class of that name, and
``function(...)`` to the one module-level function of that name (none when several exist).
Only one step is taken; the called function's own calls are not followed.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field

from autocoder.workers.analysis.perspectives._taint import (
    FunctionNode,
    Taint,
    calls,
    flow,
    functions,
    is_view,
)

Key = tuple[str, str]  # (class name or "", function name)


@dataclass
class Handover:
    """Calls with request data in their arguments, by callee: positions, keywords, the caller."""

    positions: dict[Key, set[int]] = field(default_factory=lambda: defaultdict(set))
    keywords: dict[Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    callers: dict[Key, str] = field(default_factory=dict)

    def record(self, call: ast.Call, taint: Taint, caller: str) -> None:
        key = _callee(call)
        if key is None:
            return
        positions = {i for i, a in enumerate(call.args) if taint.tainted(a)}
        keywords = {k.arg for k in call.keywords if k.arg and taint.tainted(k.value)}
        if positions or keywords:
            self.positions[key] |= positions
            self.keywords[key] |= keywords
            self.callers.setdefault(key, caller)


def _callee(call: ast.Call) -> Key | None:
    func = call.func
    if isinstance(func, ast.Name):
        return ("", func.id)
    receiver = func.value if isinstance(func, ast.Attribute) else None
    if isinstance(func, ast.Attribute) and isinstance(receiver, ast.Name):
        return (receiver.id, func.attr) if receiver.id[:1].isupper() else None  # Class.method
    return None


def record_views(file: str, tree: ast.Module, handover: Handover) -> None:
    """Every call in every view of ``tree`` that hands request data on."""
    for func in functions(tree):
        if is_view(func):
            for piece, taint in flow(func):
                for call in calls(piece):
                    handover.record(call, taint, f"{func.name}() in {file}")


def definitions(tree: ast.Module) -> list[tuple[Key, FunctionNode]]:
    """The module-level functions and the methods of top-level classes of ``tree``."""
    found: list[tuple[Key, FunctionNode]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append((("", node.name), node))
        elif isinstance(node, ast.ClassDef):
            found += [
                ((node.name, f.name), f) for f in node.body
                if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            ]  # fmt: skip
    return found


def receiving_parameters(func: FunctionNode, key: Key, handover: Handover) -> set[str]:
    """The parameters of ``func`` (defined under ``key``) that a view filled with request data."""
    params = [p.arg for p in [*func.args.posonlyargs, *func.args.args]]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.decorator_list)
    if key[0] and not static and params:
        params = params[1:]  # self or cls, bound by the call
    named = {p.arg for p in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
    by_position = {params[i] for i in handover.positions.get(key, set()) if i < len(params)}
    return by_position | (handover.keywords.get(key, set()) & named)
