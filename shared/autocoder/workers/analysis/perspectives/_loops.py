"""How deep a nest of for-loops really is: the levels that multiply the work.

A level counts only when it walks a data-sized collection that does not come from an outer
level's item: ``for cell in row`` inside ``for row in rows`` is linear in the cells, and a loop
over a literal (``for c in (code, None)``) runs a fixed number of times. ``range(...)`` always
counts, since ``for j in range(i, n)`` inside ``for i in range(n)`` is still quadratic.
"""

from __future__ import annotations

import ast

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def loop_nesting(loop: ast.For | ast.AsyncFor) -> tuple[int, bool]:
    """(levels that multiply the work, whether a level compares its items with an outer one's)
    for the nest of loops that ``loop`` starts."""
    return _nesting(loop, set(), set())


def _same_scope(nodes: list[ast.stmt]) -> list[ast.AST]:
    """Every node under ``nodes`` outside nested functions, classes and lambdas."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(nodes)
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _inner_fors(nodes: list[ast.stmt]) -> list[ast.For | ast.AsyncFor]:
    """The for-loops directly nested in ``nodes`` (not in nested functions or deeper loops)."""
    found: list[ast.For | ast.AsyncFor] = []
    stack: list[ast.AST] = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.For | ast.AsyncFor):
            found.append(node)
        elif not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_constant_size(node: ast.expr) -> bool:
    """A literal tuple, list or set, a string, ``range(<number>)``, or a choice between them:
    a loop over it runs a fixed number of times, whatever the data."""
    if isinstance(node, ast.IfExp):
        return _is_constant_size(node.body) and _is_constant_size(node.orelse)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return not any(isinstance(e, ast.Starred) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        return all(isinstance(a, ast.Constant) for a in node.args)
    return isinstance(node, ast.Constant)


def _is_range(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
    )


def _derived(loop: ast.For | ast.AsyncFor, bound: set[str]) -> set[str]:
    """``bound`` plus the loop's target and what its body computes from them (``cells =
    row.cells``): an inner loop over any of these walks a part of the outer item."""
    names = bound | _names_in(loop.target)
    for node in _same_scope(loop.body):
        if not isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) or node.value is None:
            continue
        if _names_in(node.value) & names:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n for t in targets for n in _names_in(t)}
    return names


def _compares_across(body: list[ast.stmt], outer: set[str], inner: set[str]) -> bool:
    """True when the body compares something of the outer item with something of the inner one
    (``if ret.id == order.id``): a join that a dict keyed by that value does in one pass."""
    for node in _same_scope(body):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.Is) for op in node.ops
        ):
            sides = [_names_in(n) for n in (node.left, *node.comparators)]
            if any(s & outer for s in sides) and any(s & inner and not s & outer for s in sides):
                return True
    return False


def _nesting(loop: ast.For | ast.AsyncFor, bound: set[str], outer: set[str]) -> tuple[int, bool]:
    """(depth of nested loops over independent, data-sized collections, whether some level
    compares its items with an outer level's). A loop over what an outer loop yields
    (``for cell in row``) or over a fixed literal (``for c in (code, None)``) adds no depth."""
    dependent = bool(_names_in(loop.iter) & bound) and not _is_range(loop.iter)
    counts = not dependent and not _is_constant_size(loop.iter)
    own = _names_in(loop.target)
    join = counts and bool(outer) and _compares_across(loop.body, outer, own)
    names = _derived(loop, bound)
    inner = [
        _nesting(f, names, (outer | own) if counts else outer)
        for f in _inner_fors(loop.body + loop.orelse)
    ]
    depth = max((d for d, _j in inner), default=0)
    return int(counts) + depth, join or any(j for _d, j in inner)
