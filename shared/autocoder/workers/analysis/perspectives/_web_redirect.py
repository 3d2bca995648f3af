"""Whether a redirect target is only the current request's own location.

``HttpResponseRedirect(request.path + "?e=1")`` or ``request.path.replace(token, "set")``
sends the client back to where it already is: no attacker picks the host, so it is not an open
redirect (CWE-601), although the taint tracker rightly calls ``request.path`` request data for
file paths and SQL. Read by following the target's names back through the function's own
assignments (by name, as a reviewer reads it).
"""

from __future__ import annotations

import ast

from autocoder.workers.analysis.perspectives._taint import REQUEST_NAMES, FunctionNode

LOCATION_ATTRS = frozenset(
    {"path", "path_info", "full_path", "get_full_path", "url", "base_url", "raw_path",
     "rel_url", "build_absolute_uri", "script_root", "url_root"}
)  # fmt: skip


def only_current_location(func: FunctionNode, target: ast.expr | None) -> bool:
    """True when every request attribute ``target`` is built from (through the function's
    assignments) is the request's own location (``path``, ``full_path``, ``url``...), and no
    location method is given an argument on the way (``build_absolute_uri(next_url)``)."""
    if target is None:
        return False
    assigned = _assignments(func)
    attrs, pending, seen = set(), [target], set()
    while pending:
        for node in ast.walk(pending.pop()):
            if isinstance(node, ast.Attribute) and _on_request(node.value):
                attrs.add(node.attr)
            elif _with_arguments(node):
                return False  # build_absolute_uri(next_url) is wherever next_url says
            elif isinstance(node, ast.Name) and node.id not in seen:
                seen.add(node.id)
                pending += assigned.get(node.id, [])
    return bool(attrs) and attrs <= LOCATION_ATTRS


def _assignments(func: FunctionNode) -> dict[str, list[ast.expr]]:
    """Name -> the values the function assigns to it."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for name in (n for n in ast.walk(t) if isinstance(n, ast.Name)):
                    assigned.setdefault(name.id, []).append(node.value)
    return assigned


def _with_arguments(node: ast.AST) -> bool:
    """A call of a request's location method with arguments: it builds another location."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and _on_request(node.func.value)
        and bool(node.args or node.keywords)
    )


def _on_request(node: ast.expr) -> bool:
    """``request``, ``req`` or ``self.request``."""
    if isinstance(node, ast.Name):
        return node.id in REQUEST_NAMES
    return isinstance(node, ast.Attribute) and node.attr == "request"
