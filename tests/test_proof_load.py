"""The load proof in short form: a few viewers on the dashboard (a few hundred records) and on a
worker's page, each app in its own process on 127.0.0.1. Every request is answered 200 and the
figures (p50/p95 per route, memory, the worker loop's lateness) come out; the figures are
reported as proof rows, never asserted on. ``bench/proof.py`` runs the same bench at full size."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
from proof_load import measure_dashboard, measure_worker, rows_of  # noqa: E402
from proof_viewers import local_environment  # noqa: E402

from proofkit import proof_row  # noqa: E402

RECORDS, VIEWERS, ROUNDS = 300, 5, 3
Record = Callable[[str, object], None]


def report(record_property: Record, measured: dict[str, object]) -> list[dict[str, object]]:
    rows = rows_of(measured)
    for row in rows:
        proof_row(
            record_property, "load", str(row["check"]), str(row["result"]), str(row["figure"])
        )
    return rows


def answered_in_full(routes: list[dict[str, object]], each: int) -> None:
    for route in routes:
        assert route["errors"] == 0, route
        assert route["answered"] == each, route
        assert route["p50_ms"] is not None and route["p95_ms"] is not None, route


def test_every_viewer_request_to_the_dashboard_is_answered(
    record_property: Record, tmp_path: Path
) -> None:
    measured = measure_dashboard(RECORDS, VIEWERS, ROUNDS, tmp_path)
    routes = measured["routes"]
    assert [r["route"] for r in routes] == ["GET /", "GET /api/summary", "timer tick"]
    answered_in_full(routes, VIEWERS * ROUNDS)
    assert measured["rss_before_mb"] > 0 and measured["rss_after_mb"] > 0
    rows = report(record_property, measured)
    assert len(rows) == 4 and all(row["passed"] for row in rows[:3])


def test_a_worker_page_under_viewers_answers_and_its_loop_keeps_running(
    record_property: Record, tmp_path: Path
) -> None:
    measured = measure_worker(VIEWERS, ROUNDS, 0.5, tmp_path, min_iterations=2)
    routes = measured["routes"]
    assert [r["route"] for r in routes] == ["GET /", "GET /health"]
    for route in routes:  # the viewers keep going until the loop has run under load
        assert route["errors"] == 0 and route["answered"] >= VIEWERS * ROUNDS, route
    assert measured["iterations"] >= 1  # iterations started while the viewers were on the page
    assert measured["lateness_p50_s"] is not None and measured["lateness_max_s"] is not None
    rows = report(record_property, measured)
    assert [row["check"] for row in rows][-1] == f"worker page, {VIEWERS} viewers: loop on schedule"


def test_the_apps_under_load_get_no_token_and_no_outside_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = "hf_" + "proofload" * 3
    for name in ("HF_TOKEN", "GITHUB_TOKEN", "AUTOCODER_ADMIN_TOKEN", "SPACE_ID"):
        monkeypatch.setenv(name, fake)
    monkeypatch.setenv("PATH_FOR_THE_TEST", "kept")
    environment = local_environment()
    assert fake not in environment.values()
    assert environment["PATH_FOR_THE_TEST"] == "kept"
