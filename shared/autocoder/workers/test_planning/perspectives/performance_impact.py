"""Performance Impact: subjects whose cost grows with their input, each with a benchmark test.

An AST scan (:mod:`._cost_scan`) finds, per function and method: loops nested in loops, list
membership, list concatenation and ``remove``/``index``/``insert``/``pop(0)`` on lists inside
loops, I/O inside loops, and complex functions (complexity >= 10) that loop over a parameter. The
benchmark times the subject at n and 8n inputs built from how it uses them (a list of dicts with
the keys it reads, a dict, a count) and asserts the growth stays under 2.5x linear; a quadratic
subject fails it (kept as a finding). A subject whose inputs cannot be built safely gets no test
(one pinning its parameters would pass on quadratic code): the details list it for a benchmark
written by hand.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import (
    Inventory,
    Subject,
    build_inventory,
    importable,
)
from autocoder.workers.test_planning.perspectives._cost_scan import file_facts
from autocoder.workers.test_planning.perspectives._safe_calls import (
    call_args,
    call_facts,
    unsafe_subjects,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, test_name

COMPLEX = 10
HOW = {"items": "n items", "mapping": "a dict of n entries", "count": "the count n",
       "nested": "n items inside it"}  # fmt: skip
FACTOR, BOUND = 8, 20.0  # 8x the input; linear growth gives ~8x the time, quadratic ~64x


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


def _test(
    subject: Subject, facts: dict[str, Any], inventory: Inventory, unsafe: bool, small: int
) -> str | None:
    """The benchmark when its inputs can be built and running it is safe, else None (a test
    that only checks the parameters exist would pass on quadratic code: the subject is listed
    in the details, its benchmark left to a hand-written test)."""
    args, callee = scaled_args(subject, facts), _callee(subject, inventory)
    if unsafe or any(h["rule"] == "io-in-loop" for h in facts["hits"]):
        return None
    if args is None or callee is None or not facts["scales"]:
        return None
    return benchmark_test(subject, callee, args, small)


def _spec(
    subject: Subject, facts: dict[str, Any], inventory: Inventory, unsafe: bool
) -> TestSpec | None:
    hits, scales = facts["hits"], facts["scales"]
    growth = "; ".join(f"{h['text']} (line {h['line']})" for h in hits) or (
        f"complexity {subject.complexity} with a loop over {', '.join(scales)}"
    )
    small = 10 if facts["depth"] >= 3 else 50  # 8x that stays quick even when cubic
    code = _test(subject, facts, inventory, unsafe, small)
    if code is None:
        return None
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
        per_file = file_facts(ctx, inventory)
        unsafe = unsafe_subjects(inventory, call_facts(ctx, inventory))
        functions = [s for s in inventory.subjects
                     if s.public and s.kind != "class" and importable(s.module)]  # fmt: skip
        flagged = [
            (s, f) for s in functions if (f := per_file[s.file].get(s.qualname))
            and (f["hits"] or (s.complexity >= COMPLEX and f["scales"]))
        ]  # fmt: skip
        made = [_spec(s, f, inventory, s.id in unsafe) for s, f in flagged]
        specs = [s for s in made if s is not None]
        rules: dict[str, int] = {}
        for _, f in flagged:
            for h in f["hits"]:
                rules[h["rule"]] = rules.get(h["rule"], 0) + 1
        timed = sum(1 for s in specs if "perf_counter" in s.test_code)
        metrics = {"functions_scanned": len(functions), "growing_subjects": len(flagged),
                   "by_rule": rules, "benchmarks": timed,
                   "hand_written": len(flagged) - timed}  # fmt: skip
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
        f"{metrics['hand_written']} need inputs chosen by hand (no test written)."
    )


def _rules(facts: dict[str, Any]) -> list[str]:
    return sorted({h["rule"] for h in facts["hits"]}) or ["complex-loop"]
