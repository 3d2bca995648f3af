"""The dashboard's data: one :class:`Snapshot` cache shared by every visitor, updated incrementally.

Each refresh polls every worker's :class:`DatasetTail` (only new shards are read) and folds the
new records into compact aggregates (:class:`WorkerHistory`): never a re-scan of the history.
A refresh less than ``min_refresh_s`` after the last returns the cached snapshot, since every open
tab runs its own timer. A worker whose dataset cannot be read keeps its last good view, judged at
the time of that read, with "showing data as of ..." in ``problems``.

The traceability funnel is read off the workers' newest cumulative insights (``funnel.py``); the
tasks of the workers that take them come from a :class:`TaskBoard` each, which reads a task file
once and lists the tasks folder only when the dataset moved (``tasks.py``).
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from autocoder.apps.dashboard.funnel import funnel_stages
from autocoder.apps.dashboard.health import (
    Ping,
    banner,
    error_rate,
    failing,
    unreadable_shards,
    worker_status,
)
from autocoder.apps.dashboard.history import HOUR_S, WorkerHistory, slim_record, utc_now
from autocoder.apps.dashboard.model import (
    MetricCounts,
    Snapshot,
    WorkerSource,
    WorkerStatus,
    WorkerView,
)
from autocoder.apps.dashboard.pings import ping_all
from autocoder.apps.dashboard.sources import tail_for, worker_sources
from autocoder.apps.dashboard.tasks import TASKS_KEPT, TaskBoard, task_counts, task_dict
from autocoder.apps.iteration_health import judge
from autocoder.schema import SEVERITIES, TASKS, severity_rank, utc_timestamp
from autocoder.settings import Settings
from autocoder.store.locate import hub_token
from autocoder.store.tail import DatasetTail

# The old home of the history; tests and benches import it from here.
__all__ = ["DashboardData", "WorkerHistory", "series", "slim_record"]

Pinger = Callable[[dict[str, str]], Coroutine[Any, Any, dict[str, Ping]]]
Clock = Callable[[], datetime]
LATEST_ROWS = 500
SERIES_POINTS = 500


def _latest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The most severe first, then the newest: one pass full of low findings does not push the
    high ones of other perspectives off the first page."""
    rows = sorted(rows, key=lambda r: r["timestamp"], reverse=True)
    rows.sort(key=lambda r: severity_rank(r["severity"]))
    return rows[:LATEST_ROWS]


def series(histories: list[WorkerHistory]) -> dict[str, Any]:
    """The chart series and the latest rows of each config (each a table of the page)."""
    per_hour = [
        {"worker": h.source.name, "hour": datetime.fromtimestamp(hour * HOUR_S, UTC).isoformat(),
         "iterations": h.hours[hour]}
        for h in histories if h.hours for hour in range(min(h.hours), max(h.hours) + 1)
    ]  # fmt: skip
    by_commit = [
        {"commit": commit, "severity": s, "findings": sum(p.get(s, 0) for p in passes.values())}
        for h in histories for commit, passes in h.by_commit.items() for s in SEVERITIES
    ]  # fmt: skip
    points = [p for h in histories for p in h.specs]
    step = max(1, math.ceil(len(points) / SERIES_POINTS))
    specs = [
        {"timestamp": stamp, "test_specs_total": total, "test_specs_active": active}
        for _, stamp, total, active in points[::-step][::-1]
    ]
    latest = _latest_by_config(histories)
    return {
        "iterations_per_hour": per_hour,
        "findings_by_commit": by_commit,
        "specs_over_time": specs,
        "latest_findings": latest.get("findings", []),
        "latest_specs": latest.get("specs", []),
        "latest": latest,
    }


def _latest_by_config(histories: list[WorkerHistory]) -> dict[str, list[dict[str, Any]]]:
    """The latest rows of every worker, by the config they come from (each its own table)."""
    by_config: dict[str, list[dict[str, Any]]] = {}
    for history in histories:
        for pass_rows in history.rows.values():
            for row in pass_rows:
                by_config.setdefault(row["config"], []).append(row)
    return {config: _latest(rows) for config, rows in by_config.items()}


class DashboardData:
    """Call :meth:`refresh` (or ``await refresh_async()``) from any number of tabs."""

    def __init__(
        self,
        sources: list[WorkerSource],
        *,
        token: str | None = None,
        clock: Clock = utc_now,
        pinger: Pinger | None = None,
        min_refresh_s: float = 5.0,
        tails: dict[str, DatasetTail] | None = None,
    ) -> None:
        tails = tails or {}
        self.histories = [
            WorkerHistory(s, tails.get(s.name) or tail_for(s, token, slim_record)) for s in sources
        ]
        # The workers that take tasks (their datasets have the tasks config): a board each.
        self.boards = {
            h.source.name: TaskBoard(h.tail.source)
            for h in self.histories if TASKS in h.source.worker.configs
        }  # fmt: skip
        self.clock = clock
        self.pinger: Pinger = pinger or (lambda urls: ping_all(urls, token=token))
        self.min_refresh_s = min_refresh_s
        self.snapshot: Snapshot | None = None
        self._built_at: datetime | None = None
        self._lock = threading.Lock()
        self._pings = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dashboard-pings")
        self._series: tuple[tuple[int, ...], dict[str, Any]] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, worker_urls: str | None = None, hub: bool | None = None,
        **options: Any,
    ) -> DashboardData:  # fmt: skip
        sources = worker_sources(settings, worker_urls, hub)
        return cls(sources, token=hub_token(settings), **options)

    def refresh(self) -> Snapshot:
        """The current snapshot: cached when younger than ``min_refresh_s``, else read anew."""
        cached = self._fresh()
        return cached if cached is not None else self._refresh(self._start_pings())

    async def refresh_async(self) -> Snapshot:
        """:meth:`refresh` with the blocking reads in a thread, so the event loop stays free."""
        cached = self._fresh()
        if cached is not None:
            return cached
        return await asyncio.to_thread(self._refresh, self._start_pings())

    def close(self) -> None:
        self._pings.shutdown(wait=False, cancel_futures=True)

    def _fresh(self) -> Snapshot | None:
        if self.snapshot is None or self._built_at is None:
            return None
        age = (self.clock() - self._built_at).total_seconds()
        return self.snapshot if 0 <= age < self.min_refresh_s else None

    def _start_pings(self) -> Future[dict[str, Ping]] | None:
        """The workers' ``/health`` pings, running in their own thread while the tails are read."""
        urls = {h.source.name: h.source.space_url for h in self.histories if h.source.space_url}
        if not urls:
            return None
        return self._pings.submit(asyncio.run, self.pinger(urls))

    def _refresh(self, pings: Future[dict[str, Ping]] | None) -> Snapshot:
        with self._lock:
            cached = self._fresh()
            if cached is not None:  # another tab refreshed while this one waited
                return cached
            for history in self.histories:
                history.poll(self.clock())
            self._read_tasks()
            now = self.clock()
            answers = pings.result() if pings is not None else {}
            self.snapshot, self._built_at = self._build(now, answers), now
            return self.snapshot

    def _read_tasks(self) -> None:
        """Each board at the dataset version its tail just saw; one whose tail failed keeps
        the tasks it had (its worker's problem says why)."""
        for history in self.histories:
            board = self.boards.get(history.source.name)
            if board is not None and history.error is None:
                board.read(history.tail.head if history.exists else None)

    def _tasks(self) -> dict[str, Any]:
        """The snapshot's tasks: every board's, newest first, with the counts and sources."""
        titled = [
            (task, h.source.title)
            for h in self.histories if h.source.name in self.boards
            for task in self.boards[h.source.name].tasks
        ]  # fmt: skip
        titled.sort(key=lambda pair: (pair[0].updated_at, pair[0].id), reverse=True)
        return {
            "tasks": [task_dict(task, title) for task, title in titled[:TASKS_KEPT]],
            "task_counts": task_counts([task for task, _ in titled]),
            "task_sources": [h.source.title for h in self.histories
                             if h.source.name in self.boards and h.exists],
        }  # fmt: skip

    def _view(self, history: WorkerHistory, now: datetime, ping: Ping | None) -> WorkerView:
        source, newest = history.source, history.newest
        at = now if history.error is None else (history.read_at or now)
        status: WorkerStatus
        if history.exists is None:
            status, reason = "offline", f"the dataset could not be read: {history.error}"
        else:
            moment = datetime.fromisoformat(newest["timestamp"]) if newest else None
            status, reason = worker_status(history.exists, moment, source.interval_s, at, ping)
        return WorkerView(
            name=source.name,
            title=source.title,
            location=source.location,
            status=status,
            reason=reason,
            iterations=history.tail.last_iteration,
            last_updated=newest["timestamp"] if newest else None,
            current_perspective=newest["perspective_name"] if newest else None,
            error_rate_24h=error_rate(history.recent, at.timestamp()),
            space_url=source.space_url,
            interval_s=source.interval_s,
            failing=failing(history.outcomes),
            iterations_down=judge(history.outcomes).word == "down",
            damaged=unreadable_shards(history.bad_shards),
            last_error=history.last_error[1] if history.last_error else None,
            last_error_at=history.last_error[0] if history.last_error else None,
        )

    def _metrics(self) -> list[MetricCounts]:
        """Each worker's metrics tables, from its newest record's cumulative insights."""
        tables = []
        for history in self.histories:
            insights = (history.newest or {}).get("cumulative_insights") or {}
            tables += [
                MetricCounts(t.title, t.summary_key, t.counts(insights), t.order or t.keys)
                for t in history.source.worker.metrics
            ]
        return tables

    def _cached_series(self) -> dict[str, Any]:
        key = tuple(h.version for h in self.histories)
        if self._series is None or self._series[0] != key:
            self._series = (key, series(self.histories))
        return self._series[1]

    def _build(self, now: datetime, pings: dict[str, Ping]) -> Snapshot:
        views = [self._view(h, now, pings.get(h.source.name)) for h in self.histories]
        state, detail, online, expected = banner(views)
        read = [h.read_at for h in self.histories if h.read_at is not None]
        as_of = utc_timestamp(min(read)) if read else None
        problems = [p for h in self.histories for p in h.problems]
        for board in self.boards.values():
            problems += [*board.problems, *([board.error] if board.error else [])]
        for h in self.histories:
            if h.error is not None:
                when = utc_timestamp(h.read_at) if h.read_at else "never"
                problems.append(f"{h.error}; showing data as of {when}")
        stamps = [v.last_updated for v in views if v.last_updated]
        return Snapshot(
            banner=state,
            banner_detail=detail,
            online=online,
            expected=expected,
            newest_iteration_at=max(stamps) if stamps else None,
            workers=views,
            metrics=self._metrics(),
            data_as_of=as_of,
            problems=problems,
            skipped=[run for h in self.histories for run in h.skipped.values()],
            funnel=funnel_stages(self.histories),
            **self._tasks(),
            **self._cached_series(),
        )
