"""The test planning worker: fifteen perspectives in rotation, specs with runnable tests."""

from __future__ import annotations

from autocoder.engine.perspective import Registry
from autocoder.engine.spec import WorkerSpec
from autocoder.workers.test_planning.info import TEST_PLANNING
from autocoder.workers.test_planning.insights import TestPlanningInsights
from autocoder.workers.test_planning.perspectives.backwards_compatibility import (
    BackwardsCompatibility,
)
from autocoder.workers.test_planning.perspectives.big_picture import BigPictureReview
from autocoder.workers.test_planning.perspectives.ci_integration import CICDIntegration
from autocoder.workers.test_planning.perspectives.coverage_strategy import TestCoverageStrategy
from autocoder.workers.test_planning.perspectives.data_integrity import DataIntegrity
from autocoder.workers.test_planning.perspectives.edge_cases import EdgeCaseDiscovery
from autocoder.workers.test_planning.perspectives.error_handling import ErrorHandling
from autocoder.workers.test_planning.perspectives.failure_modes import FailureModeAnalysis
from autocoder.workers.test_planning.perspectives.integration_points import IntegrationPoints
from autocoder.workers.test_planning.perspectives.mocking_strategy import MockingStrategy
from autocoder.workers.test_planning.perspectives.performance_impact import PerformanceImpact
from autocoder.workers.test_planning.perspectives.security_analysis import SecurityAnalysis
from autocoder.workers.test_planning.perspectives.test_pyramid import TestPyramid
from autocoder.workers.test_planning.perspectives.user_experience import UserExperience
from autocoder.workers.test_planning.perspectives.what_are_we_testing import WhatAreWeTesting
from autocoder.workers.test_planning.results import record_analysis, spec_rows


def test_planning_spec() -> WorkerSpec:
    return WorkerSpec(
        info=TEST_PLANNING,
        registry=Registry(
            [
                WhatAreWeTesting(),
                FailureModeAnalysis(),
                IntegrationPoints(),
                EdgeCaseDiscovery(),
                PerformanceImpact(),
                BackwardsCompatibility(),
                DataIntegrity(),
                ErrorHandling(),
                UserExperience(),
                SecurityAnalysis(),
                TestCoverageStrategy(),
                TestPyramid(),
                MockingStrategy(),
                CICDIntegration(),
                BigPictureReview(),
            ]
        ),
        new_insights=TestPlanningInsights,
        item_rows=spec_rows,
        record_analysis=record_analysis,
    )
