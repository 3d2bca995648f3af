"""Shutdown in arq's order: stop taking work, wait for the running iteration, push, close the cache.

The perspective here is mid-iteration when shutdown begins: it waits until the service is closing,
then writes to the result cache, as an analyser does once its tool has run.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.engine.logbuffer import RingBuffer, install_logging
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.settings import Settings

from appkit import serving
from enginekit import spec
from hubserver import TEST_TOKEN, TEST_USER, HubServer

REPO = f"{TEST_USER}/autocoder-enginetest-results"
FIRST_SHARD = "data/records/0000/000000001.jsonl"


class CachesOnceReleased:
    """Blocks until ``released()`` is true (bounded), then stores a value in the result cache."""

    id: ClassVar[str] = "caches_once_released"
    name: ClassVar[str] = "Caches Once Released"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.released: Callable[[], bool] = lambda: False

    def run(self, ctx: RunContext) -> PerspectiveResult:
        self.started.set()
        give_up_at = time.monotonic() + 30
        while not self.released() and time.monotonic() < give_up_at:
            time.sleep(0.01)
        ctx.cache.put("shutdown-test", "1", "key", {"cached": True})
        return PerspectiveResult(summary="released, then cached")


def _service(tmp_path: Path, target: Path, **settings: object) -> tuple[WorkerService, RingBuffer]:
    config = Settings(target=str(target), data_dir=tmp_path / "data", interval_s=0, **settings)  # type: ignore[arg-type]
    return WorkerService(spec(CachesOnceReleased()), config), install_logging(config.secrets())


def _perspective(service: WorkerService) -> CachesOnceReleased:
    perspective = service.spec.registry.at(0)
    assert isinstance(perspective, CachesOnceReleased)
    perspective.released = lambda: service.closing
    return perspective


def _serve_until_mid_iteration_then_shut_down(service: WorkerService, ring: RingBuffer) -> None:
    perspective = _perspective(service)
    with serving(build_app(service, ring)):
        assert perspective.started.wait(30), "the first iteration never started"
    # leaving `serving` ran the lifespan's shutdown while the iteration was still running


def test_an_iteration_running_at_shutdown_is_recorded_ok_not_as_a_closed_database(
    shop_dir: Path, tmp_path: Path
) -> None:
    service, ring = _service(tmp_path, shop_dir)
    _serve_until_mid_iteration_then_shut_down(service, ring)
    latest = service.store.latest()
    assert latest is not None and latest["iteration"] == 1
    assert (latest["status"], latest["error"]) == ("ok", None)
    summaries = [line for line in ring.lines if "stopped after iteration" in line]
    assert len(summaries) == 1, ring.lines
    expected = "stopped after iteration 1: 1 iteration finished during shutdown, 0 cancelled"
    assert expected in summaries[0]


def test_the_final_push_to_the_hub_includes_the_iteration_that_ran_at_shutdown(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    service, ring = _service(
        tmp_path, shop_dir, hf_token=TEST_TOKEN, hf_username=TEST_USER, push_every_s=3600
    )
    _serve_until_mid_iteration_then_shut_down(service, ring)
    pushed = hub.files(REPO)
    assert FIRST_SHARD in pushed, sorted(pushed)
    record = json.loads(pushed[FIRST_SHARD].decode().splitlines()[-1])
    assert (record["iteration"], record["status"], record["error"]) == (1, "ok", None)
    assert service.hub is not None and service.hub.pending() == []
    summary = next(line for line in ring.lines if "stopped after iteration" in line)
    assert "1 iteration finished during shutdown, 0 cancelled, pushed" in summary
    assert summary.endswith(f"files to {REPO}")


async def test_an_iteration_past_the_grace_period_is_cancelled_and_counted(
    shop_dir: Path, tmp_path: Path
) -> None:
    service, _ring = _service(tmp_path, shop_dir)
    perspective = _perspective(service)
    finished = threading.Event()
    perspective.released = finished.is_set  # keeps running past the grace period
    service.start()
    while not perspective.started.is_set():
        await asyncio.sleep(0.01)
    line = await service.shutdown(grace_s=0.1)
    finished.set()
    assert "stopped after iteration 0: 0 iterations finished during shutdown, 1 cancelled" in line
    assert service.store.latest() is None  # nothing half-done was written
