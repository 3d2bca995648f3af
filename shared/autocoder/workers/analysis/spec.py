"""The analysis worker: six perspectives in rotation over the target, findings with evidence."""

from __future__ import annotations

from autocoder.engine.perspective import Registry
from autocoder.engine.spec import WorkerSpec
from autocoder.workers.analysis.info import ANALYSIS
from autocoder.workers.analysis.insights import AnalysisInsights
from autocoder.workers.analysis.perspectives.architecture import ArchitectureReview
from autocoder.workers.analysis.perspectives.code_quality import CodeQualityAnalysis
from autocoder.workers.analysis.perspectives.dependencies import DependencyAnalysis
from autocoder.workers.analysis.perspectives.performance import PerformanceAnalysis
from autocoder.workers.analysis.perspectives.security import SecurityAudit
from autocoder.workers.analysis.perspectives.test_coverage import TestCoverageAnalysis
from autocoder.workers.analysis.records import finding_rows, record_analysis


def analysis_spec() -> WorkerSpec:
    return WorkerSpec(
        info=ANALYSIS,
        registry=Registry(
            [
                CodeQualityAnalysis(),
                ArchitectureReview(),
                PerformanceAnalysis(),
                SecurityAudit(),
                DependencyAnalysis(),
                TestCoverageAnalysis(),
            ]
        ),
        new_insights=AnalysisInsights,
        item_rows=finding_rows,
        record_analysis=record_analysis,
    )
