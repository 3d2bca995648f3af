"""The performance scanner: an AST walk for blocking calls in async code, nested loops over
independent collections and list idioms that turn a loop quadratic.

A nested loop counts a level only when it walks a data-sized collection that does not come from
an outer level's item (``for cell in row`` is linear in the cells); two levels are reported only
when they compare their items (a join a dict does in one pass), three or more always.
"""

from __future__ import annotations

import ast
from typing import Any

from autocoder.engine.names import dotted_name, import_aliases
from autocoder.schema import Severity
from autocoder.workers.analysis.perspectives._loops import loop_nesting

SCANNER = "autocoder-ast"
SCANNER_VERSION = "2"  # bump when the scanner's rules or its cached result change
_HTTP_FIX = "an async HTTP client (httpx.AsyncClient, aiohttp)"
BLOCKING: dict[str, str] = {  # call -> what to use instead inside ``async def``
    "time.sleep": "await asyncio.sleep(...)", "open": "aiofiles or asyncio.to_thread",
    "input": "asyncio.to_thread", "os.system": "asyncio.create_subprocess_shell",
    "os.popen": "asyncio.create_subprocess_shell", "urllib.request.urlopen": _HTTP_FIX,
    **{f"subprocess.{f}": "asyncio.create_subprocess_exec"
       for f in ("run", "call", "check_call", "check_output", "Popen", "getoutput")},
    **{f"socket.{f}": "asyncio.open_connection or loop.getaddrinfo"
       for f in ("create_connection", "getaddrinfo", "gethostbyname")},
    **{f"{lib}.{verb}": _HTTP_FIX for lib in ("requests", "httpx")
       for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request")},
}  # fmt: skip
MESSAGES = {
    "blocking-call-in-async": "{call}() blocks the event loop in async {fn}; use {fix}",
    "nested-loop": "{depth} nested loops over independent collections in {fn}: the work "
    "multiplies per level; check the sizes, or precompute what the inner levels yield",
    "nested-loop-join": "{depth} nested loops in {fn} compare each outer item with each inner "
    "one (a quadratic join); index the inner collection in a dict or set by the compared value",
    "list-concat-in-loop": "`{name} = {name} + [...]` in a loop in {fn} copies the whole "
    "sequence every time (quadratic); use {name}.append(...) or .extend(...)",
    "list-membership-in-loop": "`in {name}` in a loop in {fn} scans {what} on every pass "
    "(quadratic); keep a set next to it",
    "list-linear-op-in-loop": "{name}.{op}(...) in a loop in {fn} scans or shifts the whole list "
    "every time (quadratic); use a set, a dict or collections.deque",
}
_LIST_METHODS = {"split", "rsplit", "splitlines", "readlines", "findall"}  # return new lists


def _is_list(value: ast.AST | None, annotation: bool = False) -> bool:
    """A list whose length comes from the data: ``[]`` (it grows later), ``[.. for ..]``,
    ``list(..)``, ``sorted(..)``, ``s.split()`` and kin; with ``annotation``: ``list[..]``. A
    literal with items has a fixed length, so scanning it is no worse than a few comparisons."""
    if annotation:
        base = value.value if isinstance(value, ast.Subscript) else value
        return isinstance(base, ast.Name) and base.id in {"list", "List"}
    if isinstance(value, ast.List):
        return not value.elts
    if isinstance(value, ast.ListComp):
        return True
    func = value.func if isinstance(value, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id in {"list", "sorted"}) or (
        isinstance(func, ast.Attribute) and func.attr in _LIST_METHODS
    )


def _list_names(scope: ast.AST) -> set[str]:
    """Names a scope binds to a data-sized list (assigned one, or annotated as one)."""
    names: set[str] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and _is_list(node.value):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if _is_list(node.annotation, annotation=True) or _is_list(node.value):
                names.add(node.target.id)
        elif isinstance(node, ast.arg) and _is_list(node.annotation, annotation=True):
            names.add(node.arg)
    return names


def _grown_names(loop: ast.AST) -> set[str]:
    """Names a loop's body appends to, extends, inserts into or rebinds to a longer sequence."""
    names: set[str] = set()
    for node in ast.walk(loop):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.attr in {"append", "extend", "insert"}:
                names.add(func.value.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign) and (name := _self_concat(node)):
            names.add(name)
    return names


def _self_concat(node: ast.Assign) -> str | None:
    """``x`` for ``x = x + [..]`` or ``x = [..] + x`` (tuples too): a full copy per iteration."""
    value, targets = node.value, node.targets
    if len(targets) != 1 or not isinstance(targets[0], ast.Name):
        return None
    if not isinstance(value, ast.BinOp) or not isinstance(value.op, ast.Add):
        return None
    sides = [value.left, value.right]
    itself = any(isinstance(s, ast.Name) and s.id == targets[0].id for s in sides)
    literal = any(isinstance(s, ast.List | ast.ListComp | ast.Tuple) for s in sides)
    return targets[0].id if itself and literal else None


class _Scanner(ast.NodeVisitor):
    """Walks one module, knowing the enclosing function, whether it is async, and the loops."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases = import_aliases(tree, relative=False)
        self.hits: list[dict[str, Any]] = []
        self.functions: list[list[Any]] = []  # [qualname, first line, last line]
        self.scope: list[str] = []
        self.is_async = False
        self.loops: list[ast.For | ast.AsyncFor | ast.While] = []
        self.lists = _list_names(tree)

    def hit(self, rule: str, node: ast.expr | ast.stmt, severity: Severity, **fields: Any) -> None:
        fn = ".".join(self.scope) or "<module>"
        message = MESSAGES[rule].format(fn=fn, **fields)
        self.hits.append({"rule": rule, "line": node.lineno, "function": fn,
                          "severity": severity, "message": message})  # fmt: skip

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        saved = (self.is_async, self.loops, self.lists)
        self.scope.append(node.name)
        self.is_async, self.loops = isinstance(node, ast.AsyncFunctionDef), []
        if not isinstance(node, ast.ClassDef):
            self.lists = _list_names(node)
            self.functions.append([".".join(self.scope), node.lineno, node.end_lineno or 0])
        self.generic_visit(node)
        self.scope.pop()
        self.is_async, self.loops, self.lists = saved

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter

    def visit_Lambda(self, node: ast.Lambda) -> None:
        saved, self.is_async = self.is_async, False
        self.generic_visit(node)
        self.is_async = saved

    def visit_For(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        outermost = not any(isinstance(loop, ast.For | ast.AsyncFor) for loop in self.loops)
        if outermost and not isinstance(node, ast.While):
            depth, join = loop_nesting(node)
            if join and depth > 1:
                self.hit("nested-loop-join", node, "medium", depth=depth)
            elif depth > 2:
                self.hit("nested-loop", node, "low", depth=depth)
        self.loops.append(node)
        self.generic_visit(node)
        self.loops.pop()

    visit_AsyncFor = visit_While = visit_For

    def visit_Call(self, node: ast.Call) -> None:
        self._check_blocking(node)
        self._check_linear_list_op(node)
        self.generic_visit(node)

    def _check_blocking(self, node: ast.Call) -> None:
        call = self._imported_name(node.func)
        if self.is_async and call in BLOCKING:
            self.hit("blocking-call-in-async", node, "high", call=call, fix=BLOCKING[call])

    def _check_linear_list_op(self, node: ast.Call) -> None:
        func = node.func
        if self.loops and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            first = node.args[0] if node.args else None
            at_front = isinstance(first, ast.Constant) and first.value == 0
            op = func.attr
            linear = op in {"remove", "index"} or (at_front and op in {"insert", "pop"})
            if linear and func.value.id in self.lists:
                self.hit("list-linear-op-in-loop", node, "medium", name=func.value.id, op=op)

    def _imported_name(self, node: ast.AST) -> str | None:
        """The dotted name with its first part resolved through the imports (``sp.run`` ->
        ``subprocess.run``)."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, dot, rest = dotted.partition(".")
        return self.aliases.get(head, head) + dot + rest

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.loops and (name := _self_concat(node)):
            self.hit("list-concat-in-loop", node, "medium", name=name)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if (
                self.loops and isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Name)
                and right.id in self.lists
            ):  # fmt: skip
                grown = right.id in _grown_names(self.loops[0])
                what = "a list that the loop keeps growing" if grown else "a data-sized list"
                severity: Severity = "medium" if grown else "low"
                self.hit("list-membership-in-loop", node, severity, name=right.id, what=what)
        self.generic_visit(node)


def scan_hot_spots(text: str) -> dict[str, Any]:
    """The scanner's hits and the function spans of one file, or why it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return {"hits": [], "functions": [], "async_functions": 0,
                "error": str(e) or type(e).__name__}  # fmt: skip
    scanner = _Scanner(tree)
    scanner.visit(tree)
    count = sum(isinstance(n, ast.AsyncFunctionDef) for n in ast.walk(tree))
    return {"hits": scanner.hits, "functions": scanner.functions, "async_functions": count,
            "error": None}  # fmt: skip
