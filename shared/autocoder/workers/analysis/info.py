"""What the CLI, the dashboard and the Spaces know of the analysis worker (nothing loaded)."""

from __future__ import annotations

from autocoder.engine.spec import MetricTable, PageTable, WorkerInfo, as_finding
from autocoder.schema import FINDINGS, RECORDS, SEVERITIES

ANALYSIS = WorkerInfo(
    name="analysis",
    title="Analysis Worker",
    dataset="autocoder-analysis-results",
    description=(
        "One record per iteration of the autocoder analysis worker (six perspectives in "
        "rotation), and every finding in the `findings` config. "
        "`load_dataset(repo)['train'][-1]` is the newest record."
    ),
    default_interval_s=60.0,
    space="autocoder-analysis",
    folder="1_analysis_worker",
    configs=(RECORDS, FINDINGS),
    table_rows={FINDINGS.name: as_finding},
    table_titles={FINDINGS.name: "Analysis findings"},
    metrics=(
        MetricTable(
            "Unique findings by severity",
            summary_key="findings_by_severity",
            insight="unique_findings_by_severity",
            order=SEVERITIES,
        ),
        MetricTable(
            "Unique findings by perspective",
            summary_key="findings_by_perspective",
            insight="unique_findings_by_perspective",
        ),
    ),
    charts=frozenset({"findings_by_commit"}),
    page_table=PageTable(
        "Top findings", "top_findings", ("severity", "file", "line", "rule", "tool", "message")
    ),
    load="autocoder.workers.analysis.spec:analysis_spec",
)
