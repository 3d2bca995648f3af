"""What the analysis worker writes: the record's ``analysis`` and the ``findings`` config rows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from autocoder.engine.perspective import PerspectiveResult
from autocoder.schema import FINDINGS, FindingRow, Record
from autocoder.workers.analysis import severity
from autocoder.workers.analysis.evidence import count_by

TOP_FINDINGS_IN_RECORD = 15  # the most severe findings a record keeps (all are in the config)


def record_analysis(result: PerspectiveResult) -> dict[str, Any]:
    """The record's ``analysis``: summary, metrics, totals and the most severe findings only
    (worst first; within a severity, injections before credentials before the rest)."""
    worst = sorted(result.findings, key=severity.rank_key)
    return {
        "summary": result.summary,
        "findings_total": len(result.findings),
        "findings_by_severity": count_by(result.findings, "severity"),
        "top_findings": [f.model_dump() for f in worst[:TOP_FINDINGS_IN_RECORD]],
        "metrics": result.metrics,
        "skipped": result.skipped,
        "tools": result.tools,
        **({"details": result.details} if result.details else {}),
    }


def finding_rows(record: Record, result: PerspectiveResult) -> dict[str, list[BaseModel]]:
    """Every finding of the pass, one row each, for the ``findings`` config."""
    meta = {**record.row_meta(), "perspective_id": record.perspective_id}
    rows: list[BaseModel] = [
        FindingRow.model_validate({**meta, **f.model_dump()}) for f in result.findings
    ]
    return {FINDINGS.name: rows}
