"""The daily token budget (AUTOCODER_LLM_DAILY_TOKENS) and :func:`ask`, the one way to call a model.

The budget counts the tokens of the current UTC day and refuses the next call once they reach
the limit, so a worker looping all day costs at most about a day's budget (the last call may
overshoot by its own size: its cost is known only after it). The worker keeps
:meth:`TokenBudget.to_state` in its state, so a restart does not hand out a fresh budget.
A failed call is not charged: its cost is unknown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta

from autocoder.errors import ConfigError, LLMBudgetSpent
from autocoder.llm.client import ChatModel, Completion

log = logging.getLogger("autocoder.llm")

BUDGET_VAR = "AUTOCODER_LLM_DAILY_TOKENS"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class TokenBudget:
    """Tokens used today (UTC) against ``daily_tokens``; ``clock`` is injectable for tests."""

    def __init__(
        self, daily_tokens: int, *, day: date | None = None, used: int = 0, clock: Clock = utc_now
    ) -> None:
        if daily_tokens < 0:
            raise ConfigError(
                f"{BUDGET_VAR}={daily_tokens!r} is negative; use 0 (no calls) or more"
            )
        self.daily_tokens = daily_tokens
        self._clock = clock
        self._day = day or self._today()
        self._used = max(used, 0)
        self._lock = threading.Lock()

    @classmethod
    def from_state(
        cls, state: Mapping[str, object] | None, daily_tokens: int, *, clock: Clock = utc_now
    ) -> TokenBudget:
        """The budget kept by :meth:`to_state`; a missing or unreadable state starts at 0."""
        state = state or {}
        day, used = state.get("day"), state.get("used")
        try:
            kept_day = date.fromisoformat(day) if isinstance(day, str) else None
        except ValueError:
            kept_day = None
        if kept_day is None or not isinstance(used, int) or isinstance(used, bool):
            return cls(daily_tokens, clock=clock)
        return cls(daily_tokens, day=kept_day, used=used, clock=clock)

    def to_state(self) -> dict[str, object]:
        with self._lock:
            self._roll()
            return {"day": self._day.isoformat(), "used": self._used}

    def __repr__(self) -> str:
        return f"TokenBudget({self.used} of {self.daily_tokens} tokens used on {self._day})"

    @property
    def used(self) -> int:
        """Tokens used today."""
        with self._lock:
            self._roll()
            return self._used

    @property
    def remaining(self) -> int:
        return max(self.daily_tokens - self.used, 0)

    def resets_at(self) -> datetime:
        """The next UTC midnight, when the count starts again at 0."""
        return datetime.combine(self._today() + timedelta(days=1), time(0), tzinfo=UTC)

    def check(self) -> None:
        """Raise :class:`LLMBudgetSpent` when no token is left today."""
        if self.remaining > 0:
            return
        resets = self.resets_at()
        if self.daily_tokens == 0:
            raise LLMBudgetSpent(
                f"{BUDGET_VAR}=0 allows no model calls; set it above 0 to use the model", resets
            )
        left = resets - self._clock()
        hours, minutes = divmod(max(int(left.total_seconds()) // 60, 1), 60)
        raise LLMBudgetSpent(
            f"the daily token budget {BUDGET_VAR}={self.daily_tokens} is spent for today "
            f"({self.used} tokens used on {self._day} UTC); it resets at "
            f"{resets:%Y-%m-%d %H:%M} UTC (in {hours} h {minutes} min): wait, or raise "
            f"{BUDGET_VAR}",
            resets,
        )

    def charge(self, completion: Completion) -> None:
        """Count the tokens of one answer."""
        with self._lock:
            self._roll()
            self._used += completion.total_tokens

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def _roll(self) -> None:
        """A new UTC day starts at 0 (a clock set back keeps the later day's count)."""
        today = self._today()
        if today > self._day:
            self._day, self._used = today, 0


def ask(
    model: ChatModel, budget: TokenBudget, system: str, user: str, *, max_tokens: int
) -> Completion:
    """One model call inside the budget: refused (LLMBudgetSpent) before any request when the
    day's tokens are spent, charged after. Every failure is an LLMError."""
    budget.check()
    completion = model.complete(system, user, max_tokens=max_tokens)
    budget.charge(completion)
    log.info(
        "%s answered: %d prompt + %d completion tokens; %d of %s=%d left today",
        model.where,
        completion.prompt_tokens,
        completion.completion_tokens,
        budget.remaining,
        BUDGET_VAR,
        budget.daily_tokens,
    )
    return completion
