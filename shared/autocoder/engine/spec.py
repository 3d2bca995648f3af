"""What makes a worker a worker: its description (:class:`WorkerInfo`), perspectives, insights."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from autocoder.engine.perspective import Perspective, PerspectiveResult, Registry
from autocoder.errors import ConfigError
from autocoder.schema import RECORDS, DatasetConfig, Record


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
TableRow = Callable[[dict[str, Any]], dict[str, Any]]
REASON_KEY = "reason"  # the ``analysis`` key that says why an iteration was skipped or failed


def as_finding(row: dict[str, Any]) -> dict[str, Any]:
    """A row that already has a severity, a rule and a message (the ``findings`` config)."""
    return row


@dataclass(frozen=True)
class MetricTable:
    """Counts from the newest record's ``cumulative_insights`` that the dashboard shows.

    ``insight`` names one nested count dict (``unique_findings_by_severity``); ``keys`` names
    scalar counts instead. ``summary_key`` is where ``GET /api/summary`` puts them.
    """

    title: str
    summary_key: str
    insight: str | None = None
    keys: tuple[str, ...] = ()
    order: tuple[str, ...] = ()  # shown first, in this order; the rest by count

    def counts(self, insights: dict[str, Any]) -> dict[str, int]:
        if self.insight is not None:
            return dict(insights.get(self.insight) or {})
        return {key: insights[key] for key in self.keys if key in insights}


@dataclass(frozen=True)
class PageTable:
    """The table of the worker page: rows of the newest record's ``analysis[record_key]``."""

    label: str  # "Top findings"
    record_key: str  # "top_findings"
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CodeViewer:
    """A picker over the newest iteration's rows of ``config`` and the code of the one picked.

    Its API names are ``{api}_choices`` and ``{api}_code``.
    """

    config: DatasetConfig
    title: str  # "Test code of the latest specifications"
    label: str  # "Specification"
    api: str  # "spec"
    choice: Callable[[dict[str, Any]], str]  # a row's label in the picker
    code_field: str = "test_code"
    key_field: str = "id"
    language: str = "python"
    code_label: str = "pytest"


@dataclass(frozen=True)
class WorkerInfo:
    """What the CLI, the dashboard, the worker page, ``up`` and ``deploy`` know of a worker.

    Cheap to import: no perspective is loaded until :meth:`spec` is called. ``load`` is the
    ``module:function`` that builds the :class:`WorkerSpec`; None for a worker whose dataset the
    dashboard already shows but that has no app yet.
    """

    name: str  # "analysis": used in CLI commands, records and AUTOCODER_WORKER_URLS
    title: str  # "Analysis Worker"
    dataset: str  # "autocoder-analysis-results"
    description: str  # first paragraph of the dataset card
    default_interval_s: float
    space: str  # Space name: https://{owner}-{space}.hf.space
    folder: str  # the Space folder in this repository: "1_analysis_worker"
    configs: tuple[DatasetConfig, ...]  # RECORDS first, then the extra configs
    table_rows: Mapping[str, TableRow] = field(default_factory=dict)  # config -> findings row
    table_titles: Mapping[str, str] = field(default_factory=dict)  # config -> dashboard tab
    metrics: tuple[MetricTable, ...] = ()
    charts: frozenset[str] = frozenset()  # "findings_by_commit", "specs_over_time"
    page_table: PageTable | None = None
    code_viewer: CodeViewer | None = None
    load: str | None = None

    @property
    def extra_configs(self) -> tuple[DatasetConfig, ...]:
        return tuple(c for c in self.configs if c is not RECORDS)

    @property
    def tabled_configs(self) -> tuple[DatasetConfig, ...]:
        """The extra configs whose rows the dashboard shows as findings (``table_rows``); a
        config of another shape (tasks, one row per state) is read its own way."""
        return tuple(c for c in self.extra_configs if c.name in self.table_rows)

    @property
    def runnable(self) -> bool:
        return self.load is not None

    def spec(self) -> WorkerSpec:
        """The full spec (perspectives included), imported on first use."""
        if self.load is None:
            raise ConfigError(f"the {self.name} worker has no implementation in this version")
        module, _, function = self.load.partition(":")
        build: Callable[[], WorkerSpec] = getattr(importlib.import_module(module), function)
        return build()


@dataclass(frozen=True)
class WorkerSpec:
    """A worker ready to run: its description plus perspectives, insights and row builders."""

    info: WorkerInfo
    registry: Registry
    new_insights: Callable[[dict[str, Any]], Insights]
    item_rows: ItemRows
    record_analysis: Callable[[PerspectiveResult], dict[str, Any]]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def dataset(self) -> str:
        return self.info.dataset

    @property
    def description(self) -> str:
        return self.info.description

    @property
    def configs(self) -> tuple[DatasetConfig, ...]:
        return self.info.configs

    @property
    def default_interval_s(self) -> float:
        return self.info.default_interval_s

    def analysis_of(self, result: PerspectiveResult | None, reason: str = "") -> dict[str, Any]:
        """The record's ``analysis``, with the same keys whatever the iteration's status.

        A skipped or failed iteration has no result, so its ``analysis`` is what this worker's
        ``record_analysis`` makes of an empty one (empty values of the same types as a full one,
        so ``load_dataset`` reads every shard alike) plus the ``reason``; an ok one has
        ``reason`` "". ``details`` is always there (``{}`` when the perspective has none), so
        ``latest["analysis"]["summary"]`` and the like never raise on any record.
        """
        shown = self.record_analysis(PerspectiveResult(summary="") if result is None else result)
        return {**shown, "details": shown.get("details", {}), REASON_KEY: reason}


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
