"""What the CLI, the dashboard and the Spaces know of the test planning worker (nothing loaded)."""

from __future__ import annotations

from typing import Any

from autocoder.engine.spec import CodeViewer, MetricTable, PageTable, WorkerInfo
from autocoder.schema import RECORDS, SPECS

PRIORITY_SEVERITY = {1: "high", 2: "medium", 3: "low", 4: "info", 5: "info"}
COUNTS = (
    "failure_modes_identified", "integration_points_mapped", "edge_cases_discovered",
    "test_specs_total", "test_specs_active", "test_specs_retired", "specs_passing",
    "specs_failing", "specs_blocked",
)  # fmt: skip


def spec_as_finding(row: dict[str, Any]) -> dict[str, Any]:
    """A ``specs`` row in the findings table: severity from priority, rule from kind, rationale."""
    severity = PRIORITY_SEVERITY.get(row["priority"], "info")
    return {**row, "severity": severity, "rule": row["kind"], "message": row["rationale"]}


def spec_choice(row: dict[str, Any]) -> str:
    return f"P{row['priority']} {row['kind']} · {row['subject']}"


TEST_PLANNING = WorkerInfo(
    name="test-planning",
    title="Test Planning Worker",
    dataset="autocoder-test-planning-results",
    description=(
        "One record per iteration of the autocoder test planning worker (fifteen perspectives "
        "in rotation), and every test specification with its pytest code in the `specs` "
        "config. `load_dataset(repo)['train'][-1]['cumulative_insights']` has the counts."
    ),
    default_interval_s=60.0,
    space="autocoder-test-planning",
    folder="2_test_planning_worker",
    configs=(RECORDS, SPECS),
    table_rows={SPECS.name: spec_as_finding},
    table_titles={SPECS.name: "Test specs"},
    metrics=(MetricTable("Test planning (cumulative)", summary_key="test_planning", keys=COUNTS),),
    charts=frozenset({"specs_over_time"}),
    page_table=PageTable(
        "Top specifications",
        "top_specs",
        ("priority", "kind", "subject", "file", "line", "status", "status_detail", "rationale"),
    ),
    code_viewer=CodeViewer(
        SPECS, "Test code of the latest specifications", "Specification", "spec", spec_choice
    ),
    load="autocoder.workers.test_planning.spec:test_planning_spec",
)
