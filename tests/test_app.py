"""The worker app: Gradio endpoints through gradio_client, GET /health, protected controls."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from autocoder.apps.iteration_health import IN_A_ROW
from autocoder.apps.service import WorkerService
from autocoder.apps.views import (
    Health,
    iterations_health,
    last_error_html,
    table_html,
    worker_health,
)
from autocoder.apps.worker_app import assess, build_app, button_states
from autocoder.engine.logbuffer import install_logging
from autocoder.engine.spec import PageTable
from autocoder.settings import Settings

from appkit import serving
from enginekit import spec


def _app(tmp_path: Path, target: Path, **settings: object) -> tuple[WorkerService, object]:
    config = Settings(target=str(target), data_dir=tmp_path / "data", interval_s=0.2, **settings)  # type: ignore[arg-type]
    service = WorkerService(spec(), config)
    return service, build_app(service, install_logging(config.secrets()))


def _poll(read: Callable[[], dict], done: Callable[[dict], bool], what: str) -> dict:
    """``read()`` until ``done`` holds for its answer (30 s at most)."""
    deadline, answer = time.time() + 30, {}
    while time.time() < deadline:
        answer = read()
        if done(answer):
            return answer
        time.sleep(0.05)
    raise AssertionError(f"never {what} within 30s; last answer {answer}")


def _wait_for_iteration(client: Client, at_least: int) -> dict:
    return _poll(
        lambda: client.predict(api_name="/status"),
        lambda status: status.get("iteration", 0) >= at_least,
        f"iteration {at_least}",
    )


def test_app_runs_worker_and_serves_status_latest_and_health(
    shop_dir: Path, tmp_path: Path
) -> None:
    service, app = _app(tmp_path, shop_dir)
    with serving(app) as url:
        client = Client(url, verbose=False)
        status = _wait_for_iteration(client, 2)
        assert status["state"] == "running" and status["target"] == str(shop_dir.resolve())
        latest = client.predict(api_name="/latest")
        assert latest["perspective_name"] == "Long Lines" and latest["status"] == "ok"
        assert latest["analysis"]["top_findings"][0]["file"].startswith("shop/")
        health = httpx.get(f"{url}/health").json()
        assert (
            health["status"] == "ok"
            and health["worker"] == "enginetest"
            and health["iteration"] >= 2
        )
        assert "/start" in str(client.view_api(print_info=False, return_format="dict"))
    assert service.store.last_iteration() >= 2


def test_stop_and_start_work_locally_without_a_token(shop_dir: Path, tmp_path: Path) -> None:
    _service, app = _app(tmp_path, shop_dir)
    with serving(app) as url:
        client = Client(url, verbose=False)
        _wait_for_iteration(client, 1)
        assert "stop requested by local user" in client.predict("", api_name="/stop")
        assert client.predict(api_name="/status")["state"] == "stopped"
        assert "start requested" in client.predict("", api_name="/start")
        assert client.predict(api_name="/status")["state"] == "running"


def test_on_a_space_anonymous_visitors_cannot_stop_the_worker(
    shop_dir: Path, tmp_path: Path
) -> None:
    _service, app = _app(
        tmp_path, shop_dir, space_id="alice/autocoder-analysis", admin_token="open-sesame-admin"
    )
    with serving(app) as url:
        client = Client(url, verbose=False)
        _wait_for_iteration(client, 1)
        with pytest.raises(Exception, match="AUTOCODER_ADMIN_TOKEN") as refused:
            client.predict("", api_name="/stop")
        assert "open-sesame-admin" not in str(refused.value)
        with pytest.raises(Exception, match="Space owner"):
            client.predict("wrong-token", api_name="/stop")
        assert client.predict(api_name="/status")["state"] == "running"
        assert "stop requested by admin token" in client.predict(
            "open-sesame-admin", api_name="/stop"
        )
        assert client.predict(api_name="/status")["state"] == "stopped"
        page = httpx.get(url).text
        assert "open-sesame-admin" not in page


def _health_until(url: str, wanted: str) -> dict:
    return _poll(
        lambda: httpx.get(f"{url}/health").json(),
        lambda health: health["status"] == wanted,
        f"/health said {wanted!r}",
    )


def test_health_says_degraded_while_store_writes_fail_and_ok_once_they_work(
    shop_dir: Path, tmp_path: Path
) -> None:
    service, app = _app(tmp_path, shop_dir)
    records = service.store.root / "data" / "records"
    with serving(app) as url:
        _wait_for_iteration(Client(url, verbose=False), 1)
        assert _health_until(url, "ok")["reason"] is None
        aside = tmp_path / "records-aside"
        records.rename(aside)
        records.write_text("a file where the records folder must be\n")  # root ignores chmod
        degraded = _health_until(url, "degraded")
        assert degraded["state"] == "running"  # the loop runs; its writes do not land
        assert str(service.store.root) in degraded["reason"]
        assert "failed" in degraded["reason"]
        records.unlink()
        shutil.move(aside, records)
        healed = _health_until(url, "ok")
        assert healed["reason"] is None and healed["iteration"] > degraded["iteration"]


def test_a_perspective_error_is_recorded_so_health_stays_ok(tmp_path: Path) -> None:
    empty = tmp_path / "no-python"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing to analyse\n")
    _service, app = _app(tmp_path, empty)
    with serving(app) as url:
        status = _wait_for_iteration(Client(url, verbose=False), 1)
        assert status[
            "last_error"
        ]  # the perspective skipped: written in the record, not a store failure
        assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_start_and_stop_enable_only_the_button_that_applies(shop_dir: Path, tmp_path: Path) -> None:
    service, app = _app(tmp_path, shop_dir)
    with serving(app) as url:
        client = Client(url, verbose=False)
        _wait_for_iteration(client, 1)
        start, stop = button_states(service)
        assert (start.interactive, stop.interactive) == (False, True)  # running
        client.predict("", api_name="/stop")
        start, stop = button_states(service)
        assert (start.interactive, stop.interactive) == (True, False)  # stopped


def test_an_anonymous_visitor_of_a_space_is_refused_even_while_stop_is_enabled(
    shop_dir: Path, tmp_path: Path
) -> None:
    service, app = _app(tmp_path, shop_dir, space_id="alice/autocoder-analysis")
    with serving(app) as url:
        client = Client(url, verbose=False)
        _wait_for_iteration(client, 1)
        assert button_states(service)[1].interactive
        with pytest.raises(Exception, match="Space owner"):
            client.predict("", api_name="/stop")
        assert client.predict(api_name="/status")["state"] == "running"


def test_failing_iterations_make_health_degraded_with_the_reason(tmp_path: Path) -> None:
    _service, app = _app(tmp_path, tmp_path / "nope")
    with serving(app) as url:
        _wait_for_iteration(Client(url, verbose=False), IN_A_ROW)
        degraded = _health_until(url, "degraded")
        assert "iterations failed" in degraded["reason"]


@pytest.mark.parametrize(
    ("statuses", "word", "reason"),
    [
        ([], "ok", None),
        (["ok"] * 9 + ["error"], "ok", None),
        (["error", "ok", "error", "ok", "ok"], "ok", None),
        (["skipped"] * 5, "ok", None),
        (["ok", "error"], "ok", None),
        (["ok", "error", "error", "error"], "degraded", "the last 3 iterations failed"),
        (["error"] * 6 + ["ok"] * 4, "degraded", "6 of the last 10 iterations failed"),
        (["ok"] * 20 + ["error"] * 10, "down", "the last 10 iterations failed"),
        (["error"] * 3, "down", "the last 3 iterations failed"),
        (["error"], "ok", None),  # one early failure is not yet a pattern
        (["ok", "error", "ok", "error", "error"], "degraded", "3 of the last 5 iterations failed"),
    ],
)
def test_health_follows_the_dashboards_rule_on_recent_iterations(
    statuses: list[str], word: str, reason: str | None
) -> None:
    assert iterations_health(statuses) == Health(word, reason)


def test_the_service_condition_comes_before_the_iterations() -> None:
    assert worker_health(("failed", "bad token"), ["ok"]) == Health("down", "bad token")
    assert worker_health(("degraded", "store"), ["ok"]).word == "degraded"
    assert worker_health(("ok", None), ["error"] * 3).word == "down"


NOW = datetime(2026, 12, 6, 18, 50, 5, tzinfo=UTC)


def _record(iteration: int, status: str, error: str | None = None) -> dict:
    return {"iteration": iteration, "status": status, "error": error,
            "perspective_name": "Security Audit", "timestamp": "2026-12-06T18:50:00+00:00"}  # fmt: skip


def test_the_last_error_box_says_when_and_what_failed() -> None:
    failed = [_record(1, "ok"), _record(2, "error", "target '/nope' does not exist")]
    box = last_error_html(failed, {}, NOW)
    assert "Last iteration failed 5 s ago · 18:50 UTC: target &#x27;/nope&#x27; does not" in box
    older = last_error_html([*failed, _record(3, "ok")], {}, NOW)
    assert "Iteration 2 (Security Audit) failed 5 s ago" in older and "Later" in older
    assert last_error_html([_record(1, "ok"), _record(2, "skipped", "no package")], {}, NOW) == ""
    assert "cannot start: bad token" in last_error_html([], {"error": "bad token"}, NOW)


def test_table_keeps_headers_and_short_cells_whole_and_cuts_long_ones_with_a_hover() -> None:
    long = "word " * 60
    record = {"analysis": {"top": [{"severity": "high", "message": long, "status_detail": ""}]}}
    html = table_html(record, PageTable("Top", "top", ("severity", "message", "status_detail")))
    assert "<th>status detail</th>" in html and "<td>high</td>" in html
    assert f'<td class="ac-long" title="{long}">' in html and "…</td>" in html
    assert "No rows" in table_html(None, PageTable("Top", "top", ("severity",)))


def test_an_unreadable_shard_makes_the_page_degraded_and_names_the_file(
    shop_dir: Path, tmp_path: Path
) -> None:
    service, _app_unused = _app(tmp_path, shop_dir)
    asyncio.run(service.run(iterations=2))
    assert assess(service)[0] == Health("ok")
    shards = sorted((service.store.root / "data" / "records").rglob("*.jsonl"))
    shards[-1].write_text("{not json\n")
    health, _records = assess(service)
    assert health.word == "degraded" and shards[-1].name in (health.reason or "")
    service.cache.close()
