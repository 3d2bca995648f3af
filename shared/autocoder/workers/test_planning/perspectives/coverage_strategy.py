"""Test Coverage Strategy: untested modules and functions ranked by risk, in the order to test.

A subject is untested when no test names it (:meth:`Inventory.tested`), a module when no test
imports it. Each untested public subject among the riskiest gets a starter test that calls it
with values from its type hints and defaults when that is safe (no I/O, processes, network, eval,
pickle or explicit ``raise``, directly or through the target's own functions), and otherwise pins
that it is callable with the inputs a hand-written test has to choose.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.codegen import comment
from autocoder.workers.test_planning.inventory import (
    Inventory,
    Subject,
    build_inventory,
    importable,
)
from autocoder.workers.test_planning.perspectives._safe_calls import (
    call_args,
    call_facts,
    unsafe_call,
    unsafe_subjects,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, risk_score
from autocoder.workers.test_planning.specs import test_name as name_of_test

TOOL, VERSION, CAP = "autocoder-tp-coverage_strategy", f"{__version__}-1", 50
RESULT_TYPES = {"int", "str", "bool", "bytes", "list", "dict", "tuple", "set", "frozenset"}
TRANSPARENT = {"staticmethod", "classmethod", "functools.cache", "cache", "functools.lru_cache"}


def type_import(name: str, subject: Subject, inventory: Inventory) -> str | None:
    """The import line that makes ``name`` (from an annotation of ``subject``) usable in a test."""
    imports = inventory.imports.get(subject.file, [])
    if "." in name:
        module = name.rsplit(".", 1)[0]
        return f"import {module}" if module in imports else None
    if f"{subject.module}:{name}" in inventory.by_id:
        return f"from {subject.module} import {name}"
    found = [i for i in imports if i.endswith(f".{name}")]
    return f"from {found[0].rsplit('.', 1)[0]} import {name}" if found else None


def result_check(subject: Subject, inventory: Inventory) -> tuple[list[str], str]:
    """Imports and an ``isinstance`` assertion from the return annotation ("" when unusable)."""
    types: list[str] = []
    imports: list[str] = []
    for option in (o.strip() for o in (subject.returns or "").strip("'\"").split("|")):
        base = option.split("[")[0]
        line = type_import(base, subject, inventory) if base not in RESULT_TYPES else None
        if base in ("", "Any", "object") or (
            base not in (*RESULT_TYPES, "None", "float") and not line
        ):
            return [], ""
        imports += [line] if line else []
        types += {"None": ["type(None)"], "float": ["int", "float"]}.get(base, [base])
    return imports, f"    assert isinstance(result, ({', '.join(dict.fromkeys(types))},))\n"


class Planner:
    """Decides, per subject, whether a starter test may call it, and writes that test."""

    def __init__(self, inventory: Inventory, facts: dict[str, dict[str, Any]]) -> None:
        self.inventory, self.facts = inventory, facts
        self.unsafe = unsafe_subjects(inventory, facts)

    def why_not_called(self, subject: Subject) -> str | None:
        """None when a starter test may call ``subject``, else the reason it may not."""
        reason = self._why_not_callable(subject)
        if reason is None and subject.kind != "function" and not self._unbound(subject):
            return self._why_not_constructed(subject)
        return reason

    def _why_not_callable(self, subject: Subject) -> str | None:
        facts = self.facts.get(subject.id, {"calls": [], "raises": []})
        direct = [c for c in facts["calls"] if unsafe_call(c)]
        indexed = [p.name for p in subject.params if p.name in facts.get("indexed", [])]
        reasons = [
            (facts.get("forever"), "loops forever (while True)"),
            (subject.id in self.unsafe,
             f"reaches {', '.join(direct) or 'the outside through the functions it calls'}"),
            (facts["raises"], f"raises {', '.join(facts['raises'])}: test both paths"),
            (indexed, f"indexes {', '.join(indexed)}: choose inputs that hold what it looks up"),
            (not set(subject.decorators) <= TRANSPARENT,
             f"decorated with {', '.join(subject.decorators)}"),
            (subject.kind != "class" and self._args(subject) is None,
             "needs inputs its type hints and literal defaults do not give"),
        ]  # fmt: skip
        return next((why for applies, why in reasons if applies), None)

    def _why_not_constructed(self, subject: Subject) -> str | None:
        init = self.inventory.by_id.get(f"{subject.module}:{subject.owner}.__init__")
        if init is not None:
            why = self._why_not_callable(init)
            return f"constructing {subject.owner}: {why}" if why else None
        owner = self.facts.get(f"{subject.module}:{subject.owner}", {"bases": ["?"]})
        plain = all(b == "object" or b.endswith(("Error", "Exception")) for b in owner["bases"])
        decorated = self.inventory.by_id[f"{subject.module}:{subject.owner}"].decorators
        return None if plain and not decorated else f"constructing {subject.owner}: unknown"

    @staticmethod
    def _unbound(subject: Subject) -> bool:
        return bool({"staticmethod", "classmethod"} & set(subject.decorators))

    def _args(self, subject: Subject) -> str | None:
        return call_args(
            subject, subject.kind == "method" and "staticmethod" not in subject.decorators
        )

    def _call(self, subject: Subject) -> str:
        init = self.inventory.by_id.get(f"{subject.module}:{subject.owner}.__init__")
        construct = f"{subject.owner}({self._args(init) if init else ''})"
        if subject.kind == "class":
            return construct
        if subject.kind == "function":
            return f"{subject.qualname}({self._args(subject)})"
        on = subject.owner if self._unbound(subject) else construct
        return f"{on}.{subject.qualname.split('.')[-1]}({self._args(subject)})"

    def call_test(self, subject: Subject) -> str:
        """A test that calls ``subject`` (only when :meth:`why_not_called` is None)."""
        imports, check = result_check(subject, self.inventory)
        if subject.kind == "class":
            imports, check = [], f"    assert isinstance(result, {subject.owner})\n"
        call = self._call(subject)
        if subject.is_async:
            imports, call = ["import asyncio", *imports], f"asyncio.run({call})"
        body = f"    result = {call}\n{check}" if check else (
            f"    {call}  # runs without raising on these inputs\n")  # fmt: skip
        head = f"def {name_of_test(subject, 'starter')}():\n"
        return render([*imports, import_line(subject)], head + body)


def pin_test(subject: Subject, why: str) -> str:
    """A test that pins what a hand-written test needs: the subject and the inputs to choose."""
    bound = "classmethod" in subject.decorators  # the class is bound: no ``cls`` in the signature
    params, target = [p.name for p in subject.params[1 if bound else 0 :]], subject.qualname
    head = f"def {name_of_test(subject, 'is_callable_with_its_inputs')}():\n"
    inputs = ", ".join(params) or "none"
    head += f"    {comment(f'not called here ({why[:120]}); choose inputs for: {inputs}')}\n"
    body = f"    assert inspect.isclass({target})\n" if subject.kind == "class" else (
        f"    assert callable({target})\n"
        f"    assert list(inspect.signature({target}).parameters) == {params!r}\n")  # fmt: skip
    return render(["import inspect", import_line(subject)], head + body)


def untested_modules(inventory: Inventory) -> list[str]:
    """Modules no test imports (itself, or a name from it that is not a submodule)."""
    imported = {i for f, found in inventory.imports.items() if is_test_file(f) for i in found}
    names = {i.rsplit(".", 1)[0] for i in imported if i not in inventory.modules}
    return sorted(set(inventory.modules) - imported - names)


def _spec(subject: Subject, rank: int, planner: Planner) -> TestSpec:
    inventory, why = planner.inventory, planner.why_not_called(subject)
    how = ("a starter that calls it with values from its type hints and defaults"
           if why is None else f"a starter that pins its inputs (not called: {why})")  # fmt: skip
    returns = f" and returns {subject.returns}" if subject.returns else ""
    return make_spec(
        perspective=TestCoverageStrategy.name, perspective_id=TestCoverageStrategy.id,
        subject=subject, kind="unit", key="starter", inventory=inventory,
        rationale=(f"Untested #{rank} by risk ({risk_score(subject, inventory)}: complexity "
                   f"{subject.complexity}, imported by {inventory.fan_in(subject.module)} files, "
                   f"no test names it); {how}."),
        inputs=", ".join(p.name + (f": {p.annotation}" if p.annotation else "")
                         + (f" = {p.default}" if p.default else "") for p in subject.params)
        or "none",
        expected=(f"{subject.qualname} runs on the derived inputs{returns}" if why is None else
                  f"{subject.qualname} exists with these parameters; replace with a call on "
                  "chosen inputs and an assertion of its expected result"),
        test_code=planner.call_test(subject) if why is None else pin_test(subject, why),
    )  # fmt: skip


class TestCoverageStrategy:
    __test__ = False
    id: ClassVar[str] = "coverage_strategy"
    name: ClassVar[str] = "Test Coverage Strategy"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        planner = Planner(inventory, call_facts(ctx, inventory))
        public = [s for s in inventory.subjects if s.public and importable(s.module)]
        ranked = sorted((s for s in public if not inventory.tested(s)),
                        key=lambda s: (-risk_score(s, inventory), s.id))  # fmt: skip
        specs = [_spec(s, rank, planner) for rank, s in enumerate(ranked[:CAP], 1)]
        modules = untested_modules(inventory)
        called = sum(1 for s in ranked[:CAP] if planner.why_not_called(s) is None)
        metrics = {"public_subjects": len(public), "untested_subjects": len(ranked),
                   "modules": len(inventory.modules), "untested_modules": len(modules),
                   "starters_calling": called, "starters_pinning": len(specs) - called}  # fmt: skip
        details = {
            "write_order": [{"rank": n, "subject": s.id, "risk": risk_score(s, inventory),
                             "file": s.file, "line": s.line}
                            for n, s in enumerate(ranked[:100], 1)],
            "untested_modules": _module_order(modules, ranked, inventory),
        }  # fmt: skip
        return finish(ctx, specs, _summary(metrics, ranked, inventory), metrics, details)


def _module_order(
    modules: list[str], ranked: list[Subject], inventory: Inventory
) -> list[dict[str, Any]]:
    """Untested modules, riskiest first: by their riskiest untested subject, then their count."""
    risks: dict[str, list[int]] = {m: [] for m in modules}
    for s in ranked:
        risks.get(s.module, []).append(risk_score(s, inventory))
    order = sorted(modules, key=lambda m: (-max(risks[m], default=0), -len(risks[m]), m))
    return [{"module": m, "file": inventory.modules[m], "untested_subjects": len(risks[m]),
             "max_risk": max(risks[m], default=0)} for m in order]  # fmt: skip


def _summary(metrics: dict[str, Any], ranked: list[Subject], inventory: Inventory) -> str:
    if not ranked:
        return (f"Every one of the {metrics['public_subjects']} public subjects is named by a "
                f"test; {metrics['untested_modules']} modules are imported by none. No starter "
                "tests to write.")  # fmt: skip
    first = ", ".join(f"{s.id} (risk {risk_score(s, inventory)})" for s in ranked[:3])
    return (
        f"{metrics['untested_subjects']} of {metrics['public_subjects']} public subjects are named "
        f"by no test, and {metrics['untested_modules']} of {metrics['modules']} modules are "
        f"imported by none. Write tests in this order: {first}. Of the starter tests, "
        f"{metrics['starters_calling']} call their subject with values from type hints and "
        f"defaults, {metrics['starters_pinning']} pin the inputs a test must choose."
    )
