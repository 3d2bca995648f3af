"""Hub mode against the protocol-level test Hub: batched pushes, outages, 429s, restore on a fresh disk."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from datasets import load_dataset
from huggingface_hub import HfApi

from autocoder.apps.service import WorkerService
from autocoder.errors import HubUnavailable, StoreError
from autocoder.settings import Settings
from autocoder.store.hub import HubReader, hub_failure
from autocoder.store.reader import latest_record

from appkit import free_port
from enginekit import spec
from hubserver import TEST_TOKEN, TEST_USER, HubServer

REPO = f"{TEST_USER}/autocoder-enginetest-results"


def _service(data: Path, target: Path, **overrides: object) -> WorkerService:
    values: dict[str, object] = {
        "target": str(target), "data_dir": data, "interval_s": 0, "hf_token": TEST_TOKEN,
        "hf_username": TEST_USER, "push_every_s": 3600, **overrides,
    }  # fmt: skip
    settings = Settings(**values)  # type: ignore[arg-type]
    service = WorkerService(spec(), settings)
    assert service.hub is not None
    service.hub.min_backoff_s = 0.2
    return service


def _records_on_hub(hub: HubServer) -> list[str]:
    return sorted(p for p in hub.files(REPO) if p.startswith("data/records/"))


async def test_records_are_pushed_in_one_commit_and_load_dataset_reads_them(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path / "data", shop_dir)
    await service.open()
    await service.run(iterations=3)
    commits_before_flush = hub.commit_count(REPO)
    await service.close()
    assert (
        hub.commit_count(REPO) == commits_before_flush + 1
    )  # one batch, not one commit per record
    assert _records_on_hub(hub) == [f"data/records/0000/00000000{i}.jsonl" for i in (1, 2, 3)]
    assert hub.repos[("dataset", REPO)].private
    latest = load_dataset(REPO, token=TEST_TOKEN)["train"][-1]
    assert latest["iteration"] == 3 and latest["perspective_name"] == "Long Lines"
    assert isinstance(latest["analysis"]["top_findings"], list)
    findings = load_dataset(REPO, "findings", token=TEST_TOKEN)["train"]
    assert set(findings["iteration"]) == {1, 2, 3}


async def test_hub_outage_loses_nothing_and_the_buffer_goes_when_it_answers(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path / "data", shop_dir)
    await service.open()
    hub.down()
    await service.run(iterations=2)
    assert service.hub is not None
    with pytest.raises(HubUnavailable, match="HTTP 503"):
        service.hub.flush(deadline_s=0.5)
    assert "data/records/0000/000000002.jsonl" in service.hub.pending()
    hub.up()
    await service.run(iterations=1)
    await service.close()
    assert _records_on_hub(hub) == [f"data/records/0000/00000000{i}.jsonl" for i in (1, 2, 3)]
    assert service.hub.pending() == []


def test_rate_limit_is_retried_after_the_retry_after_delay(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path / "data", shop_dir)
    asyncio.run(service.open())
    asyncio.run(service.run(iterations=1))
    hub.fail_next(1, status=429, retry_after=1, path_contains="/commit/")
    assert service.hub is not None
    started = time.monotonic()
    assert service.hub.flush(deadline_s=10) > 0
    assert time.monotonic() - started >= 1.0  # waited as long as the Hub asked, not min_backoff_s
    commits = [r for r in hub.requests if "/commit/" in r.path]
    assert [r.status for r in commits] == [429, 200]
    asyncio.run(service.close())


async def test_restart_on_a_fresh_disk_continues_from_the_hub(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    first = _service(tmp_path / "disk1", shop_dir)
    await first.open()
    await first.run(iterations=3)
    await first.close()
    shard_one = hub.files(REPO)["data/records/0000/000000001.jsonl"]
    unique = latest_record(HubReader(REPO, TEST_TOKEN))["cumulative_insights"]["unique_findings"]  # type: ignore[index]

    second = _service(tmp_path / "disk2", shop_dir)  # a restarted Space: empty disk
    worker = await second.open()
    assert worker.iteration == 3
    await second.run(iterations=1)
    await second.close()
    assert _records_on_hub(hub)[-1] == "data/records/0000/000000004.jsonl"
    assert hub.files(REPO)["data/records/0000/000000001.jsonl"] == shard_one  # never overwritten
    latest = latest_record(HubReader(REPO, TEST_TOKEN))
    assert latest is not None and latest["iteration"] == 4
    assert latest["cumulative_insights"]["unique_findings"] == unique
    assert latest["cumulative_insights"]["iterations_completed"] == 4


async def test_hub_down_at_start_means_waiting_not_starting_over(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    first = _service(tmp_path / "disk1", shop_dir)
    await first.open()
    await first.run(iterations=2)
    await first.close()
    hub.down()
    second = _service(tmp_path / "disk2", shop_dir)
    with pytest.raises(HubUnavailable):
        await second.open(hub_retry_s=0.1, give_up_after_s=0.3)
    assert second.worker is None and second.status()["state"] == "starting"
    hub.up()
    worker = await second.open(hub_retry_s=0.1)
    assert worker.iteration == 2
    await second.close()


async def test_a_refused_token_is_a_clear_error_that_never_shows_the_token(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    bad = "wrong-token-value-123"
    service = _service(tmp_path / "data", shop_dir, hf_token=bad)
    with pytest.raises(Exception, match="HF_TOKEN") as refused:
        await service.open(give_up_after_s=0)
    assert bad not in str(refused.value) and bad not in repr(service)
    await service.close()


async def test_hub_refusing_connections_at_start_is_waiting_with_the_next_try(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path / "data", shop_dir)
    assert service.hub is not None
    service.hub.api = HfApi(endpoint=f"http://127.0.0.1:{free_port()}", token=TEST_TOKEN)
    opening = asyncio.create_task(service.open(hub_retry_s=30))
    deadline = time.monotonic() + 30
    while not opening.done() and time.monotonic() < deadline:
        if "next try" in (service.status()["waiting_for"] or ""):
            break
        await asyncio.sleep(0.02)
    status = service.status()
    assert not opening.done(), opening.exception()  # a refused connection is waited for
    assert status["state"] == "starting" and status["iteration"] == 0
    assert "the Hub" in status["waiting_for"] and "next try in 30s" in status["waiting_for"]
    assert "ConnectError" in status["waiting_for"] and status["next_try_at"] > time.time()
    assert service.condition() == ("starting", status["waiting_for"])
    service.hub.api = HfApi(token=TEST_TOKEN)  # the final push at close goes to the test Hub
    await service.close()
    with pytest.raises(asyncio.CancelledError):
        await opening


async def test_a_worker_that_cannot_start_says_failed_and_why(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    bad = "wrong-token-value-456"
    service = _service(tmp_path / "data", shop_dir, hf_token=bad)
    with pytest.raises(StoreError, match="HF_TOKEN"):
        await service.run()
    status = service.status()
    assert status["state"] == "failed" and "HF_TOKEN" in status["error"]
    assert status["waiting_for"] is None and bad not in str(status)
    assert service.condition()[0] == "failed"
    await service.close()


def test_a_local_file_error_while_syncing_is_a_store_error_not_an_outage() -> None:
    full = OSError(28, "No space left on device", "/data/README.md")
    failure = hub_failure(full, REPO)
    assert not isinstance(failure, HubUnavailable)
    assert "/data/README.md" in str(failure) and "No space left" in str(failure)
    assert isinstance(hub_failure(ConnectionRefusedError(111, "refused"), REPO), HubUnavailable)
