"""Performance Impact: subjects whose cost grows with their input, each with a benchmark test.

An AST scan finds, per function and method: loops nested in loops, list membership, list
concatenation and ``remove``/``index``/``insert``/``pop(0)`` on lists inside loops, I/O inside
loops, and complex functions (complexity >= 10) that loop over a parameter. The benchmark times
the subject at n and 8n inputs built from how it uses them (a list of dicts with the keys it
reads, a dict, a count) and asserts the growth stays under 2.5x linear; a quadratic subject
fails it (kept as a finding). A subject whose inputs cannot be built safely gets a test that pins
the parameters a hand-written benchmark must scale.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any, ClassVar

from autocoder import __version__
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import cached_per_file, require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import (
    Inventory,
    Subject,
    build_inventory,
    importable,
)
from autocoder.workers.test_planning.perspectives._safe_calls import (
    call_args,
    call_facts,
    dotted,
    parse_file,
    unsafe_subjects,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, test_name

TOOL, VERSION = "autocoder-tp-performance_impact", f"{__version__}-1"
LOOPS = ast.For | ast.AsyncFor | ast.While
COMPREHENSIONS = ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
WRAPPERS = {"enumerate", "sorted", "reversed", "list", "tuple", "set", "iter", "zip", "len"}
IO_MODULES = {"requests", "httpx", "subprocess", "socket", "urllib", "sqlite3", "shutil"}
IO_CALLS = {"open", "urlopen", "sleep", "system", "execute", "executemany", "read_text",
            "write_text", "read_bytes", "write_bytes", "fetchone", "fetchall"}  # fmt: skip
SHIFTS = {"remove", "index", "insert", "count"}
COMPLEX = 10
HOW = {"items": "n items", "mapping": "a dict of n entries", "count": "the count n",
       "nested": "n items inside it"}  # fmt: skip
FACTOR, BOUND = 8, 20.0  # 8x the input; linear growth gives ~8x the time, quadratic ~64x


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


def element(annotation: str | None, keys: list[str]) -> str:
    """Source of the i-th item of a scaled input: a dict with the keys read, else by type."""
    if keys:
        return "{" + ", ".join(f"{k!r}: i" for k in keys) + "}"
    inner = (annotation or "").partition("[")[2].rstrip("]").split(",")[0].strip()
    return {"str": 'f"s{i}"', "float": "float(i)", "bytes": 'f"s{i}".encode()'}.get(inner, "i")


def scaled_input(how: str, annotation: str | None, keys: list[str]) -> str | None:
    """Source of a size-``n`` value for a parameter the subject loops over, or None."""
    item, base = element(annotation, keys), (annotation or "list").split("[")[0].rsplit(".")[-1]
    if how == "count":
        return "n"
    if how == "mapping" or base in ("dict", "Dict", "Mapping"):
        return f'{{f"k{{i}}": {item} for i in range(n)}}'
    if how == "items" and base == "str":
        return '"".join(chr(97 + i % 26) for i in range(n))'
    if how == "items" and base in ("set", "frozenset", "Set") and not keys:
        return f"{{{item} for i in range(n)}}"
    return f"[{item} for i in range(n)]" if how == "items" else None


def scaled_args(subject: Subject, facts: dict[str, Any]) -> str | None:
    """Source of the arguments of a size-``n`` call, or None when one cannot be built."""
    scaled: dict[str, str] = {}
    for param in subject.params:
        how = facts["scales"].get(param.name)
        source = scaled_input(how, param.annotation, facts["keys"]) if how else ""
        if source is None:
            return None
        scaled.update({param.name: source} if source else {})
    bound = subject.kind == "method" and "staticmethod" not in subject.decorators
    return call_args(subject, bound, scaled)


def _callee(subject: Subject, inventory: Inventory) -> str | None:
    if subject.kind == "function" or {"staticmethod", "classmethod"} & set(subject.decorators):
        return subject.qualname
    init = inventory.by_id.get(f"{subject.module}:{subject.owner}.__init__")
    args = call_args(init, True) if init else ""
    return None if args is None else f"{subject.owner}({args}).{subject.qualname.split('.')[1]}"


def benchmark_test(subject: Subject, callee: str, args: str, small: int) -> str:
    """Times the subject at ``small`` and 8x ``small`` inputs; fails on superlinear growth."""
    run = "asyncio.run(func(*args, **kwargs))" if subject.is_async else "func(*args, **kwargs)"
    body = f"""SMALL = {small}


def _capture(*args, **kwargs):
    return args, kwargs


def _inputs(n):
    return ({callee}, *_capture({args}))


def _seconds_per_call(n):
    best = float("inf")
    for _ in range(3):
        spent, calls = 0.0, 0
        while spent < 0.02 and calls < 200:
            func, args, kwargs = _inputs(n)
            started = time.perf_counter()
            {run}
            spent += time.perf_counter() - started
            calls += 1
        best = min(best, spent / calls)
    return best


def {test_name(subject, "cost_grows_at_most_linearithmically")}():
    ratio = _seconds_per_call({FACTOR} * SMALL) / _seconds_per_call(SMALL)
    assert ratio < {BOUND}, f"{FACTOR}x the input took {{ratio:.1f}}x the time"
"""
    imports = ["import asyncio"] if subject.is_async else []
    return render([*imports, "import time", import_line(subject)], body)


def pin_test(subject: Subject, scaled: list[str], why: str) -> str:
    """What a hand-written benchmark needs: the subject and the parameters it must scale."""
    head = f"def {test_name(subject, 'scaled_inputs_are_known')}():\n"
    head += f"    # write the benchmark by hand ({why}): time it at n and {FACTOR}n\n"
    signature = f"set(inspect.signature({subject.qualname}).parameters)"
    names = "{" + ", ".join(repr(name) for name in sorted(scaled)) + "}"
    check = f"    assert {names} <= {signature}\n" if scaled else (
        f"    assert callable({subject.qualname})\n")  # fmt: skip
    return render(["import inspect", import_line(subject)], head + check)


def _test(
    subject: Subject, facts: dict[str, Any], inventory: Inventory, unsafe: bool, small: int
) -> str:
    """The benchmark when its inputs can be built and running it is safe, else a pin test."""
    args, callee = scaled_args(subject, facts), _callee(subject, inventory)
    if unsafe or any(h["rule"] == "io-in-loop" for h in facts["hits"]):
        return pin_test(subject, list(facts["scales"]), "it reaches I/O: fake that first")
    if args is None or callee is None or not facts["scales"]:
        return pin_test(subject, list(facts["scales"]), "choose inputs its signature cannot give")
    return benchmark_test(subject, callee, args, small)


def _spec(subject: Subject, facts: dict[str, Any], inventory: Inventory, unsafe: bool) -> TestSpec:
    hits, scales = facts["hits"], facts["scales"]
    growth = "; ".join(f"{h['text']} (line {h['line']})" for h in hits) or (
        f"complexity {subject.complexity} with a loop over {', '.join(scales)}"
    )
    small = 10 if facts["depth"] >= 3 else 50  # 8x that stays quick even when cubic
    code = _test(subject, facts, inventory, unsafe, small)
    shape = ", ".join(f"{p} ({HOW[how]})" for p, how in scales.items()) or "none found"
    keys = f"; items hold the keys {', '.join(facts['keys'])}" if facts["keys"] else ""
    io = sorted({h["text"].split("(")[0].strip("`") for h in hits if h["rule"] == "io-in-loop"})
    timed = "perf_counter" in code
    return make_spec(
        perspective=PerformanceImpact.name, perspective_id=PerformanceImpact.id, subject=subject,
        kind="performance", key="growth", inventory=inventory, boost=3 if hits else 1,
        line=min((h["line"] for h in hits), default=subject.line),
        rationale=f"Cost grows with the input: {growth}.",
        inputs=f"{shape}{keys}" + (f", at n={small} and n={FACTOR * small}" if timed else ""),
        expected=(f"time at {FACTOR}n / time at n < {BOUND} (linear is ~{FACTOR}, quadratic "
                  f"~{FACTOR**2})" if timed else "a hand-written benchmark stays near-linear"),
        mocks=f"fake {', '.join(io)} with a counter (monkeypatch); assert calls per item"
        if io else "",
        test_code=code,
    )  # fmt: skip


class PerformanceImpact:
    id: ClassVar[str] = "performance_impact"
    name: ClassVar[str] = "Performance Impact"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        per_file = cached_per_file(
            ctx.cache, TOOL, VERSION, ctx.sources, list(inventory.modules.values()),
            lambda miss: {f: scan(t) if (t := parse_file(ctx, f)) else {} for f in miss},
            default={},
        )  # fmt: skip
        unsafe = unsafe_subjects(inventory, call_facts(ctx, inventory))
        functions = [s for s in inventory.subjects
                     if s.public and s.kind != "class" and importable(s.module)]  # fmt: skip
        flagged = [
            (s, f) for s in functions if (f := per_file[s.file].get(s.qualname))
            and (f["hits"] or (s.complexity >= COMPLEX and f["scales"]))
        ]  # fmt: skip
        specs = [_spec(s, f, inventory, s.id in unsafe) for s, f in flagged]
        rules: dict[str, int] = {}
        for _, f in flagged:
            for h in f["hits"]:
                rules[h["rule"]] = rules.get(h["rule"], 0) + 1
        timed = sum(1 for s in specs if "perf_counter" in s.test_code)
        metrics = {"functions_scanned": len(functions), "growing_subjects": len(flagged),
                   "by_rule": rules, "benchmarks": timed,
                   "hand_written": len(specs) - timed}  # fmt: skip
        details = {"subjects": [{"subject": s.id, "file": s.file, "rules": _rules(f)}
                                for s, f in flagged][:50]}  # fmt: skip
        return finish(ctx, specs, _summary(metrics, flagged), metrics, details)


def _summary(metrics: dict[str, Any], flagged: list[tuple[Subject, dict[str, Any]]]) -> str:
    if not flagged:
        return (f"None of {metrics['functions_scanned']} public functions and methods loops in a "
                "way that grows faster than its input: no benchmark to write.")  # fmt: skip
    worst = sorted(flagged, key=lambda pair: (-len(pair[1]["hits"]), pair[0].id))[:3]
    named = ", ".join(f"{s.id} ({', '.join(_rules(f))})" for s, f in worst)
    return (
        f"{metrics['growing_subjects']} of {metrics['functions_scanned']} public functions and "
        f"methods have a cost that grows with their input: {named}. {metrics['benchmarks']} get a "
        f"timing benchmark at n and {FACTOR}n (fails above {BOUND}x), "
        f"{metrics['hand_written']} need inputs chosen by hand."
    )


def _rules(facts: dict[str, Any]) -> list[str]:
    return sorted({h["rule"] for h in facts["hits"]}) or ["complex-loop"]
