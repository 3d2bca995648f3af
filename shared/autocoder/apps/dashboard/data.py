"""The dashboard's data: one :class:`Snapshot` cache shared by every visitor, updated incrementally.

Each refresh polls every worker's :class:`DatasetTail` (only new shards are read) and folds the
new records into compact aggregates (:class:`WorkerHistory`): never a re-scan of the history.
A refresh less than ``min_refresh_s`` after the last returns the cached snapshot, since every open
tab runs its own timer. A worker whose dataset cannot be read keeps its last good view, judged at
the time of that read, with "showing data as of ..." in ``problems``.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from autocoder.apps.dashboard.health import DAY_S, Ping, banner, error_rate, worker_status
from autocoder.apps.dashboard.model import (
    FINDING_COLUMNS,
    MetricCounts,
    Snapshot,
    WorkerSource,
    WorkerStatus,
    WorkerView,
)
from autocoder.apps.dashboard.pings import ping_all
from autocoder.apps.dashboard.sources import tail_for, worker_sources
from autocoder.errors import StoreError
from autocoder.schema import SEVERITIES, severity_rank, utc_timestamp
from autocoder.settings import Settings
from autocoder.store.dataset import HubDataset
from autocoder.store.locate import hub_token
from autocoder.store.tail import DatasetTail

Pinger = Callable[[dict[str, str]], Coroutine[Any, Any, dict[str, Ping]]]
Clock = Callable[[], datetime]
HOUR_S = 3600.0
WEEK_S = 7 * DAY_S
ROWS_PER_PASS = 100  # latest findings kept per perspective (its newest pass), most severe first
LATEST_ROWS = 500
COMMITS_SHOWN = 20
SERIES_POINTS = 500


def finding_row(row: dict[str, Any]) -> dict[str, Any]:
    """A ``findings`` config row as a row of the latest findings table."""
    named = {**row, "perspective": row["perspective_name"]}
    return {key: named[key] for key in FINDING_COLUMNS}


def utc_now() -> datetime:
    return datetime.now(UTC)


def slim_record(record: dict[str, Any]) -> dict[str, Any]:
    """What the dashboard keeps of a record: no summaries, top findings, metrics or details."""
    analysis = record.get("analysis") or {}
    keep = {k: analysis[k] for k in ("findings_by_severity",) if k in analysis}
    return {**record, "analysis": keep}


@dataclass
class WorkerHistory:
    """One worker's records folded into compact aggregates, updated with each poll's new records.

    Bounded: error statuses of the last 24 h, iterations per hour and spec counts of the last
    7 days, findings by severity of the newest pass per perspective for the newest 20 commits,
    and the rows of the newest pass of each perspective.
    """

    source: WorkerSource
    tail: DatasetTail
    exists: bool | None = None  # None until a read succeeds
    read_at: datetime | None = None  # the last successful read
    error: str | None = None  # why the last read failed, None when it worked
    newest: dict[str, Any] | None = None
    recent: deque[tuple[float, str]] = field(default_factory=deque)  # (epoch, status), 24 h
    hours: Counter[int] = field(default_factory=Counter)  # epoch hour -> iterations
    by_commit: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    specs: deque[tuple[float, str, int, int]] = field(default_factory=deque)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # perspective -> rows
    problems: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    version: int = 0  # changes whenever the chart series change

    def poll(self, now: datetime) -> None:
        try:
            update = self.tail.poll()
        except StoreError as e:
            kind = "Hub error" if isinstance(self.tail.source, HubDataset) else "Read error"
            self.error = f"{kind} reading {self.source.name} ({self.source.location}): {e}"
            return
        self.error, self.read_at = None, now
        if self.exists and not update.exists:
            self._clear()
        self.exists = update.exists
        self.problems.extend(update.problems)
        for record in update.new_records:
            self._add(record)
        self._take_rows(update.new_records, update.new_rows)
        self.version += bool(update.new_records)
        self._prune(now.timestamp())

    def _clear(self) -> None:
        self.newest = None
        for box in (self.recent, self.hours, self.by_commit, self.specs, self.rows):
            box.clear()
        self.version += 1

    def _add(self, record: dict[str, Any]) -> None:
        moment = datetime.fromisoformat(record["timestamp"]).timestamp()
        self.newest = record
        self.recent.append((moment, record["status"]))
        self.hours[int(moment // HOUR_S)] += 1
        by_severity = (record.get("analysis") or {}).get("findings_by_severity")
        charts = self.source.worker.charts
        if "findings_by_commit" in charts and record["status"] == "ok" and by_severity:
            commit = record["target"]["commit"] or "unknown"
            self.by_commit.setdefault(commit, {})[record["perspective_name"]] = by_severity
            while len(self.by_commit) > COMMITS_SHOWN:
                del self.by_commit[next(iter(self.by_commit))]
        insights = record.get("cumulative_insights") or {}
        if "specs_over_time" in charts and "test_specs_total" in insights:
            counts = (insights["test_specs_total"], insights.get("test_specs_active", 0))
            self.specs.append((moment, record["timestamp"], *counts))

    def _take_rows(
        self, records: list[dict[str, Any]], new_rows: dict[str, list[dict[str, Any]]]
    ) -> None:
        """The rows of a perspective's newest pass replace those of its previous pass."""
        if not new_rows:
            return
        passes = {r["perspective_name"] for r in records if r["status"] == "ok"}
        fresh: dict[str, list[dict[str, Any]]] = {p: [] for p in passes}
        as_finding = self.source.worker.table_rows
        for config, rows in new_rows.items():
            for row in rows:
                shown = finding_row(as_finding[config](row))
                fresh.setdefault(row["perspective_name"], []).append(shown)
        for perspective, rows in fresh.items():
            rows.sort(key=lambda r: (severity_rank(r["severity"]), r["file"], r["line"]))
            self.rows[perspective] = rows[:ROWS_PER_PASS]

    def _prune(self, now: float) -> None:
        while self.recent and self.recent[0][0] < now - DAY_S:
            self.recent.popleft()
        old = len(self.specs) + len(self.hours)
        while self.specs and self.specs[0][0] < now - WEEK_S:
            self.specs.popleft()
        for hour in [h for h in self.hours if h < (now - WEEK_S) // HOUR_S]:
            del self.hours[hour]
        self.version += old != len(self.specs) + len(self.hours)


def series(histories: list[WorkerHistory]) -> dict[str, Any]:
    """The chart series and the latest findings table of the snapshot."""
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
    rows = [r for h in histories for pass_rows in h.rows.values() for r in pass_rows]
    rows.sort(key=lambda r: (r["timestamp"], -severity_rank(r["severity"])), reverse=True)
    return {
        "iterations_per_hour": per_hour,
        "findings_by_commit": by_commit,
        "specs_over_time": specs,
        "latest_findings": rows[:LATEST_ROWS],
    }


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
            now = self.clock()
            answers = pings.result() if pings is not None else {}
            self.snapshot, self._built_at = self._build(now, answers), now
            return self.snapshot

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
            **self._cached_series(),
        )
