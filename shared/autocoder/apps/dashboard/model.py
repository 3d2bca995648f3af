"""What the dashboard shows, as plain data: the contract between its reader and its page.

The reader (``data.py``) builds a :class:`Snapshot` incrementally and caches it for every
visitor; the page (``app.py``) and ``GET /api/summary`` only render it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from autocoder.engine.spec import WorkerInfo
from autocoder.schema import RECORDS
from autocoder.workers import catalog

WorkerStatus = Literal["online", "stale", "offline", "not deployed", "waiting for first iteration"]
Banner = Literal["All Systems Operational", "Degraded", "Down"]

FINDING_COLUMNS = [
    "timestamp", "worker", "perspective", "severity", "file", "line", "rule", "message", "commit",
]  # fmt: skip


SUMMARY_FIELDS = (
    "name", "status", "reason", "iterations", "last_updated", "current_perspective",
    "error_rate_24h", "failing", "damaged", "last_error", "last_error_at",
)  # fmt: skip


@dataclass(frozen=True)
class WorkerSource:
    """Where one worker's dataset is and how often it should write."""

    name: str  # a catalog name, e.g. "analysis"
    title: str  # "Analysis Worker"
    dataset: str  # dataset name, e.g. "autocoder-analysis-results"
    interval_s: float  # the worker's iteration interval (health thresholds derive from it)
    location: str  # local folder path or Hub repo id ("USER/NAME")
    space_url: str | None = None  # the worker's Space / app URL, when known (pings GET /health)
    info: WorkerInfo | None = None  # its catalog entry (found by name when not given)

    @classmethod
    def of(cls, info: WorkerInfo, location: str, space_url: str | None = None) -> WorkerSource:
        return cls(
            info.name, info.title, info.dataset, info.default_interval_s, location, space_url, info
        )

    @property
    def worker(self) -> WorkerInfo:
        """What the catalog says of this worker: its extra configs, table rows, charts, metrics."""
        if self.info is not None:
            return self.info
        known = {info.name: info for info in catalog.workers()}
        if self.name in known:
            return known[self.name]
        return WorkerInfo(
            self.name, self.title, self.dataset, "", self.interval_s, self.name, self.name,
            (RECORDS,),
        )  # fmt: skip


@dataclass(frozen=True)
class WorkerView:
    name: str
    title: str
    location: str
    status: WorkerStatus
    reason: str  # one sentence, e.g. "last iteration 25 min ago; interval 60 s"
    iterations: int
    last_updated: str | None  # ISO timestamp of the newest record
    current_perspective: str | None
    error_rate_24h: float | None  # share of records with status "error" in the last 24 h
    space_url: str | None
    interval_s: float
    failing: str | None = None  # "the last 3 iterations failed: ..." (see health.failing)
    iterations_down: bool = False  # every recent iteration failed (iteration_health "down")
    damaged: str | None = None  # "1 unreadable shard data/records/..." (health.unreadable_shards)
    last_error: str | None = None  # the newest error message (redacted), whenever it was
    last_error_at: str | None = None  # ISO timestamp of the record that carried it


@dataclass(frozen=True)
class SkippedRun:
    """A perspective whose latest run was skipped, and the reason its record carries."""

    worker: str  # "Analysis Worker"
    perspective: str  # "Architecture Review"
    reason: str
    timestamp: str  # ISO timestamp of that record

    def summary(self) -> dict[str, str]:
        return {"worker": self.worker, "perspective": self.perspective, "reason": self.reason,
                "timestamp": self.timestamp}  # fmt: skip


@dataclass(frozen=True)
class MetricCounts:
    """One metrics table of the page: counts from a worker's newest cumulative insights."""

    title: str  # "Unique findings by severity"
    summary_key: str  # its key in GET /api/summary
    counts: dict[str, int]
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunnelStage:
    """One step of the traceability funnel: a count read off one worker's newest cumulative
    insights, what it counts, and why it is 0 when there was nothing to read."""

    key: str  # its key under "traceability" in GET /api/summary: "findings", "items_taken"...
    label: str  # "items taken"
    count: int
    counts: str  # what the number counts, in words
    note: str | None = None  # why there is no count: "no dataset found for the Analysis Worker"


@dataclass(frozen=True)
class Snapshot:
    banner: Banner
    banner_detail: str  # which worker and why, when not all operational
    online: int
    expected: int
    newest_iteration_at: str | None
    workers: list[WorkerView]
    metrics: list[MetricCounts]  # the tables each worker's catalog entry asks for, in order
    # Series for the charts, each a list of plain dict rows (JSON-friendly):
    iterations_per_hour: list[dict[str, Any]]  # {"worker", "hour" (ISO), "iterations"}
    findings_by_commit: list[dict[str, Any]]  # {"commit", "severity", "findings"}
    specs_over_time: list[dict[str, Any]]  # {"timestamp", "test_specs_total", "test_specs_active"}
    latest_findings: list[dict[str, Any]]  # rows with FINDING_COLUMNS keys, newest first
    data_as_of: str | None  # when the data was last read successfully (ISO)
    problems: list[str] = field(default_factory=list)  # corrupt shards skipped, Hub errors...
    skipped: list[SkippedRun] = field(default_factory=list)  # latest run skipped, per perspective
    latest_specs: list[dict[str, Any]] = field(default_factory=list)  # test specs, like findings
    # Every extra config's rows by config name ("findings", "specs", "patches"), like findings;
    # ``latest_findings`` and ``latest_specs`` are its first two, kept for their readers.
    latest: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    funnel: list[FunnelStage] = field(default_factory=list)  # findings -> ... -> published
    # Every task of the workers that take tasks, newest state each, newest first (TaskRow
    # fields plus "worker_title"); at most TASKS_KEPT, while ``task_counts`` counts them all.
    tasks: list[dict[str, Any]] = field(default_factory=list)
    task_counts: dict[str, int] = field(default_factory=dict)  # "total" and each status
    task_sources: list[str] = field(default_factory=list)  # titles of the workers read

    def summary(self) -> dict[str, Any]:
        """The overview numbers for ``GET /api/summary``."""
        return {
            "banner": self.banner,
            "detail": self.banner_detail,
            "online": self.online,
            "expected": self.expected,
            "newest_iteration_at": self.newest_iteration_at,
            "data_as_of": self.data_as_of,
            "workers": [{k: getattr(w, k) for k in SUMMARY_FIELDS} for w in self.workers],
            **{table.summary_key: table.counts for table in self.metrics},
            "problems": self.problems,
            "skipped_perspectives": [run.summary() for run in self.skipped],
            "traceability": self.traceability(),
            "tasks": self.task_counts,
        }

    def traceability(self) -> dict[str, Any]:
        """The funnel's counts by stage key, and the notes saying which are 0 for want of data."""
        notes = list(dict.fromkeys(stage.note for stage in self.funnel if stage.note))
        return {**{stage.key: stage.count for stage in self.funnel}, "notes": notes}

    @property
    def latest_by_config(self) -> dict[str, list[dict[str, Any]]]:
        """The latest rows of each config; those of a snapshot made with only the two named
        lists (an older reader, a test) under ``findings`` and ``specs``."""
        named = {"findings": self.latest_findings, "specs": self.latest_specs}
        return {**{config: rows for config, rows in named.items() if rows}, **self.latest}

    def rows_of(self, config: str) -> list[dict[str, Any]]:
        """The latest rows of one config, most severe first ([] when there are none)."""
        return self.latest_by_config.get(config, [])

    def counts(self, summary_key: str) -> dict[str, int]:
        """The counts of the metrics table with this summary key ({} when there is none)."""
        return next((t.counts for t in self.metrics if t.summary_key == summary_key), {})
