"""Edge Case Discovery: the values at which a function's behaviour changes, and what it does there.

From the literal comparisons of its parameters (``if qty > 100`` gives 100 and 101, ``if qty <= 0``
gives 0, 1 and -1), ``len(text) > 12`` (strings of 12 and 13 characters), type hints and defaults
(None for optional parameters, empty and unicode strings, empty and huge collections, negative
numbers), plus a Hypothesis property over the typed inputs. Functions that reach the outside world
are left to Integration Points. Which value raises what is decided statically: the conditions on
the way to each ``raise`` evaluated with the test's arguments (:func:`._solve.solve`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import SpecKind, TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Param, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._boundaries import (
    callees,
    function_facts,
    resolved_call,
)
from autocoder.workers.test_planning.perspectives._calls import (
    base_type,
    call_code,
    callable_params,
    callable_subject,
    init_params,
    optional,
    ordered_imports,
    result_check,
    sample_value,
)
from autocoder.workers.test_planning.perspectives._facts import BOUNDARY_KINDS, Comparison, Facts
from autocoder.workers.test_planning.perspectives._fakes import IN_TMP
from autocoder.workers.test_planning.perspectives._solve import (
    exception_ref,
    literal,
    sample_literal,
    site_exception,
    solve,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import make_spec, render, slug, test_name


def outcome(
    subject: Subject, inventory: Inventory, facts: dict[str, Facts], param: str, value: Any
) -> tuple[str, set[str]] | None:
    """The exception ``subject`` raises with ``param=value`` and sample arguments elsewhere."""
    params = {p.name: p for p in subject.params}
    for site in sorted(facts[subject.id].sites, key=lambda s: s.line):
        sample = sample_literal(params.get(site.param or ""))[1]
        exc = site_exception(site, value if site.param == param else sample)
        ref = exception_ref(subject, inventory, exc) if exc else None
        if ref and solve(subject, inventory, facts, list(site.conds), {param: value}, False):
            return ref
    return None


UNICODE = "ünïcødé ✓ 日本"
# Text for Hypothesis from a fixed alphabet: no unicode tables to build (seconds) in the target.
ALPHABET_LINE = 'ALPHABET = string.printable + "éüßø✓€日本\\u00a0\\u200b"'
HUGE = 10_000
STRATEGIES = {"int": "st.integers(min_value=-(10**6), max_value=10**6)", "bool": "st.booleans()",
              "float": "st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)",
              "str": "st.text(alphabet=ALPHABET, max_size=30)",
              "bytes": "st.binary(max_size=30)"}  # fmt: skip
WORDS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le", "==": "eq", "!=": "ne"}
PARSE_ERRORS = {
    "json.": ("json.JSONDecodeError", "import json"),
    "yaml.": ("yaml.YAMLError", 'yaml = pytest.importorskip("yaml")'),
    "pickle.": ("pickle.UnpicklingError", "import pickle"),
    "tomllib.": ("tomllib.TOMLDecodeError", "import tomllib"),
}
PROCESS = {"parse_args", "input", "exit", "getpass"}  # reads the command line or the terminal
SINKS = {"eval", "exec", "loads", "load", "unsafe_load", "system", "Popen", "run", "call"}
Value = tuple[str, Any]  # (source text, Python value)


def _steps(op: str, value: float, step: float) -> list[float]:
    """The literal and its neighbour on the other side of the comparison (both for ==, !=)."""
    above, below = [value, value + step], [value - step, value]
    return {">": above, "<=": above, "<": below, ">=": below}.get(op, [value - step, *above])


def comparison_values(c: Comparison, param: Param) -> list[Value]:
    """``qty > 100`` -> 100, 101; ``qty <= 0`` -> 0, 1, -1; ``len(s) > 12`` -> 12 and 13 chars."""
    value = literal(c.value)[1]
    if c.length:
        many = base_type(param.annotation) in ("list", "List", "Sequence", "tuple")
        return [
            (f"[0] * {n}", [0] * n) if many else (f'"x" * {n}', "x" * n)
            for n in (int(v) for v in _steps(c.op, value, 1))
            if n >= 0
        ]
    if isinstance(value, str):
        other = value.swapcase() if value.swapcase() != value else f"{value}x"
        return [(repr(v), v) for v in dict.fromkeys([value, other, ""])]
    steps = _steps(c.op, value, 1 if isinstance(value, int) else 0.5)
    steps += [-1] if value == 0 and -1 not in steps else []
    return [(repr(v), v) for v in steps]


def _collection(annotation: str | None) -> tuple[Value, Value] | None:
    """The empty and the huge (10 000 items) value of a collection type hint."""
    base, inner = base_type(annotation) or "", (annotation or "").partition("[")[2]
    if base in ("dict", "Dict", "Mapping"):
        huge = {f"key-{i}": i for i in range(HUGE)}
        return ("{}", {}), (f'{{f"key-{{i}}": i for i in range({HUGE})}}', huge)
    if base not in ("list", "List", "Sequence", "Iterable", "tuple", "set"):
        return None
    strings = inner.startswith("str")
    items: list[Any] = [f"item-{i}" for i in range(HUGE)] if strings else list(range(HUGE))
    source = f'[f"item-{{i}}" for i in range({HUGE})]' if strings else f"list(range({HUGE}))"
    if base in ("tuple", "set"):
        kind = tuple if base == "tuple" else set
        return (f"{base}()", kind()), (f"{base}({source})", kind(items))
    return ("[]", []), (source, items)


def type_edges(param: Param, compared: bool) -> list[tuple[str, str, list[Value]]]:
    """(key, what, values) from the type hint and default: None, strings, collections, negatives."""
    base, out = base_type(param.annotation), list[tuple[str, str, list[Value]]]()
    if optional(param.annotation) or param.default == "None":
        out.append(("none", "None", [("None", None)]))
    if base == "str":
        out.append(("strings", "empty and unicode strings", [(repr(s), s) for s in ("", UNICODE)]))
    if (values := _collection(param.annotation)) is not None:
        out.append(("collections", "empty and huge collections", list(values)))
    if base in ("int", "float") and not compared:
        negative: Value = ("-1", -1) if base == "int" else ("-1.5", -1.5)
        out.append(("negative", "a negative number", [negative]))
    return out


def callee_exceptions(
    subject: Subject, inventory: Inventory, facts: dict[str, Facts]
) -> tuple[list[str], set[str]]:
    """What the parsers and the target's functions ``subject`` calls raise."""
    refs, imports = dict[str, None](), set[str]()
    for b in facts[subject.id].boundaries:
        for prefix, (exc, needed) in PARSE_ERRORS.items():
            if b.call.startswith(prefix):
                refs[exc] = None
                imports.add(needed)
    for callee in (c for c in callees(inventory, subject.id, facts[subject.id]) if c.id in facts):
        for site in facts[callee.id].sites:
            raised = site_exception(site, "")
            if raised and (ref := exception_ref(callee, inventory, raised)):
                refs[ref[0]] = None
                imports |= ref[1]
    return list(refs), imports


def _call_block(call: str, check: str, allowed: list[str], indent: str = "    ") -> str:
    lines = [f"result = {call}", check] if check else [call]
    if allowed:
        lines = [
            "try:",
            f"    {lines[0]}",
            f"except ({', '.join(allowed)},):",
            "    return  # a failure the code documents",
            *lines[1:],
        ]
    return "".join(f"{indent}{line}\n" for line in lines)


def edge_test(
    subject: Subject,
    inventory: Inventory,
    facts: dict[str, Facts],
    param: str,
    what: str,
    values: list[Value],
) -> tuple[str, dict[str, list[str]]]:
    """One test trying every value of ``param``, and which values raise what."""
    call, imports = call_code(subject, inventory, {param: param})
    groups: dict[str, list[str]] = {}
    for source, value in values:
        ref = outcome(subject, inventory, facts, param, value)
        imports |= ref[1] if ref else set()
        groups.setdefault(ref[0] if ref else "", []).append(source)
    allowed, more = callee_exceptions(subject, inventory, facts) if "" in groups else ([], set())
    body = f"def {test_name(subject, what)}(monkeypatch, tmp_path):\n    {IN_TMP}\n"
    for exc, sources in groups.items():
        body += f"    for {param} in ({', '.join(sources)},):\n"
        if exc:
            body += f"        with pytest.raises({exc}):\n            {call}\n"
        else:
            block = _call_block(call, result_check(subject), allowed, " " * 8)
            body += block.replace("return  #", "continue  #")
    return render(ordered_imports({*imports, *more, "import pytest"}), body), groups


def _strategy(param: Param) -> str | None:
    annotation, base = param.annotation or "", base_type(param.annotation) or ""
    inner = annotation.partition("[")[2].rstrip("]")
    strategy = STRATEGIES.get(base)
    if base in ("list", "List", "Sequence") and base_type(inner) in STRATEGIES:
        strategy = f"st.lists({STRATEGIES[base_type(inner) or '']}, max_size=20)"
    return f"st.none() | {strategy}" if strategy and optional(annotation) else strategy


def allowed_exceptions(
    subject: Subject, inventory: Inventory, facts: dict[str, Facts]
) -> tuple[list[str], set[str]]:
    """What ``subject`` may raise by design: its own raises and those of what it calls."""
    own = [site_exception(s, "") for s in facts[subject.id].sites]
    refs = [r for e in own if e and (r := exception_ref(subject, inventory, e))]
    callee, imports = callee_exceptions(subject, inventory, facts)
    return list(dict.fromkeys([r[0] for r in refs] + callee)), imports.union(*(r[1] for r in refs))


def property_test(subject: Subject, inventory: Inventory, facts: dict[str, Facts]) -> str | None:
    """A Hypothesis test: for any typed input, only the known exceptions, and the annotated type.
    Hypothesis is imported inside the test, which is skipped where it is not installed."""
    params = [p for p in callable_params(subject) if not p.kind.startswith("var_")]
    given = {p.name: s for p in params if (s := _strategy(p))}
    required = all(p.name in given for p in params if p.default is None)
    check = result_check(subject)
    if not (check and given and required):
        return None
    owner = inventory.by_id.get(f"{subject.module}:{subject.owner}")
    method = subject.kind == "method" and not subject.qualname.endswith(".__init__")
    init = {
        p.name: s
        for p in (init_params(owner, inventory) if owner and method else ())
        if (s := _strategy(p))
    }
    call, imports = call_code(
        subject, inventory, {k: k for k in given}, {k: f"init_{k}" for k in init}
    )
    given |= {f"init_{k}": v for k, v in init.items()}
    allowed, more = allowed_exceptions(subject, inventory, facts)
    strategies = ", ".join(f"{k}={v}" for k, v in given.items())
    body = (
        f"{ALPHABET_LINE}\n\n\ndef {test_name(subject, 'holds_for_any_typed_input')}"
        f"(monkeypatch, tmp_path):\n    {IN_TMP}\n"
        '    pytest.importorskip("hypothesis")\n'
        "    from hypothesis import given, settings, strategies as st\n\n"
        f"    @settings(max_examples=50, deadline=None, database=None)\n    @given({strategies})\n"
        f"    def check({', '.join(given)}):\n{_call_block(call, check, allowed, ' ' * 8)}\n"
        "    check()\n"
    )
    return render(ordered_imports({*imports, *more, "import pytest", "import string"}), body)


def reaching_outside(facts: dict[str, Facts]) -> set[str]:
    """Subjects that touch the outside world, themselves or through the functions they call."""
    touching = {
        sid for sid, f in facts.items() if any(b.kind in BOUNDARY_KINDS for b in f.boundaries)
    }
    calls = {
        sid: {n for t in f.targets if t for n in resolved_call(sid, t)} for sid, f in facts.items()
    }
    while True:
        dotted = {sid.replace(":", ".") for sid in touching}
        more = {sid for sid, targets in calls.items() if targets & dotted} - touching
        if not more:
            return touching
        touching |= more


def plain(subject: Subject, inventory: Inventory) -> bool:
    """Every argument a test must pass has a plain sample value (no mock of unknown type)."""
    owner = inventory.by_id.get(f"{subject.module}:{subject.owner}")
    needed = [
        *callable_params(subject),
        *(init_params(owner, inventory) if owner and subject.kind == "method" else ()),
    ]
    return all(
        "MagicMock" not in sample_value(p, inventory)[0]
        for p in needed
        if p.default is None and not p.kind.startswith("var_")
    )


class _Edges:
    def __init__(self, inventory: Inventory, facts: dict[str, Facts]) -> None:
        self.inventory, self.facts = inventory, facts

    def spec(
        self,
        subject: Subject,
        param: str,
        key: str,
        what: str,
        values: list[Value],
        line: int,
        why: str,
    ) -> TestSpec:
        code, groups = edge_test(subject, self.inventory, self.facts, param, slug(what, 50), values)
        expected = "; ".join(
            f"{', '.join(v)}: {f'raise {e}' if e else 'return'}" for e, v in groups.items()
        )
        inputs = f"{param} in [{', '.join(v for v, _ in values)}]"
        return self.make(subject, "unit", key, why, inputs, expected, code, line)

    def make(
        self,
        subject: Subject,
        kind: SpecKind,
        key: str,
        why: str,
        inputs: str,
        expected: str,
        code: str,
        line: int | None = None,
    ) -> TestSpec:
        return make_spec(
            perspective=EdgeCaseDiscovery.name,
            perspective_id=EdgeCaseDiscovery.id,
            subject=subject,
            kind=kind,
            key=key,
            rationale=why,
            inputs=inputs,
            expected=expected,
            test_code=code,
            inventory=self.inventory,
            line=line,
        )

    def comparisons(self, subject: Subject, params: dict[str, Param]) -> list[TestSpec]:
        found = [c for c in self.facts[subject.id].comparisons if c.param in params]
        out = []
        for c in {(c.param, c.op, c.value, c.length): c for c in found}.values():
            text = f"{f'len({c.param})' if c.length else c.param} {c.op} {c.value}"
            values = comparison_values(c, params[c.param])
            sides = " and ".join(v for v, _ in values)
            why = f"`{text}` at {subject.file}:{c.line}: the behaviour changes between {sides}."
            words = f"{c.param}_{'len_' if c.length else ''}{WORDS[c.op]}_{c.value}"
            out.append(self.spec(subject, c.param, f"compare:{text}", words, values, c.line, why))
        return out

    def of(self, subject: Subject) -> list[TestSpec]:
        params = {p.name: p for p in callable_params(subject) if not p.kind.startswith("var_")}
        out = self.comparisons(subject, params)
        compared = {c.param for c in self.facts[subject.id].comparisons}
        for name, p in params.items():
            for key, what, values in type_edges(p, name in compared):
                hint = f"{p.annotation or 'no hint'}{f' = {p.default}' if p.default else ''}"
                why = f"{name}: {hint} admits {what}."
                line = subject.line
                out.append(
                    self.spec(subject, name, f"{key}:{name}", f"{name}_{key}", values, line, why)
                )
        code = property_test(subject, self.inventory, self.facts)
        if code is not None and not SINKS & set(self.facts[subject.id].calls):
            why = f"The parameters of {subject.qualname} are typed: Hypothesis explores the edges."
            expected = "only the exceptions the code raises; a result of the annotated type"
            out.append(
                self.make(
                    subject,
                    "property",
                    "property:typed-inputs",
                    why,
                    "Hypothesis strategies from the type hints",
                    expected,
                    code,
                )
            )
        return out


def _subjects(inventory: Inventory, facts: dict[str, Facts], outside: set[str]) -> list[Subject]:
    """Functions a test can call with plain values and without touching the outside world."""
    return [
        s
        for s in inventory.subjects
        if s.id in facts
        and s.id not in outside
        and callable_subject(s)
        and plain(s, inventory)
        and not PROCESS & set(facts[s.id].calls)
    ]


class EdgeCaseDiscovery:
    id: ClassVar[str] = "edge_cases"
    name: ClassVar[str] = "Edge Case Discovery"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        facts = function_facts(ctx, inventory)
        outside = reaching_outside(facts)
        subjects = _subjects(inventory, facts, outside)
        edges = _Edges(inventory, facts)
        specs = {s.id: s for subject in subjects for s in edges.of(subject)}
        properties = sum(1 for s in specs.values() if s.kind == "property")
        compares = sum(1 for s in specs.values() if "` at " in s.rationale)
        functions = len({s.subject for s in specs.values()})
        summary = (
            f"{len(specs)} edge cases in {functions} functions: {compares} from literal "
            f"comparisons, {properties} Hypothesis properties, the rest from type hints and "
            f"defaults; {len(outside)} functions reaching the outside are left to Integration "
            "Points."
            if specs
            else f"No comparisons or typed parameters to take to their edges in {len(subjects)} "
            "functions callable with plain values."
        )
        metrics = {
            "edge_cases": len(specs),
            "from_comparisons": compares,
            "properties": properties,
            "functions_examined": len(subjects),
            "reaching_outside": len(outside),
        }
        return finish(ctx, list(specs.values()), summary, metrics)
