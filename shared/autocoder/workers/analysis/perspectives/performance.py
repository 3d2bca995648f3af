"""Performance Analysis: blocking calls in async code, nested loops, quadratic list idioms."""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import Finding
from autocoder.workers.analysis.perspectives.code_quality import ruff_severity, run_ruff

SCANNER = "autocoder-ast"
SCANNER_VERSION = "1"  # bump when the scanner's rules or its cached result change
HTTP = ("get", "post", "put", "patch", "delete", "head", "options", "request")
BLOCKING: dict[str, str] = {
    "time.sleep": "await asyncio.sleep(...)",
    "open": "aiofiles or await asyncio.to_thread(...)",
    "input": "await asyncio.to_thread(input, ...)",
    "os.system": "asyncio.create_subprocess_shell",
    "os.popen": "asyncio.create_subprocess_shell",
    "urllib.request.urlopen": "an async HTTP client (httpx.AsyncClient, aiohttp)",
    **{f"subprocess.{f}": "asyncio.create_subprocess_exec"
       for f in ("run", "call", "check_call", "check_output", "Popen", "getoutput")},
    **{f"socket.{f}": "asyncio.open_connection / loop.getaddrinfo"
       for f in ("create_connection", "getaddrinfo", "gethostbyname")},
    **{f"{lib}.{verb}": "an async HTTP client (httpx.AsyncClient, aiohttp)"
       for lib in ("requests", "httpx") for verb in HTTP},
}  # fmt: skip
LINEAR_LIST_OPS = ("remove", "index", "insert", "pop")  # insert/pop only at position 0
GROWING_OPS = ("append", "extend", "insert")
TOP = 10


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the dotted name it was imported as (``from time import sleep`` -> time.sleep)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    return out


def _list_names(scope: ast.AST) -> set[str]:
    """Names a scope binds to a list: ``x = []``, ``x = list(...)``, ``x: list[int]``, a comprehension."""

    def is_list(value: ast.AST | None) -> bool:
        return isinstance(value, ast.List | ast.ListComp) or (
            isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id == "list"
        )  # fmt: skip

    def is_list_type(note: ast.AST | None) -> bool:
        base = note.value if isinstance(note, ast.Subscript) else note
        return isinstance(base, ast.Name) and base.id in {"list", "List"}

    names: set[str] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and is_list(node.value):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if is_list_type(node.annotation) or is_list(node.value):
                names.add(node.target.id)
        elif isinstance(node, ast.arg) and is_list_type(node.annotation):
            names.add(node.arg)
    return names


def _grown(loop: ast.AST) -> set[str]:
    """Names a loop's body appends to, extends, or rebinds to a bigger list."""
    names: set[str] = set()
    for node in ast.walk(loop):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in GROWING_OPS and isinstance(node.func.value, ast.Name):
                names.add(node.func.value.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign) and (name := _self_concat(node)):
            names.add(name)
    return names


def _self_concat(node: ast.Assign) -> str | None:
    """``x`` for ``x = x + [..]`` or ``x = [..] + x`` (also tuples): a full copy per run."""
    value = node.value
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
        return None
    if not isinstance(value, ast.BinOp) or not isinstance(value.op, ast.Add):
        return None
    name = node.targets[0].id
    sides = [value.left, value.right]
    literal = ast.List | ast.ListComp | ast.Tuple
    if any(isinstance(s, ast.Name) and s.id == name for s in sides) and any(
        isinstance(s, literal) for s in sides
    ):
        return name
    return None


def _inner_fors(nodes: list[ast.stmt]) -> list[ast.For | ast.AsyncFor]:
    """The for-loops directly nested in ``nodes`` (not in nested functions or deeper loops)."""
    found: list[ast.For | ast.AsyncFor] = []
    stack: list[ast.AST] = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.For | ast.AsyncFor):
            found.append(node)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _for_depth(loop: ast.For | ast.AsyncFor, bound: set[str]) -> int:
    """Nesting depth of for-loops; a loop over what an outer loop yields (``for x in row``) adds 0."""
    walks_outer = any(isinstance(n, ast.Name) and n.id in bound for n in ast.walk(loop.iter))
    names = bound | {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    inner = [_for_depth(f, names) for f in _inner_fors(loop.body + loop.orelse)]
    return (0 if walks_outer else 1) + max(inner, default=0)


class _Scanner(ast.NodeVisitor):
    """Walks one module, knowing the enclosing function, whether it is async, and the loops."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases = _aliases(tree)
        self.hits: list[dict[str, Any]] = []
        self.functions: list[list[Any]] = []
        self.scope: list[str] = []
        self.is_async = False
        self.loops: list[ast.For | ast.AsyncFor | ast.While] = []
        self.lists = _list_names(tree)

    @property
    def qualname(self) -> str:
        return ".".join(self.scope) or "<module>"

    def hit(self, rule: str, node: ast.AST, severity: str, message: str) -> None:
        line = getattr(node, "lineno", 0)
        self.hits.append({"rule": rule, "line": line, "function": self.qualname,
                          "severity": severity, "message": message})  # fmt: skip

    def _enter(self, node: ast.AST, name: str, is_async: bool, lists: set[str]) -> None:
        saved = (self.is_async, self.loops, self.lists)
        self.scope.append(name)
        self.is_async, self.loops, self.lists = is_async, [], lists
        if not isinstance(node, ast.ClassDef):
            self.functions.append([self.qualname, node.lineno, getattr(node, "end_lineno", 0)])
        self.generic_visit(node)
        self.scope.pop()
        self.is_async, self.loops, self.lists = saved

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._enter(node, node.name, False, _list_names(node))

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._enter(node, node.name, True, _list_names(node))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._enter(node, node.name, False, set())

    def visit_Lambda(self, node: ast.Lambda) -> None:
        saved, self.is_async = self.is_async, False
        self.generic_visit(node)
        self.is_async = saved

    def visit_While(self, node: ast.While) -> None:
        self.loops.append(node)
        self.generic_visit(node)
        self.loops.pop()

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        if not any(isinstance(loop, ast.For | ast.AsyncFor) for loop in self.loops):
            depth = _for_depth(node, set())
            if depth >= 2:
                self.hit("nested-loop", node, "medium" if depth >= 3 else "low",
                         f"{depth} nested loops over independent collections in "
                         f"{self.qualname}: O(n*m) work; index the inner one in a dict or set")  # fmt: skip
        self.loops.append(node)
        self.generic_visit(node)
        self.loops.pop()

    visit_AsyncFor = visit_For
