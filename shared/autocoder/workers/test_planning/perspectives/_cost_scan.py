"""The Performance Impact perspective's scan: where each function's cost grows with its input.

Per file (cached by content), per function and method: hot spots inside loops (a loop nested in
a loop over something else, list membership, list concatenation, ``remove``/``index``/``insert``/
``pop(0)`` on a list, I/O), the parameters its loops iterate and how (items, a mapping, a count,
nested), the keys it reads from loop items, and its loop depth. Used by :mod:`.performance_impact`.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

from autocoder import __version__
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.inventory import Inventory
from autocoder.workers.test_planning.perspectives._safe_calls import dotted, parse_file

TOOL, VERSION = "autocoder-tp-performance_impact", f"{__version__}-1"
LOOPS = ast.For | ast.AsyncFor | ast.While
COMPREHENSIONS = ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
WRAPPERS = {"enumerate", "sorted", "reversed", "list", "tuple", "set", "iter", "zip", "len"}
IO_MODULES = {"requests", "httpx", "subprocess", "socket", "urllib", "sqlite3", "shutil"}
IO_CALLS = {"open", "urlopen", "sleep", "system", "execute", "executemany", "read_text",
            "write_text", "read_bytes", "write_bytes", "fetchone", "fetchall"}  # fmt: skip
SHIFTS = {"remove", "index", "insert", "count"}
BUILTINS = frozenset(dir(builtins))


def _stored(*nodes: ast.AST) -> frozenset[str]:
    """Names bound (stored) anywhere in ``nodes``: loop targets and assignments in loop bodies."""
    return frozenset(n.id for node in nodes for n in ast.walk(node)
                     if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))  # fmt: skip


def _name(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else ""


def _item_key(node: ast.AST, items: set[str]) -> str | None:
    """The constant key read from a loop item: ``item["k"]`` or ``item.get("k")``."""
    if isinstance(node, ast.Subscript):
        owner, key = node.value, node.slice
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        if node.func.attr != "get":
            return None
        owner, key = node.func.value, node.args[0]
    else:
        return None
    found = _name(owner) in items and isinstance(key, ast.Constant) and isinstance(key.value, str)
    return str(key.value) if found and isinstance(key, ast.Constant) else None


class _Scan:
    """Hot spots and scalable inputs of one function, by loop depth."""

    def __init__(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
        self.params = {a.arg for a in args} - {"self", "cls"}
        listy = {a.arg for a in args if a.annotation and ast.unparse(a.annotation).startswith(
            ("list", "List", "Sequence"))}  # fmt: skip
        nodes = list(ast.walk(func))
        self.lists = listy | {t.id for n in nodes if isinstance(n, ast.Assign)
                              and isinstance(n.value, ast.List | ast.ListComp)
                              for t in n.targets if isinstance(t, ast.Name)}  # fmt: skip
        self.hits: list[dict[str, Any]] = []
        self.scales: dict[str, str] = {}  # param -> items | mapping | count | nested
        self.targets: set[str] = set()
        self.depth = 0
        for statement in func.body:
            self.visit(statement, 0)
        self.keys = sorted({k for n in nodes if (k := _item_key(n, self.targets)) is not None})

    def hit(self, rule: str, node: ast.AST, text: str) -> None:
        line = getattr(node, "lineno", None) or getattr(getattr(node, "iter", None), "lineno", 0)
        self.hits.append({"rule": rule, "line": line, "text": text})

    def visit(self, node: ast.AST, depth: int, bound: frozenset[str] = frozenset()) -> None:
        """Walk at loop ``depth``; ``bound`` holds the names the enclosing loops (re)bind."""
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            return
        self.depth = max(self.depth, depth)
        if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            self.loop(node, node.iter, node.target, depth, bound)
        if depth:
            self.check(node)
        generators = node.generators if isinstance(node, COMPREHENSIONS) else []
        for i, generator in enumerate(generators):
            self.visit(generator, depth + i, bound | _stored(*(g.target for g in generators[:i])))
        inner = depth + (len(generators) or isinstance(node, LOOPS | ast.comprehension))
        within = (
            bound
            | _stored(*(g.target for g in generators))
            | (_stored(node) if isinstance(node, LOOPS | ast.comprehension) else frozenset())
        )
        for child in ast.iter_child_nodes(node):
            if child is getattr(node, "iter", None):  # evaluated once, outside the loop
                self.visit(child, depth, bound)
            elif child not in generators:
                self.visit(child, inner, within)

    def loop(self, node: ast.AST, iterable: ast.expr, target: ast.expr, depth: int,
             bound: frozenset[str]) -> None:  # fmt: skip
        """A loop inside a loop costs their product unless it walks what the outer one yields."""
        self.targets |= {_name(t) for t in ast.walk(target)} - {""}
        free = {n.id for n in ast.walk(iterable) if isinstance(n, ast.Name)} - BUILTINS
        if depth and free and not free & bound and not all(n.isupper() for n in free):
            self.hit("nested-loop", node, f"loop over `{ast.unparse(iterable)}` inside a loop")
        self.root(iterable, "items")

    def root(self, node: ast.expr, how: str) -> None:
        """Which parameter a loop's iterable comes from, and how it is iterated."""
        if isinstance(node, ast.Name) and node.id in self.params:
            self.scales.setdefault(node.id, how)
        elif isinstance(node, ast.Call) and _name(node.func) in WRAPPERS | {"range"}:
            for arg in node.args:
                self.root(arg, "count" if _name(node.func) == "range" else how)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            mapping = node.func.attr in ("items", "keys", "values")
            self.root(node.func.value, "mapping" if mapping else "nested")
        elif isinstance(node, ast.Subscript | ast.Attribute):
            self.root(node.value, "nested")

    def check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Compare) and any(
            isinstance(o, ast.In | ast.NotIn) for o in node.ops
        ):
            if any(_name(c) in self.lists for c in node.comparators):
                self.hit("list-membership", node, f"`{ast.unparse(node)}` scans a list")
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp):
            left = _name(node.value.left)
            if left and isinstance(node.value.op, ast.Add) and left in map(_name, node.targets):
                self.hit("list-concat", node, f"`{ast.unparse(node)}` copies the whole list")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            call, receiver = node.func.attr, _name(node.func.value)
            shift = call == "pop" and [ast.unparse(a) for a in node.args] == ["0"]
            if receiver in self.lists and (call in SHIFTS or shift):
                self.hit("list-shift", node, f"`{ast.unparse(node)}` is linear in the list")
        called = dotted(node.func) if isinstance(node, ast.Call) else ""
        if called.split(".")[0] in IO_MODULES or called.split(".")[-1] in IO_CALLS:
            self.hit("io-in-loop", node, f"`{called}(...)` runs every iteration")


def scan(tree: ast.Module) -> dict[str, Any]:
    """Per qualname: hits, scalable parameters, keys read from loop items, loop depth."""
    found: dict[str, Any] = {}
    for node in tree.body:
        items = node.body if isinstance(node, ast.ClassDef) else [node]
        prefix = f"{node.name}." if isinstance(node, ast.ClassDef) else ""
        for func in items:
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                s = _Scan(func)
                found[prefix + func.name] = {"hits": s.hits, "scales": s.scales,
                                             "keys": s.keys, "depth": s.depth}  # fmt: skip
    return found


def file_facts(ctx: RunContext, inventory: Inventory) -> dict[str, Any]:
    """Every inventoried module's scan, cached by content."""
    return cached_per_file(
        ctx.cache, TOOL, VERSION, ctx.sources, list(inventory.modules.values()),
        lambda miss: {f: scan(t) if (t := parse_file(ctx, f)) else {} for f in miss},
        default={},
    )  # fmt: skip
