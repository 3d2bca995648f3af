"""One rule for "are this worker's iterations failing?", used by the worker page, its
``GET /health`` and the dashboard, so the three never disagree.

Only the last ten iterations count. A worker is degraded when its last three failed, or when
more than half of the last ten did (three at least: two early failures of a new worker are not
yet a pattern); down when every one of them failed (three at least). A skipped iteration is not
a failure: it says why in its record and the loop is healthy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

RECENT = 10  # the window of "more than half of the last ten failed"
IN_A_ROW = 3  # "the last three failed", and the fewest failures that make a pattern

Outcome = tuple[str, str | None]  # (status, error message), oldest first


@dataclass(frozen=True)
class IterationHealth:
    """The recent iterations in one word, why (``the last 3 iterations failed``) and the newest
    error message, if any."""

    word: Literal["ok", "degraded", "down"]
    reason: str | None = None
    newest_error: str | None = None


def _failures_in_a_row(window: Sequence[Outcome]) -> int:
    count = 0
    for status, _error in reversed(window):
        if status != "error":
            break
        count += 1
    return count


def _failed(count: int, of: int) -> str:
    if count == of:
        return "the last iteration failed" if count == 1 else f"the last {count} iterations failed"
    return f"{count} of the last {of} iterations failed"


def judge(outcomes: Sequence[Outcome]) -> IterationHealth:
    """Apply the rule to ``(status, error)`` pairs, oldest first."""
    window = list(outcomes)[-RECENT:]
    errors = [error for status, error in window if status == "error"]
    newest = (errors[-1] or None) if errors else None
    in_a_row = _failures_in_a_row(window)
    if len(errors) >= IN_A_ROW and len(errors) == len(window):
        return IterationHealth("down", _failed(len(errors), len(window)), newest)
    if in_a_row >= IN_A_ROW:
        return IterationHealth("degraded", _failed(in_a_row, in_a_row), newest)
    if len(errors) >= IN_A_ROW and len(errors) * 2 > len(window):
        return IterationHealth("degraded", _failed(len(errors), len(window)), newest)
    return IterationHealth("ok")
