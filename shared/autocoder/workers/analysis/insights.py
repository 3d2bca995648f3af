"""Cumulative insights of the analysis worker: unique findings by fingerprint, all iterations."""

from __future__ import annotations

from collections import Counter
from typing import Any

from autocoder.engine.perspective import Perspective, PerspectiveResult
from autocoder.engine.spec import IterationCounts
from autocoder.schema import SEVERITIES


class AnalysisInsights:
    """Unique findings (by fingerprint) per perspective and severity, and iteration counts.

    The map of findings only grows, each keeping the severity it was last rated (the severity
    policy may rate a finding anew, e.g. after an upgrade), and counters are guarded by
    ``counted_through``, so applying the same iteration twice (after a crash) changes nothing.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        self.counts = IterationCounts(state)
        self.findings: dict[str, list[str]] = dict(state.get("findings", {}))

    def apply(
        self,
        iteration: int,
        perspective: Perspective,
        status: str,
        result: PerspectiveResult | None,
    ) -> None:
        self.counts.count(iteration, perspective, status)
        for f in result.findings if result else []:  # the latest rating of a finding counts
            self.findings[f.fingerprint] = [perspective.name, f.severity]

    def summary(self) -> dict[str, Any]:
        by_perspective = Counter(p for p, _ in self.findings.values())
        by_severity = Counter(s for _, s in self.findings.values())
        return {
            **self.counts.summary(),
            "unique_findings": len(self.findings),
            "unique_findings_by_perspective": dict(sorted(by_perspective.items())),
            "unique_findings_by_severity": {s: by_severity[s] for s in SEVERITIES},
            "perspectives_completed": sorted(self.counts.completed),
        }

    def to_state(self) -> dict[str, Any]:
        return {**self.counts.to_state(), "findings": self.findings}
