"""How long to wait before trying the Hub again, and when to stop, as tenacity strategies.

Every retry of a Hub call (a push in :class:`~autocoder.store.hub.HubSync`, opening the Hub at a
worker's start-up) waits the longer of what the Hub asked for (``Retry-After``, carried by
:class:`HubUnavailable`) and an exponential backoff: a rate limit is honoured exactly, and an
outage is not hammered. Only :class:`HubUnavailable` is retried; a refused token is not.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tenacity import RetryCallState, retry_if_exception_type
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential

from autocoder.errors import HubUnavailable

retry_outages = retry_if_exception_type(HubUnavailable)


def failure(retry_state: RetryCallState) -> BaseException | None:
    """The exception of the attempt that just failed (None after a success)."""
    outcome = retry_state.outcome
    return outcome.exception() if outcome is not None and outcome.failed else None


class RetryAfterOrBackoff(wait_base):
    """``max(Retry-After, first_s * 2**(attempt - 1))``, the backoff capped at ``max_s``."""

    def __init__(self, first_s: float, max_s: float) -> None:
        self.first_s, self.max_s = first_s, max(max_s, first_s)
        self._backoff = wait_exponential(multiplier=first_s, min=first_s, max=self.max_s)

    def __repr__(self) -> str:
        return f"RetryAfterOrBackoff(first {self.first_s:g}s, at most {self.max_s:g}s)"

    def __call__(self, retry_state: RetryCallState) -> float:
        error = failure(retry_state)
        asked = error.retry_after_s if isinstance(error, HubUnavailable) else None
        return max(asked or 0.0, self._backoff(retry_state))


class StopBeforeDeadline(stop_base):
    """Give up when the next wait would end after ``give_up_at`` (on ``clock``): no pointless
    wait that a deadline cuts short."""

    def __init__(self, give_up_at: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.give_up_at, self.clock = give_up_at, clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.clock() + retry_state.upcoming_sleep > self.give_up_at


class StopAfterWaiting(stop_base):
    """Give up once the waits so far add up to ``total_s`` (time spent in attempts not counted).

    ``total_s=0`` gives up at the first failure.
    """

    def __init__(self, total_s: float) -> None:
        self.total_s = total_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for >= self.total_s
