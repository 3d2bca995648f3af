"""The implementation worker: six stages in order, one per iteration, from a finding to a patch."""

from __future__ import annotations

from autocoder.engine.perspective import Registry
from autocoder.engine.spec import WorkerSpec
from autocoder.workers.implementation.info import IMPLEMENTATION
from autocoder.workers.implementation.insights import ImplementationInsights
from autocoder.workers.implementation.results import patch_rows, record_analysis
from autocoder.workers.implementation.stages.approach_evaluation import ApproachEvaluation
from autocoder.workers.implementation.stages.architectural_analysis import ArchitecturalAnalysis
from autocoder.workers.implementation.stages.deep_understanding import DeepUnderstanding
from autocoder.workers.implementation.stages.implementation_plan import ImplementationPlan
from autocoder.workers.implementation.stages.risk_analysis import RiskAnalysis
from autocoder.workers.implementation.stages.testing_strategy import TestingStrategy


def implementation_spec() -> WorkerSpec:
    return WorkerSpec(
        info=IMPLEMENTATION,
        registry=Registry(
            [
                DeepUnderstanding(),
                ArchitecturalAnalysis(),
                ApproachEvaluation(),
                RiskAnalysis(),
                TestingStrategy(),
                ImplementationPlan(),
            ]
        ),
        new_insights=ImplementationInsights,
        item_rows=patch_rows,
        record_analysis=record_analysis,
    )
