"""The worker page, its ``GET /health`` and the dashboard judge recent iterations by one rule."""

from __future__ import annotations

import pytest

from autocoder.apps.dashboard.health import failing
from autocoder.apps.views import iterations_health

CASES = [
    [],
    ["error"],
    ["error", "error"],
    ["ok"] * 8 + ["error"] * 2,
    ["error"] * 3,
    ["ok"] * 7 + ["error"] * 3,
    ["error", "ok"] * 3 + ["error"],
    ["error"] * 6 + ["ok"] * 4,
    ["error"] * 5 + ["ok"] * 5,
    ["error"] * 8 + ["ok"] * 10,
    ["skipped"] * 10,
]


@pytest.mark.parametrize("statuses", CASES)
def test_the_worker_page_and_the_dashboard_agree_on_failing(statuses: list[str]) -> None:
    page = iterations_health(statuses)
    dashboard = failing([(status, f"e{i}") for i, status in enumerate(statuses)])
    assert (page.word != "ok") == (dashboard is not None)
    if dashboard is not None:
        assert page.reason is not None and dashboard.startswith(page.reason + ": ")


def test_the_dashboard_quotes_the_newest_error() -> None:
    statuses = [("ok", None)] * 5 + [("error", "old"), ("error", "mid"), ("error", "newest")]
    assert failing(statuses) == "the last 3 iterations failed: newest"
