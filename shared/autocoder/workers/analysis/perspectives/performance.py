"""Performance Analysis: blocking calls in async code, nested loops, quadratic list idioms."""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import Severity
from autocoder.workers.analysis.perspectives.code_quality import (
    base_metrics,
    counts_sentence,
    ruff_severity,
    run_ruff,
)

SCANNER = "autocoder-ast"
SCANNER_VERSION = "1"  # bump when the scanner's rules or its cached result change
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
    "multiplies per level; index the inner collection in a dict or set",
    "list-concat-in-loop": "`{name} = {name} + [...]` in a loop in {fn} copies the whole "
    "sequence every time (quadratic); use {name}.append(...) or .extend(...)",
    "list-membership-in-loop": "`in {name}` in a loop in {fn} scans a list that the loop keeps "
    "growing (quadratic); keep a set next to it",
    "list-linear-op-in-loop": "{name}.{op}(...) in a loop in {fn} scans or shifts the whole list "
    "every time (quadratic); use a set, a dict or collections.deque",
}
TOP = 10
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> what it was imported as (``from time import sleep``: sleep -> time.sleep)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update({a.asname or a.name.split(".")[0]: a.name if a.asname else
                        a.name.split(".")[0] for a in node.names})  # fmt: skip
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    return out


def _is_list(value: ast.AST | None, annotation: bool = False) -> bool:
    """``[..]``, ``[.. for ..]``, ``list(..)``; with ``annotation``: ``list`` or ``list[int]``."""
    if annotation:
        base = value.value if isinstance(value, ast.Subscript) else value
        return isinstance(base, ast.Name) and base.id in {"list", "List"}
    return isinstance(value, ast.List | ast.ListComp) or (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "list"
    )


def _list_names(scope: ast.AST) -> set[str]:
    """Names a scope binds to a list (assigned one, or annotated as one)."""
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


def _grown(loop: ast.AST) -> set[str]:
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


def _root(node: ast.expr) -> str | None:
    """The name an iterable hangs off: ``row`` for ``row``, ``row.cells``, ``enumerate(row)``."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.func, ast.Name)
            and (
                node.func.id in {"enumerate", "sorted", "reversed", "list", "tuple", "iter", "zip"}
            )
        ):
            node = node.args[0]
        else:
            return None


def _for_depth(loop: ast.For | ast.AsyncFor, bound: set[str]) -> int:
    """Depth of nested for-loops; a loop over what an outer one yields (``for x in row``) adds 0."""
    names = bound | {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    inner = [_for_depth(f, names) for f in _inner_fors(loop.body + loop.orelse)]
    return (0 if _root(loop.iter) in bound else 1) + max(inner, default=0)


class _Scanner(ast.NodeVisitor):
    """Walks one module, knowing the enclosing function, whether it is async, and the loops."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases = _aliases(tree)
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
        if outermost and not isinstance(node, ast.While) and (depth := _for_depth(node, set())) > 1:
            self.hit("nested-loop", node, "medium" if depth > 2 else "low", depth=depth)
        self.loops.append(node)
        self.generic_visit(node)
        self.loops.pop()

    visit_AsyncFor = visit_While = visit_For

    def _dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute) and (base := self._dotted(node.value)):
            return f"{base}.{node.attr}"
        return None

    def visit_Call(self, node: ast.Call) -> None:
        call, func = self._dotted(node.func), node.func
        if self.is_async and call in BLOCKING:
            self.hit("blocking-call-in-async", node, "high", call=call, fix=BLOCKING[call])
        if self.loops and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            first = node.args[0] if node.args else None
            at_front = isinstance(first, ast.Constant) and first.value == 0
            op = func.attr
            linear = op in {"remove", "index"} or (at_front and op in {"insert", "pop"})
            if linear and func.value.id in self.lists:
                self.hit("list-linear-op-in-loop", node, "medium", name=func.value.id, op=op)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.loops and (name := _self_concat(node)):
            self.hit("list-concat-in-loop", node, "medium", name=name)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if (
                self.loops and isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Name)
                and right.id in self.lists and right.id in _grown(self.loops[0])
            ):  # fmt: skip
                self.hit("list-membership-in-loop", node, "medium", name=right.id)
        self.generic_visit(node)


def scan(text: str) -> dict[str, Any]:
    """The scanner's hits and the function spans of one file, or why it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError) as e:
        return {"hits": [], "functions": [], "async_functions": 0, "error": str(e)}
    scanner = _Scanner(tree)
    scanner.visit(tree)
    count = sum(isinstance(n, ast.AsyncFunctionDef) for n in ast.walk(tree))
    return {"hits": scanner.hits, "functions": scanner.functions, "async_functions": count,
            "error": None}  # fmt: skip


def enclosing(functions: list[list[Any]], line: int) -> str:
    """The innermost function whose span holds ``line``."""
    spans = [(end - start, name) for name, start, end in functions if start <= line <= end]
    return min(spans)[1] if spans else "<module>"


def ruff_hits(scans: dict[str, Any], lint: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Ruff's ASYNC/PERF diagnostics as hits, minus blocking calls the scanner already has."""
    out: dict[str, list[dict[str, Any]]] = {}
    for file, diagnostics in lint.items():
        scanned = scans.get(file) or {"hits": [], "functions": []}
        seen = {h["line"] for h in scanned["hits"] if h["rule"] == "blocking-call-in-async"}
        for d in diagnostics:
            if d["code"].startswith(("ASYNC", "PERF")) and not (
                d["code"].startswith("ASYNC2") and d["line"] in seen
            ):
                fn = enclosing(scanned["functions"], d["line"])
                out.setdefault(file, []).append({
                    "rule": d["code"], "line": d["line"], "function": fn, "tool": "ruff",
                    "severity": ruff_severity(d["code"]),
                    "message": f"{d['code']}: {d['message']} (in {fn})",
                })  # fmt: skip
    return out


class PerformanceAnalysis:
    id: ClassVar[str] = "performance"
    name: ClassVar[str] = "Performance Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        if not ctx.sources.python:
            raise PerspectiveSkipped(f"no Python files in {ctx.root}")
        scans = toolkit.cached_per_file(
            ctx.cache, SCANNER, SCANNER_VERSION, ctx.sources, ctx.sources.python,
            lambda files: {f: scan("\n".join(ctx.sources.lines(f)) + "\n") for f in files},
        )  # fmt: skip
        ruff_version, lint = run_ruff(ctx, "ASYNC,PERF", "", "ruff/performance")
        extra = ruff_hits(scans, lint)
        hits = [(f, h) for f, r in scans.items() for h in r["hits"]]
        hits += [(f, h) for f, found in extra.items() for h in found]
        findings = toolkit.stable_fingerprints([
            toolkit.finding(
                ctx.sources, tool=h.get("tool", SCANNER), rule=h["rule"], severity=h["severity"],
                file=f, line=h["line"], message=h["message"],
                anchor=f"{h['function']} {ctx.sources.line_text(f, h['line'])}",
            )
            for f, h in hits
        ])  # fmt: skip
        hot = Counter(f"{f}:{h['function']}" for f, h in hits).most_common(TOP)
        metrics = {
            **base_metrics(ctx, findings),
            "async_functions": sum(r["async_functions"] for r in scans.values()),
            "hot_functions": [{"function": k, "findings": n} for k, n in hot],
            "unparsed_files": sorted(f for f, r in scans.items() if r["error"])[:15],
        }
        return PerspectiveResult(
            summary=summarise(metrics), findings=findings, metrics=metrics,
            tools={SCANNER: SCANNER_VERSION, "ruff": ruff_version},
        )  # fmt: skip


def summarise(m: dict[str, Any]) -> str:
    parts = [f"{m['async_functions']} async functions scanned; " + counts_sentence(m, "hot spots")]
    if m["by_rule"]:
        parts.append("By rule: " + ", ".join(f"{r} ({n})" for r, n in m["by_rule"].items()) + ".")
    if m["hot_functions"]:
        hottest = [f"{h['function']} ({h['findings']})" for h in m["hot_functions"][:3]]
        parts.append("Hottest functions: " + ", ".join(hottest) + ".")
    if m["unparsed_files"]:
        parts.append(f"{len(m['unparsed_files'])} files do not parse and were not scanned.")
    return " ".join(parts)
