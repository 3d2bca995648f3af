"""Health rules with fixed clocks, the /health pings over real HTTP, and where the data is read."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from autocoder.apps.dashboard.health import (
    Ping,
    ago_seconds,
    banner,
    error_rate,
    failing,
    short_title,
    unreadable_shards,
    worker_status,
)
from autocoder.apps.dashboard.model import WorkerStatus, WorkerView
from autocoder.apps.dashboard.pings import auth_headers, ping_all
from autocoder.apps.dashboard.sources import parse_worker_urls, space_url, worker_sources
from autocoder.apps.launch import bind, with_sibling_urls
from autocoder.errors import ConfigError
from autocoder.settings import Settings
from autocoder.store.locate import is_hub_location
from autocoder.workers import catalog

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def status_after(seconds: float, interval: float = 60.0, ping: Ping | None = None) -> str:
    return worker_status(True, NOW - timedelta(seconds=seconds), interval, NOW, ping)[0]


# -- worker status -------------------------------------------------------------------------------
def test_online_within_two_intervals() -> None:
    assert status_after(0) == status_after(119) == status_after(120) == "online"
    assert worker_status(True, NOW - timedelta(seconds=42), 60, NOW) == (
        "online", "last iteration 42 s ago (interval 60 s)",
    )  # fmt: skip


def test_stale_within_ten_intervals_then_offline() -> None:
    assert status_after(121) == status_after(600) == "stale"
    assert status_after(601) == status_after(86400) == "offline"
    assert status_after(601, interval=120) == "stale"  # implementation: 120 s interval


def test_a_timestamp_in_the_future_counts_as_just_now() -> None:
    assert worker_status(True, NOW + timedelta(seconds=30), 60, NOW) == (
        "online", "last iteration just now (interval 60 s)",
    )  # fmt: skip


def test_missing_dataset_is_not_deployed_and_an_empty_one_is_waiting() -> None:
    assert worker_status(False, None, 120, NOW) == ("not deployed", "no dataset found")
    assert worker_status(True, None, 60, NOW)[0] == "waiting for first iteration"
    answering = Ping(ok=True, state="running")
    assert worker_status(False, None, 60, NOW, answering)[0] == "waiting for first iteration"


def test_recent_health_ping_upgrades_stale_or_offline_to_online() -> None:
    recent = Ping(ok=True, last_completed_at=NOW - timedelta(seconds=30))
    status, reason = worker_status(True, NOW - timedelta(minutes=25), 60, NOW, recent)
    assert status == "online"
    assert reason == (
        "last iteration 25 min ago (interval 60 s); /health reports an iteration completed 30 s ago"
    )
    old = Ping(ok=True, last_completed_at=NOW - timedelta(minutes=20))
    assert status_after(25 * 60, ping=old) == "offline"
    assert status_after(25 * 60, ping=Ping(ok=True)) == "offline"  # no iteration completed yet


def test_failed_ping_of_a_stale_worker_is_in_the_reason() -> None:
    down = Ping(ok=False, error="no answer within 3 s")
    status, reason = worker_status(True, NOW - timedelta(minutes=5), 60, NOW, down)
    assert status == "stale"
    assert (
        reason
        == "last iteration 5 min ago (interval 60 s); GET /health failed: no answer within 3 s"
    )
    assert worker_status(True, NOW - timedelta(seconds=5), 60, NOW, down) == (
        "online", "last iteration 5 s ago (interval 60 s)",
    )  # fmt: skip


def test_relative_ages() -> None:
    assert [ago_seconds(s) for s in (0.2, 5, 59, 60, 3599, 3600, 86400 * 3)] == [
        "just now", "5 s ago", "59 s ago", "1 min ago", "59 min ago", "1 h ago", "3 d ago",
    ]  # fmt: skip


# -- error rate and banner -----------------------------------------------------------------------
def test_error_rate_counts_only_the_last_24_hours() -> None:
    now = NOW.timestamp()
    records = [(now - 90000, "error"), (now - 3600, "ok"), (now - 60, "error"), (now, "skipped")]
    assert error_rate(records, now) == pytest.approx(1 / 3)
    assert error_rate([(now - 90000, "error")], now) is None
    assert error_rate([], now) is None


def view(name: str, status: WorkerStatus, reason: str = "why", **health: Any) -> WorkerView:
    return WorkerView(
        name, name.title(), "", status, reason, 1, None, None, None, None, 60.0, **health
    )


def test_banner_operational_when_every_deployed_worker_is_online() -> None:
    views = [view("analysis", "online"), view("test-planning", "online"),
             view("implementation", "not deployed")]  # fmt: skip
    assert banner(views) == ("All Systems Operational", "", 2, 2)


def test_banner_degraded_names_the_worker_and_why() -> None:
    views = [view("analysis", "online"),
             view("test-planning", "stale", "last iteration 25 min ago (interval 60 s)"),
             view("implementation", "not deployed")]  # fmt: skip
    assert banner(views) == (
        "Degraded",
        "Test-Planning is stale: last iteration 25 min ago (interval 60 s)",
        1,
        2,
    )
    waiting = [view("analysis", "online"), view("test-planning", "waiting for first iteration")]
    assert banner(waiting)[0] == "Degraded"


def test_banner_down_when_no_worker_is_online() -> None:
    views = [view("analysis", "offline", "a"), view("test-planning", "stale", "b")]
    assert banner(views) == ("Down", "Analysis is offline: a\nTest-Planning is stale: b", 0, 2)
    assert banner([view("implementation", "not deployed")])[:2] == (
        "Down", "no worker is deployed: no dataset found",
    )  # fmt: skip


MISSING = "target '/nope' does not exist"


def test_the_last_three_iterations_failing_is_failing() -> None:
    ok, error = ("ok", None), ("error", MISSING)
    assert failing([ok] * 7 + [error] * 3) == f"the last 3 iterations failed: {MISSING}"
    assert failing([error] * 3) == f"the last 3 iterations failed: {MISSING}"
    assert failing([ok] * 8 + [error] * 2) is None  # two in a row, two of ten: not yet
    assert failing([error, error, ("skipped", "no package")]) is None
    assert failing([]) is None


def test_more_than_half_of_the_last_ten_failing_is_failing() -> None:
    ok = ("ok", None)
    mixed = [("error", f"e{i}") if i % 5 != 4 else ok for i in range(10)]  # 8 errors, never 3 ok
    assert failing(mixed) == "8 of the last 10 iterations failed: e8"
    half = [("error", "e"), ok] * 5  # 5 of 10: not more than half
    assert failing(half) is None
    older = [("error", "old")] * 20 + [ok] * 6  # only the last ten count: 4 errors, then 6 ok
    assert failing(older) is None


def test_unreadable_shards_are_named() -> None:
    assert unreadable_shards([]) is None
    assert unreadable_shards(["data/records/0000/000000003.jsonl"]) == (
        "1 unreadable shard data/records/0000/000000003.jsonl"
    )
    five = [f"s{i}.jsonl" for i in range(5)]
    assert unreadable_shards(five) == "5 unreadable shards s0.jsonl, s1.jsonl, s2.jsonl and 2 more"


def test_a_worker_on_time_whose_iterations_fail_degrades_the_banner_and_says_why() -> None:
    broken = view("analysis", "online", failing=f"the last 3 iterations failed: {MISSING}")
    views = [broken, view("test-planning", "online"), view("implementation", "not deployed")]
    assert banner(views) == (
        "Degraded", f"Analysis: the last 3 iterations failed: {MISSING}", 2, 2,
    )  # fmt: skip


def test_unreadable_shards_degrade_the_banner_even_with_every_iteration_ok() -> None:
    shard = "1 unreadable shard data/records/0000/000000003.jsonl"
    views = [view("analysis", "online"), view("test-planning", "online", damaged=shard)]
    assert banner(views) == ("Degraded", f"Test-Planning: {shard}", 2, 2)


def test_every_deployed_worker_failing_or_offline_is_down() -> None:
    views = [view("analysis", "online", failing="the last 3 iterations failed: a",
                  iterations_down=True),
             view("test-planning", "offline", "b", failing="the last 4 iterations failed: c")]  # fmt: skip
    state, detail, online, expected = banner(views)
    assert (state, online, expected) == ("Down", 1, 2)
    assert detail.splitlines() == [
        "Analysis: the last 3 iterations failed: a",
        "Test-Planning is offline: b; the last 4 iterations failed: c",
    ]
    damaged_only = [view("analysis", "online", damaged="1 unreadable shard x")]
    assert banner(damaged_only)[0] == "Degraded"  # it still writes good records


def test_workers_failing_only_in_part_are_degraded_not_down_as_their_pages_say() -> None:
    half = "5 of the last 9 iterations failed: a"
    views = [
        view("analysis", "online", failing=half),
        view("test-planning", "online", failing=half),
    ]
    assert banner(views)[0] == "Degraded"


def test_the_banner_names_a_worker_by_its_short_title() -> None:
    assert short_title("Test Planning Worker") == "Test planning"
    assert short_title("Analysis Worker") == "Analysis"


# -- pings ---------------------------------------------------------------------------------------
@pytest.fixture
async def workers() -> AsyncIterator[str]:
    """A real HTTP server with one healthy, one failing, one slow and one confused worker."""
    done = time.time() - 12

    async def healthy(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "state": "idle", "last_completed_at": done})

    async def failing(_: web.Request) -> web.Response:
        return web.Response(status=503, text="starting")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(1.5)
        return web.json_response({})

    async def confused(_: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>")

    app = web.Application()
    for name, handler in (("healthy", healthy), ("failing", failing), ("slow", slow),
                          ("confused", confused)):  # fmt: skip
        app.router.add_get(f"/{name}/health", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_pings_run_concurrently_with_a_short_timeout_and_never_raise(workers: str) -> None:
    urls = {name: f"{workers}/{name}/" for name in ("healthy", "failing", "slow", "confused")}
    urls["unreachable"] = "http://127.0.0.1:9"
    started = time.monotonic()
    answers = await ping_all(urls, timeout_s=0.5)
    assert time.monotonic() - started < 2.0
    healthy = answers["healthy"]
    assert healthy.ok and healthy.state == "idle" and healthy.last_completed_at is not None
    assert 10 < (datetime.now(UTC) - healthy.last_completed_at).total_seconds() < 60
    assert answers["failing"] == Ping(ok=False, error="HTTP 503")
    assert answers["slow"] == Ping(ok=False, error="no answer within 0.5 s")
    assert answers["confused"] == Ping(ok=False, error="the answer is not JSON")
    assert not answers["unreachable"].ok and "Connect" in (answers["unreachable"].error or "")
    assert await ping_all({}) == {}


def test_the_hub_token_goes_only_to_hf_spaces() -> None:
    assert auth_headers("https://me-autocoder-analysis.hf.space", "t0k") == {
        "Authorization": "Bearer t0k"
    }
    assert auth_headers("http://127.0.0.1:7861", "t0k") == {}
    assert auth_headers("https://hf.space.example.com", "t0k") == {}
    assert auth_headers("https://me-autocoder-analysis.hf.space", None) == {}


# -- sources -------------------------------------------------------------------------------------
@pytest.fixture
def no_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HF_TOKEN", "HF_USERNAME", "AUTOCODER_HUB_REPO", "AUTOCODER_WORKER_URLS"):
        monkeypatch.delenv(name, raising=False)


def test_local_mode_reads_data_dir_folders_and_pings_nothing(tmp_path: Path, no_hub: None) -> None:
    sources = worker_sources(Settings(data_dir=tmp_path / "d"))
    assert [s.name for s in sources] == ["analysis", "test-planning", "implementation"]
    assert [s.interval_s for s in sources] == [60.0, 60.0, 120.0]
    assert sources[0].location == str((tmp_path / "d" / "autocoder-analysis-results").resolve())
    assert all(s.space_url is None and not is_hub_location(s.location) for s in sources)


def test_hub_mode_reads_user_repos_and_derives_space_urls(
    tmp_path: Path, no_hub: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    monkeypatch.setenv("HF_USERNAME", "Jane_Doe.dev")
    sources = worker_sources(Settings(data_dir=tmp_path))
    assert sources[1].location == "Jane_Doe.dev/autocoder-test-planning-results"
    assert is_hub_location(sources[1].location)
    assert sources[1].space_url == "https://jane-doe-dev-autocoder-test-planning.hf.space"
    assert worker_sources(Settings(data_dir=tmp_path), hub=False)[0].location.startswith("/")
    monkeypatch.setenv("AUTOCODER_WORKER_URLS", "analysis=http://127.0.0.1:7861/")
    explicit = worker_sources(Settings(data_dir=tmp_path))
    assert [s.space_url for s in explicit] == ["http://127.0.0.1:7861", None, None]


def test_worker_urls_are_checked(no_hub: None, tmp_path: Path) -> None:
    assert parse_worker_urls(" analysis = http://a:1 , test-planning=https://b ") == {
        "analysis": "http://a:1", "test-planning": "https://b",
    }  # fmt: skip
    assert parse_worker_urls("") == parse_worker_urls(None) == {}
    for bad in ("analysis", "nobody=http://a", "analysis=ftp://a"):
        with pytest.raises(ConfigError, match="AUTOCODER_WORKER_URLS entry"):
            parse_worker_urls(bad)
    with pytest.raises(ConfigError, match="HF_TOKEN and HF_USERNAME"):
        worker_sources(Settings(data_dir=tmp_path), hub=True)
    assert space_url("ABC", "autocoder-analysis") == "https://abc-autocoder-analysis.hf.space"


def test_dashboard_sources_come_from_the_worker_catalog(tmp_path: Path, no_hub: None) -> None:
    sources = worker_sources(Settings(data_dir=tmp_path))
    assert [s.worker for s in sources] == catalog.workers()
    for source in sources:
        if source.worker.runnable:  # the implementation worker has no app yet
            spec = source.worker.spec()
            assert (spec.title, spec.dataset, spec.default_interval_s) == (
                source.title, source.dataset, source.interval_s,
            )  # fmt: skip


async def test_dashboard_pings_workers_while_it_reads_and_judges_with_the_answers(
    workers: str, tmp_path: Path
) -> None:
    from test_dashboard_data import files_of, record, write

    from autocoder.apps.dashboard.data import DashboardData
    from autocoder.apps.dashboard.model import WorkerSource

    quiet = datetime.now(UTC) - timedelta(minutes=25)
    sources = []
    for name, path in (("analysis", "healthy"), ("test-planning", "failing")):
        dataset = f"autocoder-{name}-results"
        write(tmp_path / dataset, files_of([record(1, quiet, worker=name)]))
        url = f"{workers}/{path}"
        sources.append(WorkerSource(name, name, dataset, 60.0, str(tmp_path / dataset), url))
    snap = await DashboardData(sources).refresh_async()
    analysis, planning = snap.workers
    assert (
        analysis.status == "online" and "/health reports an iteration completed" in analysis.reason
    )
    assert planning.status == "offline"
    assert planning.reason == (
        "last iteration 25 min ago (interval 60 s); GET /health failed: HTTP 503"
    )
    assert (snap.banner, snap.online, snap.expected) == ("Degraded", 1, 2)


def test_a_dashboard_served_alone_pings_the_space_urls_and_one_served_with_workers_their_ports(
    tmp_path: Path, no_hub: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_" + "x" * 30)
    monkeypatch.setenv("HF_USERNAME", "jane")
    settings = Settings(data_dir=tmp_path)
    with bind("127.0.0.1", 0) as dashboard, bind("127.0.0.1", 0) as analysis:
        alone = worker_sources(with_sibling_urls(["dashboard"], [dashboard], settings))
        assert alone[0].space_url == "https://jane-autocoder-analysis.hf.space"
        both = ["dashboard", "analysis"]
        beside = worker_sources(with_sibling_urls(both, [dashboard, analysis], settings))
        assert beside[0].space_url == f"http://127.0.0.1:{analysis.getsockname()[1]}"
