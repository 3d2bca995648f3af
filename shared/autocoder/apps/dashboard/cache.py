"""The snapshot every tab shares: read from the data layer at most every few seconds, one read at
a time, in a thread, with its charts built once per snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from autocoder.apps.dashboard.charts import CHARTS
from autocoder.apps.dashboard.model import Snapshot

log = logging.getLogger("autocoder.dashboard")
CACHE_S = 3.0  # the data layer is asked at most this often, whatever the number of tabs


class SnapshotProvider(Protocol):
    """What the page needs from the data layer: a blocking read that returns the current view."""

    def refresh(self) -> Snapshot: ...


def unreadable(error: BaseException) -> Snapshot:
    """What to show when the very first read failed: everything down, and why."""
    reason = f"the datasets could not be read: {type(error).__name__}: {error}"
    return Snapshot(
        "Down", reason, 0, 0, None, [], [], [], [], [], [], None, [reason]
    )  # fmt: skip


@dataclass(frozen=True)
class Shown:
    """A snapshot with its charts, built once and shared by every tab."""

    snapshot: Snapshot
    figures: tuple[Any, ...]
    charts_key: int


def _charts_key(snapshot: Snapshot) -> int:
    return hash(repr((snapshot.iterations_per_hour, snapshot.findings_by_commit,
                      snapshot.specs_over_time, snapshot.funnel)))  # fmt: skip


class SharedSnapshot:
    """One cached :class:`Shown` for all visitors; a read at most every ``max_age_s``.

    While a read runs, other callers get the previous snapshot at once instead of waiting, so
    the page stays responsive; a failed read keeps the last good view and says so.
    """

    def __init__(
        self,
        provider: SnapshotProvider,
        max_age_s: float = CACHE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider, self.max_age_s, self.clock = provider, max_age_s, clock
        self.latest: Shown | None = None
        self._good: Snapshot | None = None  # the last snapshot the provider returned
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self.clock() - self._read_at < self.max_age_s

    async def get(self) -> Shown:
        if self.latest is not None and (self._fresh() or self._lock.locked()):
            return self.latest
        async with self._lock:
            if self.latest is None or not self._fresh():
                self.latest = await asyncio.to_thread(self._read, self.latest)
                self._read_at = self.clock()
        return self.latest

    def _snapshot(self) -> Snapshot:
        try:
            self._good = self.provider.refresh()
        except Exception as e:
            log.exception("the dashboard could not refresh its data")
            if self._good is None:
                return unreadable(e)
            problem = f"refresh failed ({type(e).__name__}: {e}); showing the last good data"
            return replace(self._good, problems=[*self._good.problems, problem])
        return self._good

    def _read(self, previous: Shown | None) -> Shown:
        snapshot = self._snapshot()
        key = _charts_key(snapshot)
        if previous is not None and previous.charts_key == key:
            return Shown(snapshot, previous.figures, key)
        return Shown(snapshot, tuple(chart(snapshot) for chart in CHARTS), key)
