"""What makes a worker a worker: its perspectives, dataset, configs and cumulative insights."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from autocoder.engine.perspective import Perspective, PerspectiveResult, Registry
from autocoder.schema import DatasetConfig, Record


class Insights(Protocol):
    """Cumulative insights over all iterations, persisted in the store's state and restored.

    ``apply`` must be idempotent for an iteration it has already seen (a crash between writing
    the state and the record makes the engine run that iteration again).
    """

    def apply(
        self,
        iteration: int,
        perspective: Perspective,
        status: str,
        result: PerspectiveResult | None,
    ) -> None: ...

    def summary(self) -> dict[str, Any]: ...

    def to_state(self) -> dict[str, Any]: ...


ItemRows = Callable[[Record, PerspectiveResult], dict[str, list[BaseModel]]]


@dataclass(frozen=True)
class WorkerSpec:
    name: str  # "analysis": used in CLI commands and records
    title: str  # "Analysis Worker"
    dataset: str  # "autocoder-analysis-results"
    description: str  # first paragraph of the dataset card
    registry: Registry
    configs: tuple[DatasetConfig, ...]
    default_interval_s: float
    new_insights: Callable[[dict[str, Any]], Insights]
    item_rows: ItemRows
    record_analysis: Callable[[PerspectiveResult], dict[str, Any]]


class IterationCounts:
    """Iterations by status and perspectives completed, counted once per iteration even when an
    iteration is applied twice (after a crash between writing the state and the record)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.counted_through: int = int(state.get("counted_through", 0))
        self.by_status: Counter[str] = Counter(state.get("iterations", {}))
        self.completed: set[str] = set(state.get("perspectives_completed", []))

    def count(self, iteration: int, perspective: Perspective, status: str) -> None:
        if iteration > self.counted_through:
            self.by_status[status] += 1
            self.counted_through = iteration
        if status == "ok":
            self.completed.add(perspective.name)

    def summary(self) -> dict[str, Any]:
        return {
            "iterations_completed": sum(self.by_status.values()),
            "iterations_ok": self.by_status["ok"],
            "iterations_error": self.by_status["error"],
            "iterations_skipped": self.by_status["skipped"],
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "counted_through": self.counted_through,
            "iterations": dict(self.by_status),
            "perspectives_completed": sorted(self.completed),
        }
