"""Every function's facts (:mod:`._facts`, found by :mod:`._scan`), cached per file content, and
which of the target's functions a call reaches. Shared by Integration Points, Mocking Strategy,
Failure Mode Analysis and Edge Case Discovery.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.inventory import Inventory, Subject
from autocoder.workers.test_planning.perspectives._facts import (
    Boundary,
    Conds,
    Facts,
    facts_from_json,
)
from autocoder.workers.test_planning.perspectives._scan import scan_module
from autocoder.workers.test_planning.perspectives._syntax import FunctionNode, function_nodes

T = TypeVar("T")
TOOL = "autocoder-tp-boundaries"
VERSION = f"{__version__}-2"


def _scan_files(ctx: RunContext, files: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for file in files:
        tree = ctx.sources.parse(file)  # None when it does not parse: never raises
        out[file] = scan_module(tree) if tree is not None else {}
    return out


def function_facts(ctx: RunContext, inventory: Inventory) -> dict[str, Facts]:
    """Subject id (``module:qualname``) -> its facts, for every function and method."""
    files = [f for f in ctx.sources.python if not is_test_file(f)]
    found = cached_per_file(
        ctx.cache,
        TOOL,
        VERSION,
        ctx.sources,
        files,
        lambda miss: _scan_files(ctx, miss),
        default={},
    )
    return {
        f"{ctx.sources.module(file)}:{qualname}": facts_from_json(data)
        for file in files
        for qualname, data in (found[file] or {}).items()
        if f"{ctx.sources.module(file)}:{qualname}" in inventory.by_id
    }


def boundaries(ctx: RunContext, inventory: Inventory) -> dict[str, list[Boundary]]:
    """Subject id -> its calls to the outside world (every kind, parsers included)."""
    return {sid: f.boundaries for sid, f in function_facts(ctx, inventory).items() if f.boundaries}


def resolved_call(subject_id: str, target: str) -> tuple[str, ...]:
    """What a call may name, as dotted names: ``f`` in the caller's module, ``self.m`` on the
    caller's class, ``pkg.mod.f`` as resolved through the imports, and ``Class.m`` (through a
    parameter's annotation) either in the caller's module or absolute."""
    module, _, qualname = subject_id.partition(":")
    if target.startswith("self."):
        return (f"{module}.{qualname.split('.')[0]}.{target[5:]}",)
    return (target, f"{module}.{target}") if "." in target else (f"{module}.{target}",)


def callees(inventory: Inventory, subject_id: str, facts: Facts) -> list[Subject]:
    """The target's functions ``subject_id`` calls, each found through what the call resolves to
    (calling a class calls its ``__init__``); calls on other objects are not guessed."""
    found: dict[str, Subject] = {}
    for target in filter(None, facts.targets):
        names = resolved_call(subject_id, target)
        callee = next((inventory.by_dotted[n] for n in names if n in inventory.by_dotted), None)
        if callee is not None and callee.kind == "class":
            callee = inventory.by_id.get(f"{callee.id}.__init__")
        if callee is not None and callee.id != subject_id:
            found[callee.id] = callee
    return list(found.values())


# Expressions whose parts run only sometimes: a call inside them is not reached on every path.
SOMETIMES = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
             ast.GeneratorExp, ast.FunctionDef, ast.AsyncFunctionDef,
             ast.ClassDef)  # fmt: skip


def _exits(stmt: ast.stmt) -> bool:
    """Whether a ``return`` or ``raise`` (not of a nested function) is anywhere in ``stmt``."""
    return any(isinstance(n, ast.Return | ast.Raise) for n in (stmt, *_walk_own(stmt)))


def _walk_own(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` that does not enter nested functions, classes or lambdas."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield from _walk_own(child)


def _call_lines(node: ast.AST) -> set[int]:
    """Lines of the calls and subscripts in ``node`` that run whenever ``node`` runs."""
    if isinstance(node, SOMETIMES):
        return set()
    found = {node.lineno} if isinstance(node, ast.Call | ast.Subscript) else set()
    for child in ast.iter_child_nodes(node):
        found |= _call_lines(child)
    return found


MAX_CONDS = 4  # conditions on the way to a call that a test may still solve for


def _add(out: dict[int, Conds], lines: set[int], conds: Conds) -> None:
    for line in lines:
        out.setdefault(line, conds)


def _if(stmt: ast.If, conds: Conds, out: dict[int, Conds]) -> Conds | None:
    """The branches of an ``if`` under their conditions; after it, the condition that skips a
    branch that returns or raises (None when both may)."""
    test = ast.unparse(stmt.test)
    _add(out, _call_lines(stmt.test), conds)
    _reached_under(stmt.body, (*conds, (test, True)), out)
    _reached_under(stmt.orelse, (*conds, (test, False)), out)
    body_exits, else_exits = (any(map(_exits, part)) for part in (stmt.body, stmt.orelse))
    if body_exits and else_exits:
        return None
    return (*conds, (test, not body_exits)) if body_exits or else_exits else conds


def _reached_under(body: list[ast.stmt], conds: Conds, out: dict[int, Conds]) -> Conds | None:
    """Fill ``out`` (call line -> the conditions that get every call of the function there) for
    the calls of ``body``, and return the conditions after it, None when the rest may not be
    reached whatever they are (a loop or a handler that may return, an earlier ``return``). A
    call in a loop body, a handler, a comprehension or a short-circuit operand is not known to
    run and gets no entry."""
    for stmt in body:
        after: Conds | None = conds
        if len(conds) > MAX_CONDS:
            return None
        if isinstance(stmt, ast.With | ast.AsyncWith):
            _add(out, {n for item in stmt.items for n in _call_lines(item.context_expr)}, conds)
            after = _reached_under(stmt.body, conds, out)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            after = _reached_under(stmt.body, conds, out)  # handlers: on exceptions only
            for rest in (stmt.orelse, stmt.finalbody):
                after = None if after is None else _reached_under(rest, after, out)
        elif isinstance(stmt, ast.If):
            after = _if(stmt, conds, out)
        elif isinstance(stmt, ast.For | ast.AsyncFor | ast.While | ast.Match):
            head = stmt.test if isinstance(stmt, ast.While) else (
                stmt.subject if isinstance(stmt, ast.Match) else stmt.iter
            )  # fmt: skip
            _add(out, _call_lines(head), conds)
            after = None if _exits(stmt) else conds
        else:
            _add(out, _call_lines(stmt), conds)
            after = None if isinstance(stmt, ast.Return | ast.Raise) else conds
        if after is None:
            return None
        conds = after
    return conds


def _generator(node: FunctionNode) -> bool:
    """Whether calling ``node`` runs none of its body (a generator, a ``@contextmanager``)."""
    return any(isinstance(n, ast.Yield | ast.YieldFrom) for n in _walk_own(node))


def _per_function(
    ctx: RunContext, subjects: list[Subject], read: Callable[[FunctionNode], T], empty: T
) -> dict[str, T]:
    """Subject id -> ``read`` of its function's ast (``empty`` when it is not found)."""
    out: dict[str, T] = {}
    by_file: dict[str, list[Subject]] = {}
    for subject in subjects:
        by_file.setdefault(subject.file, []).append(subject)
    for file, wanted in by_file.items():
        tree = ctx.sources.parse(file)
        nodes = dict(function_nodes(tree)) if tree is not None else {}
        for subject in wanted:
            node = nodes.get(subject.qualname)
            out[subject.id] = read(node) if node is not None else empty
    return out


def _reached_lines(node: FunctionNode) -> dict[int, Conds]:
    lines: dict[int, Conds] = {}
    if not _generator(node):
        _reached_under(node.body, (), lines)
    return lines


def reaching_conditions(ctx: RunContext, subjects: list[Subject]) -> dict[str, dict[int, Conds]]:
    """Subject id -> call line -> the conditions (source, must hold) under which every call of
    it runs that line, found with ast: a test that fakes a boundary and expects its fake to be
    called (or its fault to propagate) holds only with arguments solved for these conditions
    (:func:`._solve.solve`); a line with no entry (in a loop, after a return, anywhere in a
    generator, whose call runs nothing) gets no test."""
    return _per_function(ctx, subjects, _reached_lines, {})


def _bindings(
    node: ast.AST, scope: tuple[int, int], found: dict[str, list[tuple[int, int]]]
) -> None:
    """Each assignment to a plain name under ``node``: (its line, the last line of the innermost
    block holding it), the lines where the name may no longer be the argument."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        targets = (
            child.targets
            if isinstance(child, ast.Assign)
            else [child.target]
            if isinstance(child, ast.AugAssign | ast.AnnAssign | ast.NamedExpr)
            else []
        )
        for t in targets:
            if isinstance(t, ast.Name):
                found.setdefault(t.id, []).append((t.lineno, scope[1]))
        inner = scope
        if isinstance(child, ast.stmt) and any(hasattr(child, f) for f in ("body", "handlers")):
            inner = (child.lineno, child.end_lineno or child.lineno)
        _bindings(child, inner, found)


def _first_bindings(node: FunctionNode) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = {}
    _bindings(node, (node.lineno, node.end_lineno or node.lineno), found)
    return found


def rebinds(
    ctx: RunContext, subjects: list[Subject]
) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """Subject id -> name -> where it is assigned (line, last line of its block): a condition on a
    parameter (``if name is None``) after ``name = name or cmd.name`` is not about the argument
    any more, so solving it for the argument gives a test that misses the site."""
    return _per_function(ctx, subjects, _first_bindings, {})
