"""What the CLI, the dashboard and the Spaces know of the implementation worker (nothing loaded)."""

from __future__ import annotations

from typing import Any

from autocoder.engine.spec import CodeViewer, MetricTable, PageTable, WorkerInfo
from autocoder.schema import PATCHES, RECORDS, TASKS

STATUS_SEVERITY = {"failed": "high", "unverified": "medium", "checked": "low", "verified": "info"}
COUNTS = (
    "items_taken", "items_finished", "items_retired", "patches_total", "patches_verified",
    "patches_checked", "patches_failed", "patches_unverified", "patches_published",
    "tasks_total", "tasks_completed", "tasks_failed",
)  # fmt: skip


def patch_as_finding(row: dict[str, Any]) -> dict[str, Any]:
    """A ``patches`` row in the findings table: its label as the severity, the fixer as the rule."""
    files = row.get("files") or [""]
    message = f"{row['id']} {row['status']}" + (
        f" at {row['failed_step']}" if row.get("failed_step") else ""
    )
    return {**row, "severity": STATUS_SEVERITY.get(row["status"], "info"), "rule": row["fixer"],
            "file": files[0], "line": 0, "message": message}  # fmt: skip


def patch_choice(row: dict[str, Any]) -> str:
    return f"{row['status']} · {row['fixer']} · {', '.join(row.get('files') or [])}"


IMPLEMENTATION = WorkerInfo(
    name="implementation",
    title="Implementation Worker",
    dataset="autocoder-implementation-results",
    description=(
        "One record per iteration of the autocoder implementation worker (six stages, one item "
        "at a time, from a finding to a verified patch), and every patch with its diff and "
        "verification in the `patches` config, and the tasks a team handed it (every state of "
        "each, the newest is current) in the `tasks` config. "
        "`load_dataset(repo)['train'][-1]['analysis']['code_changes']` is the newest change."
    ),
    default_interval_s=120.0,
    space="autocoder-implementation",
    folder="3_implementation_worker",
    configs=(RECORDS, PATCHES, TASKS),
    table_rows={PATCHES.name: patch_as_finding},
    table_titles={PATCHES.name: "Patches"},
    metrics=(
        MetricTable("Implementation (cumulative)", summary_key="implementation", keys=COUNTS),
    ),
    page_table=PageTable("Stages of the current item", "previous_stages", ("stage", "conclusion")),
    code_viewer=CodeViewer(
        PATCHES,
        "Diffs of the latest patches",
        "Patch",
        "patch",
        patch_choice,
        code_field="diff",
        language="python",
        code_label="unified diff",
    ),
    load="autocoder.workers.implementation.spec:implementation_spec",
)
