"""Cumulative insights of the test planning worker: unique specs by id, retired when gone."""

from __future__ import annotations

from collections import Counter
from typing import Any

from autocoder.engine.perspective import Perspective, PerspectiveResult
from autocoder.engine.spec import IterationCounts
from autocoder.schema import TestSpec

HEADLINE_COUNTS = {
    "Failure Mode Analysis": "failure_modes_identified",
    "Integration Points": "integration_points_mapped",
    "Edge Case Discovery": "edge_cases_discovered",
}


class TestPlanningInsights:
    """Specs ever identified (by id), which are still active, and their last test status.

    A spec the same perspective no longer produces (its subject disappeared, or the code it
    pointed at changed) is retired; it counts in the totals and in ``test_specs_retired``.
    Applying an iteration twice changes nothing.
    """

    __test__ = False

    def __init__(self, state: dict[str, Any]) -> None:
        self.counts = IterationCounts(state)
        # id -> [perspective, kind, status, active]
        self.specs: dict[str, list[Any]] = {k: list(v) for k, v in state.get("specs", {}).items()}
        self.ran_tests: bool = bool(state.get("ran_tests", False))

    def apply(
        self,
        iteration: int,
        perspective: Perspective,
        status: str,
        result: PerspectiveResult | None,
    ) -> None:
        self.counts.count(iteration, perspective, status)
        if status != "ok" or result is None:
            return
        produced = {s.id: s for s in result.items if isinstance(s, TestSpec)}
        for entry_id, entry in self.specs.items():
            if entry[0] == perspective.name and entry_id not in produced:
                entry[3] = False
        for spec in produced.values():
            self.specs[spec.id] = [perspective.name, spec.kind, spec.status, True]
            self.ran_tests = self.ran_tests or spec.status != "not_run"

    def summary(self) -> dict[str, Any]:
        by_perspective = Counter(entry[0] for entry in self.specs.values())
        active = [entry for entry in self.specs.values() if entry[3]]
        out: dict[str, Any] = {
            **self.counts.summary(),
            **{key: by_perspective[name] for name, key in HEADLINE_COUNTS.items()},
            "test_specs_total": len(self.specs),
            "test_specs_active": len(active),
            "test_specs_retired": len(self.specs) - len(active),
            "by_perspective": dict(sorted(by_perspective.items())),
            "by_kind": dict(Counter(entry[1] for entry in self.specs.values()).most_common()),
            "perspectives_completed": sorted(self.counts.completed),
        }
        if self.ran_tests:
            statuses = Counter(entry[2] for entry in active)
            out["specs_passing"] = statuses["passed"]
            out["specs_failing"] = statuses["failed"] + statuses["error"]
            out["specs_blocked"] = statuses["blocked"]
        return out

    def to_state(self) -> dict[str, Any]:
        return {**self.counts.to_state(), "specs": self.specs, "ran_tests": self.ran_tests}
