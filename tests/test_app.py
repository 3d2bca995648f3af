"""The worker app: Gradio endpoints through gradio_client, GET /health, protected controls."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.engine.logbuffer import install_logging
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
