"""Retries of Hub calls on tenacity: each wait is the longer of Retry-After and a backoff that
doubles; a deadline or a give-up time ends them; shutdown ends a wait at once."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

import pytest
from tenacity import Retrying, stop_after_attempt

from autocoder.apps.service import WorkerService
from autocoder.errors import HubUnavailable
from autocoder.schema import RECORDS
from autocoder.settings import Settings
from autocoder.store.hub import HubSync
from autocoder.store.layout import shard_path
from autocoder.store.local import LocalStore
from autocoder.store.retry import RetryAfterOrBackoff, retry_outages

from enginekit import spec
from hubserver import TEST_TOKEN, TEST_USER, HubServer

REPO = f"{TEST_USER}/autocoder-enginetest-results"


def test_each_wait_is_the_longer_of_retry_after_and_a_doubling_backoff_up_to_its_cap() -> None:
    asked = iter([None, None, 10.0, None, 0.5, None])
    slept: list[float] = []

    def busy_hub() -> None:
        raise HubUnavailable("the Hub answered HTTP 429", next(asked))

    retrying = Retrying(
        retry=retry_outages,
        wait=RetryAfterOrBackoff(1.0, 8.0),
        stop=stop_after_attempt(7),
        sleep=slept.append,
        reraise=True,
    )
    with pytest.raises(StopIteration):  # the 7th attempt: no more answers scripted
        retrying(busy_hub)
    assert slept == [1.0, 2.0, 10.0, 8.0, 8.0, 8.0]


def _sync(root: Path, **options: float) -> HubSync:
    store = LocalStore(root, "retry test", "retries", (RECORDS,))
    sync = HubSync(store, REPO, TEST_TOKEN, **options)  # type: ignore[arg-type]
    sync.open()
    (root / shard_path(RECORDS, 1)).parent.mkdir(parents=True, exist_ok=True)
    (root / shard_path(RECORDS, 1)).write_text(json.dumps({"iteration": 1}) + "\n")
    return sync


def _commits(hub: HubServer) -> list[int]:
    return [r.status for r in hub.requests if "/commit/" in r.path]


def test_a_push_waits_as_long_as_the_hub_asks_not_its_own_backoff(
    hub: HubServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sync = _sync(tmp_path / "data", min_backoff_s=0.01)
    hub.fail_next(1, status=429, retry_after=1, path_contains="/commit/")
    with caplog.at_level(logging.WARNING, logger="autocoder.hub"):
        assert sync.flush(deadline_s=30) == 2  # the card and the shard
    assert _commits(hub) == [429, 200]
    assert [r.getMessage() for r in caplog.records] == [
        f"the Hub answered HTTP 429 for {REPO!r}; retrying in 1s"
    ]
    assert sync.status()["last_error"] is None  # cleared by the push that worked


def test_a_push_gives_up_at_once_when_the_wait_asked_for_ends_past_the_deadline(
    hub: HubServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sync = _sync(tmp_path / "data", min_backoff_s=0.01)
    hub.fail_next(1, status=429, retry_after=3600, path_contains="/commit/")
    with (
        caplog.at_level(logging.WARNING, logger="autocoder.hub"),
        pytest.raises(HubUnavailable) as caught,
    ):
        sync.flush(deadline_s=60)
    assert caught.value.retry_after_s == 3600 and _commits(hub) == [429]
    assert caplog.records == []  # no "retrying in" for a wait that would not end in time
    assert "HTTP 429" in sync.status()["last_error"]
    assert len(sync.pending()) == 2  # the files stay for the next push


def test_stopping_the_push_thread_ends_its_wait_for_the_hub_at_once(
    hub: HubServer, tmp_path: Path
) -> None:
    sync = _sync(tmp_path / "data", every_s=0.05, min_backoff_s=0.01)
    hub.fail_next(100, status=429, retry_after=3600, path_contains="/commit/")
    sync.start()
    deadline = time.monotonic() + 30
    while sync.last_error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sync.last_error is not None and "HTTP 429" in sync.last_error
    stopping = threading.Thread(target=sync.stop, kwargs={"final_flush_s": 5})
    stopping.start()
    stopping.join(timeout=30)  # the thread waits 3600 s unless stop() interrupts it
    assert not stopping.is_alive()
    assert _commits(hub) == [429, 429]  # one try in the thread, one final push; none in between


# -- opening the Hub at start-up -----------------------------------------------------------------
def _service(tmp_path: Path, target: Path) -> WorkerService:
    settings = Settings(  # type: ignore[call-arg]
        target=str(target), data_dir=tmp_path / "data", interval_s=0, hf_token=TEST_TOKEN,
        hf_username=TEST_USER, hub_repo=None, push_every_s=3600,
    )  # fmt: skip
    return WorkerService(spec(), settings)


def _creates(hub: HubServer) -> int:
    return sum("/api/repos/create" in r.path for r in hub.requests)


async def test_start_up_waits_grow_until_they_add_up_to_the_give_up_time(
    hub: HubServer, shop_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = _service(tmp_path, shop_dir)
    hub.down()
    with (
        caplog.at_level(logging.WARNING, logger="autocoder.service"),
        pytest.raises(HubUnavailable, match="HTTP 503"),
    ):
        await service.open(hub_retry_s=0.1, give_up_after_s=0.3)
    # waits 0.1 and 0.2 add up to 0.3: three tries (waits that did not grow: four)
    assert _creates(hub) == 3
    waits = [r.getMessage() for r in caplog.records]
    assert len(waits) == 2 and all(w.startswith("waiting for the Hub (the Hub") for w in waits)
    assert service.status()["state"] == "starting" and service.worker is None
    await service.shutdown()


async def test_start_up_honours_retry_after_and_shutdown_ends_the_wait_at_once(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path, shop_dir)
    hub.fail_next(100, status=429, retry_after=3600, path_contains="/api/repos/create")
    opening = asyncio.create_task(service.open(hub_retry_s=0.01))
    deadline = time.monotonic() + 30
    while "next try" not in (service.status()["waiting_for"] or "") and not opening.done():
        assert time.monotonic() < deadline, "no wait for the Hub was announced"
        await asyncio.sleep(0.01)
    status = service.status()
    assert "HTTP 429" in status["waiting_for"] and "next try in 3600s" in status["waiting_for"]
    assert status["next_try_at"] > time.time() + 3000
    line = await asyncio.wait_for(service.shutdown(), 30)
    assert "the Hub was never opened" in line
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(opening, 30)  # a TimeoutError here: the wait was not interrupted
    assert _creates(hub) == 1
