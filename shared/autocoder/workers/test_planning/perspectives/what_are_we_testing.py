"""What Are We Testing?: the target's public surface, ranked by risk, in the order to test it.

Every public function, method and class is a subject, ranked by :func:`.specs.risk_score`; HTTP
routes (``@app.get(...)``-style decorators) and CLI entry points (``[project.scripts]``) are
listed as the exposed surface. It writes no tests: a test that only pins a signature passes on
broken code, and the other perspectives write the behavioural ones (API compatibility over time
is Backwards Compatibility's).
"""

from __future__ import annotations

import re
from typing import ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import PerspectiveSkipped
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._entry import entry_points
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import risk_score

ROUTE = re.compile(r"\.(get|post|put|patch|delete|route|websocket|api_route)\(")


def routes(inventory: Inventory) -> list[str]:
    return [
        f"{s.id} {d}"
        for s in inventory.subjects
        for d in s.decorators
        if ROUTE.search(d) and s.kind != "class"
    ]


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
            + f". {len(found_routes)} HTTP routes, {len(scripts)} CLI entry points. No tests of "
            "its own: the other perspectives write tests of behaviour for these subjects."
        )
        metrics = {
            "public_subjects": len(public),
            "untested_subjects": len(untested),
            "modules": len(inventory.modules),
            "unparsable_files": sorted(inventory.unparsable)[:15],
            "riskiest": [_ranked(s, inventory) for s in ranked[:15]],
        }
        details = {"routes": found_routes[:30], "cli_entry_points": scripts}
        return finish(ctx, [], summary, metrics, details)


def _ranked(subject: Subject, inventory: Inventory) -> dict[str, object]:
    """One subject of the ranking, with the evidence for its place."""
    return {
        "subject": subject.id, "risk": risk_score(subject, inventory), "file": subject.file,
        "line": subject.line, "complexity": subject.complexity,
        "imported_by": inventory.fan_in(subject.module), "tested": inventory.tested(subject),
    }  # fmt: skip
