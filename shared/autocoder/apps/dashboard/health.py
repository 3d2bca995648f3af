"""Health rules of the dashboard, as pure functions of the data and an injected ``now``.

A worker is *online* when its newest record is at most 2 intervals old, *stale* up to 10,
*offline* beyond; *not deployed* when its dataset does not exist (and its ``/health`` does not
answer), *waiting for first iteration* when the dataset exists without a record. A ``/health``
answer reporting an iteration completed within 2 intervals makes a stale or offline worker
online (the records may lag behind a batched Hub push); a failed ping is mentioned in the reason.

Expected workers are the deployed ones: every worker except those *not deployed*. The banner is
"All Systems Operational" when every expected worker is online, "Down" when none is, "Degraded"
otherwise, naming each worker that is not online and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from autocoder.apps.dashboard.model import Banner, WorkerStatus, WorkerView

ONLINE_INTERVALS = 2
STALE_INTERVALS = 10
DAY_S = 24 * 3600.0


@dataclass(frozen=True)
class Ping:
    """The answer of a worker's ``GET /health``: ``ok`` when it answered 200 with JSON."""

    ok: bool
    last_completed_at: datetime | None = None
    state: str | None = None
    error: str | None = None  # why it failed: "HTTP 503", "no answer within 3 s", ...


def ago(seconds: float) -> str:
    """A short relative age: "42 s ago", "25 min ago", "3 h ago", "2 d ago", "just now"."""
    if seconds < 1:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"


def _interval(interval_s: float) -> str:
    return f"interval {interval_s:g} s"


def _age_status(age_s: float, interval_s: float) -> WorkerStatus:
    if age_s <= ONLINE_INTERVALS * interval_s:
        return "online"
    return "stale" if age_s <= STALE_INTERVALS * interval_s else "offline"


def _ping_is_recent(ping: Ping | None, interval_s: float, now: datetime) -> bool:
    if ping is None or not ping.ok or ping.last_completed_at is None:
        return False
    return (now - ping.last_completed_at).total_seconds() <= ONLINE_INTERVALS * interval_s


def worker_status(
    exists: bool,
    newest: datetime | None,
    interval_s: float,
    now: datetime,
    ping: Ping | None = None,
) -> tuple[WorkerStatus, str]:
    """The status of one worker and one sentence saying why."""
    failed = f"; GET /health failed: {ping.error}" if ping and not ping.ok else ""
    if not exists:
        if ping and ping.ok:
            return "waiting for first iteration", "answers /health; no dataset written yet"
        return "not deployed", f"no dataset found{failed}"
    if newest is None:
        return "waiting for first iteration", f"dataset exists; no iteration recorded yet{failed}"
    age = max((now - newest).total_seconds(), 0.0)
    said = f"last iteration {ago(age)} ({_interval(interval_s)})"
    status = _age_status(age, interval_s)
    if status == "online":
        return status, said
    if _ping_is_recent(ping, interval_s, now):
        assert ping is not None and ping.last_completed_at is not None
        done = ago(max((now - ping.last_completed_at).total_seconds(), 0.0))
        return "online", f"{said}; /health reports an iteration completed {done}"
    return status, said + failed


def error_rate(
    records: Iterable[tuple[float, str]], now: float, window_s: float = DAY_S
) -> float | None:
    """Share of ``(epoch, status)`` records in the window whose status is "error"; None if none."""
    total = errors = 0
    for moment, status in records:
        if now - window_s <= moment:
            total += 1
            errors += status == "error"
    return errors / total if total else None


def banner(views: Sequence[WorkerView]) -> tuple[Banner, str, int, int]:
    """(banner, detail, online, expected): expected means deployed (dataset or /health found)."""
    expected = [v for v in views if v.status != "not deployed"]
    online = [v for v in expected if v.status == "online"]
    if not expected:
        return "Down", "no worker is deployed: no dataset found", 0, 0
    lagging = [v for v in expected if v.status != "online"]
    detail = "; ".join(f"{v.title} is {v.status}: {v.reason}" for v in lagging)
    if not lagging:
        return "All Systems Operational", "", len(online), len(expected)
    if not online:
        return "Down", detail, 0, len(expected)
    return "Degraded", detail, len(online), len(expected)
