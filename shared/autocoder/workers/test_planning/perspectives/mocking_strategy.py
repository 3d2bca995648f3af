"""Mocking Strategy: per function with integration points, what to fake, how, what stays real.

Each boundary found by :mod:`._boundaries` gets the lightest fake that keeps the rest real: files in
``tmp_path`` (a hardcoded path gets ``mock.mock_open``), environment variables with
``monkeypatch.setenv``, SQLite in memory, a fixed clock, a seeded ``random``, HTTP through
``responses`` (requests) or ``respx`` (httpx); anything else (subprocesses, other clients) is
replaced in the module by a ``MagicMock`` whose calls the test checks. The generated test wraps
the real function in all of its fakes and asserts what they make observable.
The fakes of each test are planned by :mod:`._mock_plans`.
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._boundaries import (
    function_facts,
    reaching_conditions,
)
from autocoder.workers.test_planning.perspectives._calls import (
    call_code,
    ordered_imports,
    result_check,
    unbuildable_entry,
)
from autocoder.workers.test_planning.perspectives._facts import Boundary, Conds, Facts
from autocoder.workers.test_planning.perspectives._fakes import IN_TMP, integration_points
from autocoder.workers.test_planning.perspectives._mock_plans import Plan, plan_for
from autocoder.workers.test_planning.perspectives._solve import solve_arguments
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import make_spec, render, test_name


def _test(subject: Subject, inventory: Inventory, plan: Plan) -> str:
    call, imports = call_code(subject, inventory, plan.args, plan.init_args)
    checks = list(dict.fromkeys([*plan.checks, result_check(subject)]))
    checks = [c for c in checks if c]
    if plan.reproducible and subject.returns != "None":
        checks += ["random.seed(1234)"] if "random.seed(1234)" in plan.setup else []
        checks.append(f"assert {call} == result  # pinned clock and seed: reproducible")
    needs_result = any("result" in c for c in checks)
    lines = [IN_TMP, *plan.setup, f"result = {call}" if needs_result else call, *checks]
    contexts = list(dict.fromkeys(plan.contexts))
    head = [*dict.fromkeys(plan.prelude)] + [f"{'    ' * i}{c}" for i, c in enumerate(contexts)]
    inner = "    " * len(contexts)
    body = "".join(f"    {line}\n" for line in [*head, *(inner + line for line in lines)])
    fixtures = ", ".join(f for f in ("monkeypatch", "tmp_path") if f in body)
    code = f"def {test_name(subject, 'with_its_boundaries_faked')}({fixtures}):\n{body}"
    return render(ordered_imports({*imports, *plan.imports, "import pytest"}), code)


PINNED = ("clock", "randomness")  # stand-ins the test pins without checking they were used


def observable(
    subject: Subject,
    inventory: Inventory,
    facts: dict[str, Facts],
    found: list[Boundary],
    reached: dict[int, Conds],
) -> tuple[dict[str, str], dict[str, str]] | None:
    """The arguments with which a test of ``subject`` uses every one of its boundaries, so each
    stand-in can be checked: None when one goes through a local import (it cannot be patched)
    or no arguments are found that reach them all (one in a loop, behind a branch on a value a
    test cannot set). A pinned clock or seed is not checked: it need not be reached."""
    checked = [b for b in found if b.kind not in PINNED]
    if not all(b.patchable for b in found) or not all(b.line in reached for b in checked):
        return None
    conds = tuple(dict.fromkeys(c for b in checked for c in reached[b.line]))
    return solve_arguments(subject, inventory, facts, conds)


def _spec(subject: Subject, inventory: Inventory, found: list[Boundary], plan: Plan) -> TestSpec:
    kinds = ", ".join(f"{n} {k}" for k, n in Counter(b.kind for b in found).items())
    real = ", ".join(sorted({how for how in plan.how.values() if "real" in how})) or "its own logic"
    why = f"{subject.id} reaches {kinds}: fake {len(plan.fakes) or 'no'} with MagicMocks, keep "
    return make_spec(
        perspective=MockingStrategy.name,
        perspective_id=MockingStrategy.id,
        subject=subject,
        kind="unit",
        key="strategy:" + ",".join(sorted({b.call for b in found})),
        rationale=f"{why}{real} real.",
        inputs=", ".join(f"{k}={v}" for k, v in plan.args.items()) or "sample arguments",
        expected="; ".join(plan.checks) or "runs without touching the outside world",
        mocks="; ".join(f"{call}: {how}" for call, how in plan.how.items()),
        test_code=_test(subject, inventory, plan),
        inventory=inventory,
        line=found[0].line,
    )


class MockingStrategy:
    id: ClassVar[str] = "mocking_strategy"
    name: ClassVar[str] = "Mocking Strategy"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        facts = function_facts(ctx, inventory)
        found_points = integration_points(ctx, inventory)
        reached = reaching_conditions(ctx, [inventory.by_id[sid] for sid in found_points])
        plans: dict[str, Plan] = {}
        for sid, found in sorted(found_points.items()):
            subject = inventory.by_id[sid]
            solved = observable(subject, inventory, facts, found, reached[sid])
            plan = plan_for(subject, found, facts[sid]) if solved is not None else None
            if plan is not None and solved is not None and not set(plan.args) & set(solved[0]):
                plan.args, plan.init_args = {**solved[0], **plan.args}, solved[1]
                plans[sid] = plan
        points = {sid: found_points[sid] for sid in plans}
        specs = [
            _spec(inventory.by_id[sid], inventory, points[sid], plan) for sid, plan in plans.items()
        ]
        fakes = sum(len(p.fakes) for p in plans.values())
        total = sum(len(found) for found in points.values())
        stand_ins = Counter(label for p in plans.values() for label in p.labels)
        used = ", ".join(
            f"{n} {label}" for label, n in stand_ins.most_common() if label != "MagicMock"
        )
        summary = (
            f"{len(specs)} functions with {total} integration points: {total - fakes} get a "
            f"stand-in that keeps the library real ({used or 'none'}), {fakes} a MagicMock; the "
            "functions' own logic stays real in every test."
            if specs
            else "No integration points: nothing to fake, every function can be tested as it is."
        )
        metrics = {
            "functions": len(specs),
            "integration_points": total,
            "faked_with_magicmock": fakes,
            "stand_ins": dict(stand_ins.most_common()),
            "functions_not_observable": len(found_points) - len(points),
        }
        details = {"strategies": {sid: p.how for sid, p in list(plans.items())[:40]}}
        return finish(ctx, specs, summary, metrics, details, skipped=unbuildable_entry(inventory))
