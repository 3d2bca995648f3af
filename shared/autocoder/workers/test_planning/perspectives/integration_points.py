"""Integration Points: where the target's functions reach the outside world.

Network clients, databases, the filesystem, subprocesses, environment variables, clocks and
randomness, found by :mod:`._boundaries`. Every boundary call that the function's arguments can
be solved to reach (:func:`._boundaries.reaching_conditions`, :func:`._solve.call_reaching`)
becomes an integration spec whose test replaces the module-level names the function goes through
with fakes and proves the call is reached: the fake for the boundary under test raises
``BoundaryReached`` (a ``BaseException``, so no ``except Exception`` in the target hides it), the
others return plain values.

Sample arguments and the call come from :mod:`._calls` (:func:`._calls.call_code`), the fakes for a
function's boundaries from :mod:`._fakes` (:func:`._fakes.fake_block`).
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.codegen import literal
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._boundaries import (
    function_facts,
    reaching_conditions,
)
from autocoder.workers.test_planning.perspectives._calls import (
    MOCK_IMPORT,
    module_import,
    ordered_imports,
    unbuildable_entry,
)
from autocoder.workers.test_planning.perspectives._clients import client_specs
from autocoder.workers.test_planning.perspectives._facts import Boundary
from autocoder.workers.test_planning.perspectives._fakes import (
    IN_TMP,
    fake_block,
    integration_points,
)
from autocoder.workers.test_planning.perspectives._solve import call_reaching
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import make_spec, render, test_name

REACHED = (
    "class BoundaryReached(BaseException):\n"
    '    """Raised by the faked boundary: the function got as far as the outside world."""\n'
)


def _reached_test(
    call: tuple[str, set[str]], subject: Subject, found: list[Boundary], b: Boundary
) -> str:
    call_text, imports = call
    body = "\n".join(f"    {line}" for line in fake_block(found, b, "BoundaryReached"))
    fake = f"fakes[{literal(b.root)}]" + (f".{b.path}" if b.path else "")
    what = f"reaches_{b.kind}_{b.call}"
    checks = f"    assert {fake}.call_count == 1\n"
    if b.arg is not None:
        checks += f"    assert {b.arg!r} in str({fake}.call_args)\n"
    code = (
        f"{REACHED}\n\ndef {test_name(subject, what)}(monkeypatch, tmp_path):\n"
        f"    {IN_TMP}\n{body}\n    with pytest.raises(BoundaryReached):\n"
        f"        {call_text}\n{checks}"
    )
    heads = ordered_imports({*imports, MOCK_IMPORT, "import pytest", module_import(subject)})
    return render(heads, code)


def first_through_its_fake(b: Boundary, found: list[Boundary]) -> bool:
    """Whether ``b`` comes before every other call through the same fake: the fake raises on
    its first call, so a later one (``environ["B"]`` after ``environ["A"]``) is never reached."""
    same = [x.line for x in found if (x.root, x.path) == (b.root, b.path) and x != b]
    return all(line > b.line for line in same)


def _spec(
    subject: Subject,
    inventory: Inventory,
    found: list[Boundary],
    b: Boundary,
    call: tuple[str, set[str]],
) -> TestSpec:
    arg = f" ({b.arg!r})" if b.arg is not None else ""
    return make_spec(
        perspective=IntegrationPoints.name,
        perspective_id=IntegrationPoints.id,
        subject=subject,
        kind="integration",
        key=f"{b.kind}:{b.call}:{b.arg}",
        rationale=f"{subject.id} reaches the {b.kind} through {b.call}{arg} at "
        f"{subject.file}:{b.line}; a test must control this boundary.",
        inputs=f"{call[0]}; every boundary of {subject.qualname} faked",
        expected=f"the call reaches {b.call}{arg} exactly once",
        mocks=f"patch {subject.module}.{b.root} with a fake ({b.call} raises BoundaryReached)",
        test_code=_reached_test(call, subject, found, b),
        inventory=inventory,
        line=b.line,
    )


class IntegrationPoints:
    id: ClassVar[str] = "integration_points"
    name: ClassVar[str] = "Integration Points"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        points = integration_points(ctx, inventory)
        specs: dict[str, tuple[TestSpec, str]] = {}
        unpatchable: list[str] = []
        facts = function_facts(ctx, inventory)
        reached = reaching_conditions(ctx, [inventory.by_id[sid] for sid in points])
        not_reached = 0
        for subject_id, found in sorted(points.items()):
            subject = inventory.by_id[subject_id]
            for b in found:
                conds = reached[subject_id].get(b.line)
                call = call_reaching(subject, inventory, facts, conds)
                if not b.patchable:
                    unpatchable.append(f"{subject_id} {b.call} (line {b.line})")
                elif call is not None and first_through_its_fake(b, found):
                    spec = _spec(subject, inventory, found, b, call)
                    specs[spec.id] = (spec, b.kind)
                else:
                    not_reached += 1
        clients = client_specs(ctx, inventory, IntegrationPoints.name, IntegrationPoints.id)
        handled = {s.subject for s in clients}  # these get no MagicMock-request test
        specs = {k: v for k, v in specs.items() if v[0].subject not in handled}
        specs.update({s.id: (s, "framework client") for s in clients})
        by_kind = Counter(kind for _, kind in specs.values())
        kinds = ", ".join(f"{n} {k}" for k, n in by_kind.most_common())
        summary = (
            f"{len(specs)} integration points in {len(points)} functions ({kinds}); each test "
            "fakes the function's boundaries and proves the call reaches the one it names"
            if specs
            else "No calls to the network, databases, files, subprocesses, environment, clocks "
            f"or randomness in {len(inventory.subjects)} subjects: nothing to fake"
        )
        late = (
            f"; {len(unpatchable)} go through local imports and get no test" if unpatchable else ""
        ) + (
            f"; {not_reached} get no test: no arguments are found that reach them (a branch on "
            "a value a test cannot set, a loop, an earlier return) or they come after a call "
            "through the same fake"
            if not_reached
            else ""
        )
        metrics = {
            "integration_points": len(specs),
            "functions_with_boundaries": len(points),
            "by_boundary": dict(by_kind.most_common()),
            "unpatchable": unpatchable[:20],
            "not_reached_on_every_call": not_reached,
        }
        listing = {
            sid: [f"{b.kind} {b.call} line {b.line}" for b in found]
            for sid, found in sorted(points.items())[:40]
        }
        return finish(
            ctx,
            [s for s, _ in specs.values()],
            summary + late + ".",
            metrics,
            {"boundaries": listing},
            skipped=unbuildable_entry(inventory),
        )
