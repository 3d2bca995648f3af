"""What the implementation worker writes: the record's ``analysis`` and the ``patches`` rows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from autocoder.engine.perspective import PerspectiveResult
from autocoder.schema import PATCHES, TASKS, PatchFields, PatchRow, Record, TaskRow

NO_CHANGES = {"file": "", "code": "", "diff": "", "language": ""}


def record_analysis(result: PerspectiveResult) -> dict[str, Any]:
    """The record's ``analysis``: the item, the earlier stages' conclusions, this stage's
    conclusion and content, and (Implementation Plan only, empty otherwise) the change."""
    d = result.details
    return {
        "summary": result.summary,
        "item_id": d.get("item_id", ""),
        "item": d.get("item", {}),
        "previous_stages": d.get("previous_stages", []),
        "conclusion": d.get("conclusion", ""),
        "code_changes": d.get("code_changes", dict(NO_CHANGES)),
        "test_code": d.get("test_code", ""),
        "verification": d.get("verification", {}),
        "patch_id": d.get("patch_id", ""),
        "model": d.get("model", {}),  # {} without a language model
        "metrics": result.metrics,
        "skipped": result.skipped,
        "tools": result.tools,
        "details": d.get("content", {}),
    }


def patch_rows(record: Record, result: PerspectiveResult) -> dict[str, list[BaseModel]]:
    """The iteration's rows of the extra configs: its patches, and the tasks whose state it
    changed or worked on (each with this record's iteration added to its list)."""
    meta = record.row_meta()
    patches: list[BaseModel] = [
        PatchRow.model_validate({**p.model_dump(), **meta})
        for p in result.items
        if isinstance(p, PatchFields)
    ]
    tasks: list[BaseModel] = [
        _task_row(record, task) for task in result.items if isinstance(task, TaskRow)
    ]
    return {PATCHES.name: patches, TASKS.name: tasks}


def _task_row(record: Record, task: TaskRow) -> TaskRow:
    """The task's row as this iteration writes it: its meta, and this record in its list."""
    return task.model_copy(update={
        "iteration": record.iteration, "worker": record.worker, "repo": record.target.repo,
        "commit": record.target.commit,
        "record_iterations": sorted({*task.record_iterations, record.iteration}),
    })  # fmt: skip
