"""Health rules of the dashboard, as pure functions of the data and an injected ``now``.

A worker is *online* when its newest record is at most 2 intervals old, *stale* up to 10,
*offline* beyond; *not deployed* when its dataset does not exist (and its ``/health`` does not
answer), *waiting for first iteration* when the dataset exists without a record. A ``/health``
answer reporting an iteration completed within 2 intervals makes a stale or offline worker
online (the records may lag behind a batched Hub push); a failed ping is mentioned in the reason.

Expected workers are the deployed ones: every worker except those *not deployed*. A worker that
writes records on time can still be broken: it is *failing* when its recent iterations are errors
(more than half of the last ten, or the last three), and *damaged* when its dataset has
unreadable shards. The banner is "All Systems Operational" when every expected worker is online
and neither failing nor damaged, "Down" when every expected worker is offline, stale, waiting or
failing (nothing useful is being produced), "Degraded" otherwise; its detail names each worker
in trouble and why, in words, one line each ("Analysis: the last 3 iterations failed: target
'/nope' does not exist").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from autocoder.apps.dashboard.model import Banner, WorkerStatus, WorkerView
from autocoder.apps.iteration_health import judge
from autocoder.apps.timestamps import relative

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


def ago_seconds(seconds: float) -> str:
    """A short relative age of a non-negative duration: "42 s ago", "25 min ago", "just now"."""
    return relative(max(seconds, 0.0))


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
    said = f"last iteration {ago_seconds(age)} ({_interval(interval_s)})"
    status = _age_status(age, interval_s)
    if status == "online":
        return status, said
    if _ping_is_recent(ping, interval_s, now):
        assert ping is not None and ping.last_completed_at is not None
        done = ago_seconds(max((now - ping.last_completed_at).total_seconds(), 0.0))
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


def failing(outcomes: Sequence[tuple[str, str | None]]) -> str | None:
    """Why a worker's recent iterations count as failing (the rule of
    :mod:`autocoder.apps.iteration_health`), or None when they do not. The sentence quotes the
    newest error message: "the last 3 iterations failed: target '/nope' does not exist"."""
    judged = judge(outcomes)
    if judged.word == "ok":
        return None
    return f"{judged.reason}: {judged.newest_error or 'no error message recorded'}"


def unreadable_shards(paths: Sequence[str]) -> str | None:
    """ "1 unreadable shard data/records/0000/000000003.jsonl" (the first three named), or None."""
    if not paths:
        return None
    noun = "shard" if len(paths) == 1 else "shards"
    named = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return f"{len(paths)} unreadable {noun} {named}"


def short_title(title: str) -> str:
    """ "Test Planning Worker" -> "Test planning": how the banner names a worker."""
    words = title.removesuffix(" Worker").split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else title


def describe(view: WorkerView) -> str | None:
    """What is wrong with one worker, in words; None when nothing is.

    "Analysis is stale: last iteration 25 min ago (interval 60 s)", "Test planning: the last 3
    iterations failed: ...", or both, joined with "; ".
    """
    troubles = [trouble for trouble in (view.failing, view.damaged) if trouble]
    name = short_title(view.title)
    if view.status != "online":
        return "; ".join([f"{name} is {view.status}: {view.reason}", *troubles])
    return f"{name}: {'; '.join(troubles)}" if troubles else None


def _is_down(view: WorkerView) -> bool:
    """Offline, stale or waiting, or every recent iteration failed; a worker whose iterations
    fail only in part is degraded, as its own page says."""
    return view.status != "online" or view.iterations_down


def banner(views: Sequence[WorkerView]) -> tuple[Banner, str, int, int]:
    """(banner, detail, online, expected): expected means deployed (dataset or /health found)."""
    expected = [v for v in views if v.status != "not deployed"]
    online = [v for v in expected if v.status == "online"]
    if not expected:
        return "Down", "no worker is deployed: no dataset found", 0, 0
    detail = "\n".join(said for said in map(describe, expected) if said)  # a line per worker
    if not detail:
        return "All Systems Operational", "", len(online), len(expected)
    if all(_is_down(v) for v in expected):
        return "Down", detail, len(online), len(expected)
    return "Degraded", detail, len(online), len(expected)
