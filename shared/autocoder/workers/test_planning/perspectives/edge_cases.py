"""Edge Case Discovery: the values at which a function's behaviour changes, and what it does there.

From the literal comparisons of its parameters (``if qty > 100`` gives 100 and 101, ``if qty <= 0``
gives 0, 1 and -1), ``len(text) > 12`` (strings of 12 and 13 characters), type hints and defaults
(None for optional parameters, empty and unicode strings, empty and huge collections, negative
numbers), plus a Hypothesis property over the typed inputs. Functions that reach the outside world
are left to Integration Points. Which value raises what is decided statically: the conditions on
the way to each ``raise`` evaluated with the test's arguments (:func:`._solve.solve`).
"""

from __future__ import annotations

from typing import ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import SpecKind, TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Param, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._boundaries import function_facts, resolved_call
from autocoder.workers.test_planning.perspectives._calls import (
    callable_params,
    callable_subject,
    init_params,
    sample_value,
    unbuildable_entry,
)
from autocoder.workers.test_planning.perspectives._edge_tests import edge_test, property_test
from autocoder.workers.test_planning.perspectives._edge_values import (
    Value,
    comparison_values,
    type_edges,
)
from autocoder.workers.test_planning.perspectives._facts import BOUNDARY_KINDS, Facts
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import make_spec, slug

WORDS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le", "==": "eq", "!=": "ne"}
PROCESS = {"parse_args", "input", "exit", "getpass"}  # reads the command line or the terminal
SINKS = {"eval", "exec", "loads", "load", "unsafe_load", "system", "Popen", "run", "call"}


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
    ) -> TestSpec | None:
        made = edge_test(subject, self.inventory, self.facts, param, slug(what, 50), values)
        if made is None:
            return None
        code, groups = made
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

    def comparisons(self, subject: Subject, params: dict[str, Param]) -> list[TestSpec | None]:
        found = [c for c in self.facts[subject.id].comparisons if c.param in params]
        out: list[TestSpec | None] = []
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
        return [s for s in out if s is not None]  # None: every value returns, nothing to pin


def _subjects(inventory: Inventory, facts: dict[str, Facts], outside: set[str]) -> list[Subject]:
    """Functions a test can call with plain values and without touching the outside world."""
    return [
        s
        for s in inventory.subjects
        if s.id in facts
        and s.id not in outside
        and callable_subject(s, inventory)
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
        return finish(
            ctx, list(specs.values()), summary, metrics, skipped=unbuildable_entry(inventory)
        )
