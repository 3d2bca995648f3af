"""Cumulative insights of the implementation worker: items taken, finished and retired, and
every patch by its newest label. Applying an iteration twice changes nothing: items and patches
are kept by id, and the retired count by the iteration that retired them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from autocoder.engine.perspective import Perspective, PerspectiveResult
from autocoder.engine.spec import IterationCounts
from autocoder.schema import PatchFields, TaskRow

PATCH_STATUSES = ("verified", "checked", "failed", "unverified")
TASK_STATUSES = ("pending", "running", "completed", "failed")  # as this worker's rows left them


class ImplementationInsights:
    def __init__(self, state: dict[str, Any]) -> None:
        self.counts = IterationCounts(state)
        self.taken: dict[str, int] = dict(state.get("taken", {}))  # item id -> iteration
        self.finished: dict[str, int] = dict(state.get("finished", {}))
        self.retired: dict[str, int] = {str(k): v for k, v in state.get("retired", {}).items()}
        self.patches: dict[str, str] = dict(state.get("patches", {}))  # patch id -> status
        self.published: dict[str, str] = dict(state.get("published", {}))  # patch id -> url
        self.tasks: dict[str, str] = dict(state.get("tasks", {}))  # task id -> status

    def apply(
        self,
        iteration: int,
        perspective: Perspective,
        status: str,
        result: PerspectiveResult | None,
    ) -> None:
        self.counts.count(iteration, perspective, status)
        if status != "ok" or result is None:
            return
        item = result.details.get("item_id")
        if perspective.id == "deep_understanding" and item:
            self.taken.setdefault(item, iteration)
            self.retired[str(iteration)] = int(result.metrics.get("items_retired", 0))
        if perspective.id == "implementation_plan" and item:
            self.finished.setdefault(item, iteration)
        for row in result.items:
            if isinstance(row, PatchFields):
                self.patches[row.id] = row.status
                if row.published_url:
                    self.published[row.id] = row.published_url
            elif isinstance(row, TaskRow):
                self.tasks[row.id] = row.status

    def summary(self) -> dict[str, Any]:
        by_status, tasks = Counter(self.patches.values()), Counter(self.tasks.values())
        return {
            **self.counts.summary(),
            "items_taken": len(self.taken),
            "items_finished": len(self.finished),
            "items_retired": sum(self.retired.values()),
            "patches_total": len(self.patches),
            **{f"patches_{s}": by_status[s] for s in PATCH_STATUSES},
            "patches_published": len(self.published),
            "tasks_total": len(self.tasks),
            **{f"tasks_{s}": tasks[s] for s in TASK_STATUSES},
        }

    def to_state(self) -> dict[str, Any]:
        return {
            **self.counts.to_state(),
            "taken": self.taken,
            "finished": self.finished,
            "retired": self.retired,
            "patches": self.patches,
            "published": self.published,
            "tasks": self.tasks,
        }
