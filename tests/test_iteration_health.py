"""The worker page, its ``GET /health`` and the dashboard judge recent iterations by one rule."""

from __future__ import annotations

import pytest

from autocoder.apps.dashboard.health import banner, failing
from autocoder.apps.dashboard.model import WorkerView
from autocoder.apps.iteration_health import judge
from autocoder.apps.views import iterations_health

CASES = [
    ([], "ok", None),
    (["error"], "ok", None),  # one or two early failures are not yet a pattern
    (["error", "error"], "ok", None),
    (["ok"] * 8 + ["error"] * 2, "ok", None),
    (["error"] * 3, "down", "the last 3 iterations failed"),
    (["ok"] * 7 + ["error"] * 3, "degraded", "the last 3 iterations failed"),
    (["error", "ok"] * 3 + ["error"], "degraded", "4 of the last 7 iterations failed"),
    (["error"] * 6 + ["ok"] * 4, "degraded", "6 of the last 10 iterations failed"),
    (["error"] * 5 + ["ok"] * 5, "ok", None),  # half is not more than half
    (["error"] * 8 + ["ok"] * 10, "ok", None),  # only the last ten count
    (["ok"] * 5 + ["error"] * 10, "down", "the last 10 iterations failed"),
    (["skipped"] * 10, "ok", None),  # a skip says why in its record; the loop is healthy
]


@pytest.mark.parametrize(("statuses", "word", "reason"), CASES)
def test_recent_iterations_are_judged_by_the_stated_rule(
    statuses: list[str], word: str, reason: str | None
) -> None:
    assert (
        judge([(s, None) for s in statuses]).word,
        judge([(s, None) for s in statuses]).reason,
    ) == (word, reason)
    assert iterations_health(statuses).word == word  # the worker page and its /health
    said = failing([(status, f"e{i}") for i, status in enumerate(statuses)])
    assert (said is None) == (word == "ok")  # the dashboard's worker row
    if said is not None:
        newest = max(i for i, status in enumerate(statuses) if status == "error")
        assert said == f"{reason}: e{newest}"  # quoting the newest error


def _online(statuses: list[str]) -> WorkerView:
    outcomes = [(status, "boom") for status in statuses]
    return WorkerView(
        "analysis", "Analysis Worker", "", "online", "on time", len(statuses), None, None,
        None, None, 60.0, failing=failing(outcomes), iterations_down=judge(outcomes).word == "down",
    )  # fmt: skip


@pytest.mark.parametrize(("statuses", "word", "_reason"), CASES)
def test_the_dashboard_banner_agrees_with_the_worker_page(
    statuses: list[str], word: str, _reason: str | None
) -> None:
    expected = {"ok": "All Systems Operational", "degraded": "Degraded", "down": "Down"}[word]
    assert banner([_online(statuses)])[0] == expected
