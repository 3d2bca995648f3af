"""The analysis worker: six perspectives in rotation over the target, findings with evidence.

Each perspective is wrapped in :class:`Rated`, so the severity policy (:mod:`.severity`) rates
every finding exactly once, right after the run and before anything reads the result: the
record, the ``findings`` rows the gate reads, the insights and the hand-off all see the same
severities. The wrapper has the run context, which the policy needs to read the flagged code.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, ClassVar

from autocoder.engine.perspective import Perspective, PerspectiveResult, Registry, RunContext
from autocoder.engine.spec import WorkerSpec
from autocoder.schema import SEVERITIES, Finding
from autocoder.workers.analysis import evidence, severity
from autocoder.workers.analysis.info import ANALYSIS
from autocoder.workers.analysis.insights import AnalysisInsights
from autocoder.workers.analysis.perspectives.architecture import ArchitectureReview
from autocoder.workers.analysis.perspectives.code_quality import CodeQualityAnalysis
from autocoder.workers.analysis.perspectives.dependencies import DependencyAnalysis
from autocoder.workers.analysis.perspectives.performance import PerformanceAnalysis
from autocoder.workers.analysis.perspectives.security import SecurityAudit
from autocoder.workers.analysis.perspectives.test_coverage import TestCoverageAnalysis
from autocoder.workers.analysis.records import finding_rows, record_analysis


class Rated:
    """A perspective whose findings the severity policy rates; same id, name and run otherwise."""

    id: ClassVar[str]
    name: ClassVar[str]
    inner: ClassVar[Perspective]

    def run(self, ctx: RunContext) -> PerspectiveResult:
        return apply_policy(self.inner.run(ctx), self.id, ctx)


def rated(perspective: Perspective) -> Perspective:
    """``perspective`` behind the severity policy (a subclass of :class:`Rated` per perspective,
    since a perspective's id and name are class attributes)."""
    attributes = {"id": perspective.id, "name": perspective.name, "inner": perspective}
    cls = type(f"Rated{type(perspective).__name__}", (Rated,), attributes)
    made: Perspective = cls()
    return made


def apply_policy(
    result: PerspectiveResult, perspective_id: str, ctx: RunContext
) -> PerspectiveResult:
    """``result`` with its findings rated, its severity counts and summary made to match, and
    ``metrics["severity_policy"]`` saying how many findings were raised, lowered and dropped."""
    before = list(result.findings)
    result.findings, stats = severity.rate(before, perspective_id, ctx.sources)
    if not (stats.raised or stats.lowered or stats.dropped):
        return result
    old = dict(result.metrics.get("by_severity", evidence.count_by(before, "severity")))
    _recount(result.metrics, result.findings)
    result.summary = _summary(result.summary, before, old, result.findings) + _policy_sentence(
        stats
    )
    result.metrics["severity_policy"] = stats.as_metrics()
    return result


def _recount(metrics: dict[str, Any], findings: list[Finding]) -> None:
    """The count metrics a perspective computed before the policy, computed again after it."""
    counts: Counter[str] = Counter(f.severity for f in findings)
    if "by_severity" in metrics:
        metrics["by_severity"] = {s: counts[s] for s in SEVERITIES if counts[s]}
    if "findings" in metrics:
        metrics["findings"] = len(findings)
    if isinstance(size := metrics.get("kloc"), int | float):
        metrics["findings_per_kloc"] = evidence.per_kloc(len(findings), size)
        if "per_kloc_by_severity" in metrics:
            metrics["per_kloc_by_severity"] = {
                s: evidence.per_kloc(n, size) for s, n in metrics["by_severity"].items()
            }
    if "by_rule" in metrics:
        metrics["by_rule"] = evidence.count_by(findings, "rule", most=15)
    worst = metrics.get("worst_files")
    if isinstance(worst, dict):
        metrics["worst_files"] = evidence.count_by(findings, "file", most=evidence.TOP)
    elif isinstance(worst, list):
        top = Counter(f.file for f in findings).most_common(evidence.TOP)
        metrics["worst_files"] = [{"file": f, "findings": n} for f, n in top]


def _summary(text: str, before: list[Finding], old: dict[str, int], after: list[Finding]) -> str:
    """The perspective's summary with its "N things (1 high, 4 low)" phrase made true again."""
    counts: Counter[str] = Counter(f.severity for f in after)
    new = evidence.counts_phrase({s: counts[s] for s in SEVERITIES if counts[s]})
    pattern = rf"\b{len(before)} ([\w -]+?) \({re.escape(evidence.counts_phrase(old))}\)"
    return re.sub(pattern, lambda m: f"{len(after)} {m.group(1)} ({new})", text, count=1)


def _policy_sentence(stats: severity.PolicyStats) -> str:
    parts = [f"{n} raised" for n in [stats.raised] if n]
    parts += [f"{n} lowered" for n in [stats.lowered] if n]
    parts += [f"{n} dropped in {where} files" for where, n in stats.dropped.items()]
    return f" Severity policy: {', '.join(parts)} (each with its reason in the message)."


def perspectives() -> list[Perspective]:
    """The six perspectives in rotation order, as the tools rate them (before the policy)."""
    return [
        CodeQualityAnalysis(),
        ArchitectureReview(),
        PerformanceAnalysis(),
        SecurityAudit(),
        DependencyAnalysis(),
        TestCoverageAnalysis(),
    ]


def analysis_spec() -> WorkerSpec:
    return WorkerSpec(
        info=ANALYSIS,
        registry=Registry(rated(p) for p in perspectives()),
        new_insights=AnalysisInsights,
        item_rows=finding_rows,
        record_analysis=record_analysis,
    )
