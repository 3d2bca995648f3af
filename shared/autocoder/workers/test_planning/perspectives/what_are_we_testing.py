"""What Are We Testing?: the target's public surface, ranked by risk, with contract tests.

Every public function, method and class becomes a subject; its spec is a contract test that pins
the signature (names, defaults, kinds), so an accidental change to the public API fails loudly.
HTTP routes (``@app.get(...)``-style decorators) and CLI entry points (``[project.scripts]``)
are listed as the exposed surface.
"""

from __future__ import annotations

import re
from typing import ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._entry import entry_points
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import (
    import_line,
    make_spec,
    render,
    risk_score,
    test_name,
)

ROUTE = re.compile(r"\.(get|post|put|patch|delete|route|websocket|api_route)\(")


def routes(inventory: Inventory) -> list[str]:
    return [
        f"{s.id} {d}"
        for s in inventory.subjects
        for d in s.decorators
        if ROUTE.search(d) and s.kind != "class"
    ]


def _signature_test(subject: Subject) -> str:
    if subject.kind == "class":
        body = (
            f"def {test_name(subject, 'is_a_class')}():\n"
            f"    assert inspect.isclass({subject.owner})\n"
        )
    else:
        bound = "classmethod" in subject.decorators  # Class.method is bound: no ``cls``
        expected = [(p.name, _kind(p.kind)) for p in subject.params[int(bound) :]]
        body = (  # no local variable in the test: one could shadow the subject's name
            f"def {test_name(subject, 'signature_is_stable')}():\n"
            f"    assert [(p.name, p.kind.name) for p in inspect.signature("
            f"{_function(subject)}).parameters.values()] == {expected!r}\n"
        )
    return render(["import inspect", import_line(subject)], body)


def _function(subject: Subject) -> str:
    """The function behind the subject: a property's getter, setter or deleter (``fget``...), a
    cached property's ``func`` (functools' and Django's), else the subject itself."""
    for decorator in subject.decorators:
        accessor = {"setter": "fset", "deleter": "fdel"}.get(decorator.rpartition(".")[2], "fget")
        if decorator == "property" or decorator.endswith((".setter", ".getter", ".deleter")):
            return f"{subject.qualname}.{accessor}"
    if any(d.split(".")[-1] == "cached_property" for d in subject.decorators):
        return f"{subject.qualname}.func"
    return subject.qualname


def _names(subject: Subject) -> str:
    return ", ".join(p.name for p in subject.params)


def _kind(kind: str) -> str:
    return {
        "positional": "POSITIONAL_OR_KEYWORD",
        "keyword": "KEYWORD_ONLY",
        "var_positional": "VAR_POSITIONAL",
        "var_keyword": "VAR_KEYWORD",
    }[kind]


def _spec(subject: Subject, inventory: Inventory) -> TestSpec:
    score = risk_score(subject, inventory)
    why = [
        f"complexity {subject.complexity}",
        f"imported by {inventory.fan_in(subject.module)} files",
    ]
    why.append("covered by tests" if inventory.tested(subject) else "no test names it")
    return make_spec(
        perspective=WhatAreWeTesting.name,
        perspective_id=WhatAreWeTesting.id,
        subject=subject,
        kind="unit",
        key="signature",
        rationale=f"Public {subject.kind} (risk {score}: {', '.join(why)}).",
        inputs="none: inspects the signature",
        expected=f"{subject.qualname} keeps its parameters: {_names(subject) or 'none'}",
        test_code=_signature_test(subject),
        inventory=inventory,
    )


class WhatAreWeTesting:
    id: ClassVar[str] = "what_are_we_testing"
    name: ClassVar[str] = "What Are We Testing?"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        inventory = build_inventory(ctx)
        public = [s for s in inventory.subjects if s.public]
        if not public:
            raise PerspectiveSkipped(f"no public functions or classes in {ctx.root}")
        ranked = sorted(public, key=lambda s: (-risk_score(s, inventory), s.id))
        found_routes, scripts = routes(inventory), entry_points(ctx)
        untested = [s for s in public if not inventory.tested(s)]
        summary = (
            f"{len(public)} public subjects in {len(inventory.modules)} modules, "
            f"{len(untested)} named by no test; riskiest: "
            + ", ".join(f"{s.id} (risk {risk_score(s, inventory)})" for s in ranked[:3])
            + f". {len(found_routes)} HTTP routes, {len(scripts)} CLI entry points."
        )
        metrics = {
            "public_subjects": len(public),
            "untested_subjects": len(untested),
            "modules": len(inventory.modules),
            "unparsable_files": sorted(inventory.unparsable)[:15],
            "riskiest": [{"subject": s.id, "risk": risk_score(s, inventory)} for s in ranked[:15]],
        }
        details = {"routes": found_routes[:30], "cli_entry_points": scripts}
        return finish(ctx, [_spec(s, inventory) for s in ranked], summary, metrics, details)
