"""Test Coverage Strategy: untested modules and functions ranked by risk, in the order to test.

A subject is untested when no test names it (:meth:`Inventory.tested`), a module when no test
imports it. The write order names, per subject, the inputs its test must choose and what makes
it hard to call (I/O, processes, network, eval, pickle, an explicit ``raise``, directly or
through the target's own functions). It writes no tests itself: a starter that only checks the
subject is callable, or that its result has the annotated type, passes on broken code; the
other perspectives write tests of behaviour (values, raised exceptions, round-trips).
"""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
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
from autocoder.workers.test_planning.specs import risk_score

TOOL, VERSION, CAP = "autocoder-tp-coverage_strategy", f"{__version__}-1", 50
TRANSPARENT = {"staticmethod", "classmethod", "functools.cache", "cache", "functools.lru_cache"}


class Planner:
    """Says, per subject, what makes it hard to call from a test (None: plain values will do)."""

    def __init__(self, inventory: Inventory, facts: dict[str, dict[str, Any]]) -> None:
        self.inventory, self.facts = inventory, facts
        self.unsafe = unsafe_subjects(inventory, facts)

    def why_not_called(self, subject: Subject) -> str | None:
        """None when a test may call ``subject`` with plain values, else what it must build."""
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


def untested_modules(inventory: Inventory) -> list[str]:
    """Modules no test imports (itself, or a name from it that is not a submodule)."""
    imported = {i for f, found in inventory.imports.items() if is_test_file(f) for i in found}
    names = {i.rsplit(".", 1)[0] for i in imported if i not in inventory.modules}
    return sorted(set(inventory.modules) - imported - names)


def _entry(rank: int, subject: Subject, planner: Planner) -> dict[str, Any]:
    """One subject of the write order: where it is, its risk, and what its test must build."""
    inventory = planner.inventory
    return {"rank": rank, "subject": subject.id, "risk": risk_score(subject, inventory),
            "file": subject.file, "line": subject.line,
            "inputs": [p.name for p in subject.params if p.name not in ("self", "cls")],
            "hard_to_call": planner.why_not_called(subject) or ""}  # fmt: skip


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
        modules = untested_modules(inventory)
        metrics = {"public_subjects": len(public), "untested_subjects": len(ranked),
                   "modules": len(inventory.modules), "untested_modules": len(modules)}  # fmt: skip
        details = {
            "write_order": [_entry(n, s, planner) for n, s in enumerate(ranked[:CAP], 1)],
            "untested_modules": _module_order(modules, ranked, inventory),
        }  # fmt: skip
        return finish(ctx, [], _summary(metrics, ranked, inventory), metrics, details)


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
                f"test; {metrics['untested_modules']} modules are imported by none.")  # fmt: skip
    first = ", ".join(f"{s.id} (risk {risk_score(s, inventory)})" for s in ranked[:3])
    return (
        f"{metrics['untested_subjects']} of {metrics['public_subjects']} public subjects are named "
        f"by no test, and {metrics['untested_modules']} of {metrics['modules']} modules are "
        f"imported by none. Write tests in this order: {first} (the write order names the "
        "inputs each test must choose)."
    )
