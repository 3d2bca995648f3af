"""Cumulative insights of the analysis worker: unique findings by fingerprint, all iterations."""

from __future__ import annotations

from collections import Counter
from typing import Any

from autocoder.engine.perspective import Perspective, PerspectiveResult
from autocoder.schema import SEVERITIES


class AnalysisInsights:
    """Unique findings (by fingerprint) per perspective and severity, and iteration counts.

    Sets and maps only grow by union, and counters are guarded by ``counted_through``, so applying
    the same iteration twice (after a crash) changes nothing.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        self.counted_through: int = int(state.get("counted_through", 0))
        self.iterations: Counter[str] = Counter(state.get("iterations", {}))
        self.findings: dict[str, list[str]] = dict(state.get("findings", {}))
        self.completed: set[str] = set(state.get("perspectives_completed", []))

    def apply(
        self,
        iteration: int,
        perspective: Perspective,
        status: str,
        result: PerspectiveResult | None,
    ) -> None:
        if iteration > self.counted_through:
            self.iterations[status] += 1
            self.counted_through = iteration
        if status == "ok":
            self.completed.add(perspective.name)
        for f in result.findings if result else []:
            self.findings.setdefault(f.fingerprint, [perspective.name, f.severity])

    def summary(self) -> dict[str, Any]:
        by_perspective = Counter(p for p, _ in self.findings.values())
        by_severity = Counter(s for _, s in self.findings.values())
        return {
            "iterations_completed": sum(self.iterations.values()),
            "iterations_ok": self.iterations["ok"],
            "iterations_error": self.iterations["error"],
            "iterations_skipped": self.iterations["skipped"],
            "unique_findings": len(self.findings),
            "unique_findings_by_perspective": dict(sorted(by_perspective.items())),
            "unique_findings_by_severity": {s: by_severity[s] for s in SEVERITIES},
            "perspectives_completed": sorted(self.completed),
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "counted_through": self.counted_through,
            "iterations": dict(self.iterations),
            "findings": self.findings,
            "perspectives_completed": sorted(self.completed),
        }
