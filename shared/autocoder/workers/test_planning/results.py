"""What the test planning worker writes: ``finish`` for perspectives, the record, the spec rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.schema import SPECS, Record, SpecRow, TestSpec
from autocoder.workers.test_planning.verify import run_generated_tests

TOP_SPECS_IN_RECORD = 10
RECORD_SPEC_FIELDS = {"id", "subject", "kind", "priority", "rationale", "file", "line", "status",
                      "status_detail"}  # fmt: skip


def finish(
    ctx: RunContext,
    specs: list[TestSpec],
    summary: str,
    metrics: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
    skipped: dict[str, str] | None = None,
) -> PerspectiveResult:
    """The result every test planning perspective returns: specs deduplicated by id, sorted by
    priority, run against the target when ``AUTOCODER_RUN_TARGET_TESTS=1``."""
    unique = sorted({s.id: s for s in specs}.values(), key=lambda s: (s.priority, s.subject, s.id))
    skipped = dict(skipped or {})
    if ctx.options.run_target_tests:
        unique = run_generated_tests(ctx.root, unique, ctx.options.tool_timeout_s)
    else:
        skipped["running generated tests"] = "skipped: AUTOCODER_RUN_TARGET_TESTS is not 1"
    counts = {
        "specs": len(unique),
        "by_kind": dict(Counter(s.kind for s in unique).most_common()),
        "by_priority": {str(p): n for p, n in sorted(Counter(s.priority for s in unique).items())},
        "by_status": dict(Counter(s.status for s in unique).most_common()),
    }
    return PerspectiveResult(
        summary=summary,
        metrics={**counts, **(metrics or {})},
        details=details or {},
        skipped=skipped,
        state=state or {},
        items=list(unique),
    )


def record_analysis(result: PerspectiveResult) -> dict[str, Any]:
    """The record's ``analysis``: summary, metrics and the highest-priority specs (no code)."""
    specs = [s for s in result.items if isinstance(s, TestSpec)]
    return {
        "summary": result.summary,
        "specs_total": len(specs),
        "top_specs": [
            s.model_dump(include=RECORD_SPEC_FIELDS) for s in specs[:TOP_SPECS_IN_RECORD]
        ],
        "metrics": result.metrics,
        "skipped": result.skipped,
        "tools": result.tools,
        **({"details": result.details} if result.details else {}),
    }


def spec_rows(record: Record, result: PerspectiveResult) -> dict[str, list[BaseModel]]:
    meta = {
        "iteration": record.iteration,
        "timestamp": record.timestamp,
        "worker": record.worker,
        "perspective_name": record.perspective_name,
        "repo": record.target.repo,
        "commit": record.target.commit,
    }
    rows: list[BaseModel] = [
        SpecRow.model_validate({**s.model_dump(), **meta})
        for s in result.items
        if isinstance(s, TestSpec)
    ]
    return {SPECS.name: rows}
