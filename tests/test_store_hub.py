"""Hub mode against the protocol-level test Hub: batched pushes, outages, 429s, restore on a fresh disk."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from datasets import load_dataset
from huggingface_hub import HfApi, close_session

from autocoder.apps.service import WorkerService
from autocoder.errors import HubUnavailable, StoreError
from autocoder.schema import RECORDS
from autocoder.settings import Settings
from autocoder.store import hub_client, manifest
from autocoder.store.dataset import HubDataset
from autocoder.store.hub import HubSync, hub_failure
from autocoder.store.hub_client import hub_api
from autocoder.store.layout import CARD_PATH, shard_path
from autocoder.store.local import LocalStore
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
    unique = latest_record(HubDataset(REPO, TEST_TOKEN))["cumulative_insights"]["unique_findings"]  # type: ignore[index]

    second = _service(tmp_path / "disk2", shop_dir)  # a restarted Space: empty disk
    worker = await second.open()
    assert worker.iteration == 3
    await second.run(iterations=1)
    await second.close()
    assert _records_on_hub(hub)[-1] == "data/records/0000/000000004.jsonl"
    assert hub.files(REPO)["data/records/0000/000000001.jsonl"] == shard_one  # never overwritten
    latest = latest_record(HubDataset(REPO, TEST_TOKEN))
    assert latest is not None and latest["iteration"] == 4
    assert latest["cumulative_insights"]["unique_findings"] == unique
    assert latest["cumulative_insights"]["iterations_completed"] == 4


async def test_a_stale_copy_of_the_folder_continues_from_the_hub_not_from_its_own_count(
    hub: HubServer, shop_dir: Path, tmp_path: Path
) -> None:
    first = _service(tmp_path / "disk", shop_dir)
    await first.open()
    await first.run(iterations=1)
    await first.close()
    shutil.copytree(tmp_path / "disk", tmp_path / "stale")  # say, a CI cache of the data folder
    again = _service(tmp_path / "disk", shop_dir)
    await again.open()
    await again.run(iterations=2)
    await again.close()
    on_hub = hub.files(REPO)

    restored = _service(tmp_path / "stale", shop_dir)
    worker = await restored.open()
    assert worker.iteration == 3
    await restored.run(iterations=1)
    await restored.close()
    assert _records_on_hub(hub)[-1] == "data/records/0000/000000004.jsonl"
    for shard in ("000000002", "000000003"):
        path = f"data/records/0000/{shard}.jsonl"
        assert hub.files(REPO)[path] == on_hub[path]  # never pushed over


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


# -- change detection: size and mtime first, content only when they changed ----------------------


def _sync(root: Path) -> HubSync:
    """A HubSync on ``root`` as a (re)started process builds it: nothing kept in memory."""
    store = LocalStore(root, "hub sync test", "change detection", (RECORDS,))
    sync = HubSync(store, REPO, TEST_TOKEN)
    sync.open()
    return sync


def _write_shard(root: Path, iteration: int, text: str) -> str:
    rel = shard_path(RECORDS, iteration)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(json.dumps({"iteration": iteration, "text": text}) + "\n")
    return rel


def _bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


_WATCHES: list[list[Path]] = []  # what each _files_opened in progress has seen opened


def _note_open(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _WATCHES and isinstance(args[0], str | Path):
        _WATCHES[-1].append(Path(args[0]))


sys.addaudithook(_note_open)  # audit hooks stay for the whole run; idle outside _files_opened


@contextlib.contextmanager
def _files_opened(root: Path) -> Iterator[list[Path]]:
    """Files under ``root`` (but the manifest) opened meanwhile, whichever function opens them."""
    found: list[Path] = []
    _WATCHES.append([])
    try:
        yield found
    finally:
        opened = _WATCHES.pop()
        found.extend(p for p in opened if p.is_relative_to(root) and p.name != ".pushed.json")


def test_a_shard_rewritten_after_a_push_goes_with_the_next_push(
    hub: HubServer, tmp_path: Path
) -> None:
    sync = _sync(tmp_path / "data")
    grown = _write_shard(sync.local.root, 1, "first")
    same_size = _write_shard(sync.local.root, 2, "aaaa")
    assert sync.push_once() == 3  # the card and two shards
    _write_shard(sync.local.root, 1, "first, then longer")  # new size
    (sync.local.root / same_size).write_text(json.dumps({"iteration": 2, "text": "bbbb"}) + "\n")
    _bump_mtime(sync.local.root / same_size)  # same size, same inode, new mtime
    assert sync.pending() == [grown, same_size]
    assert sync.status()["pending_files"] == 2
    assert sync.push_once() == 2
    assert b"longer" in hub.files(REPO)[grown] and b"bbbb" in hub.files(REPO)[same_size]
    assert sync.status()["pending_files"] == 0


def test_status_after_a_restart_counts_only_what_was_not_pushed(
    hub: HubServer, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    first = _sync(root)
    pushed = _write_shard(root, 1, "pushed")
    first.push_once()
    waiting = _write_shard(root, 2, "written, never pushed")
    _bump_mtime(root / pushed)  # a touch (or a copied disk): same content, new mtime
    commits = hub.commit_count(REPO)

    second = _sync(root)  # the process restarted on the same disk and rewrote the card's sizes
    assert second.pending() == [CARD_PATH, waiting]
    assert second.status()["pending_files"] == 2
    assert second.push_once() == 2  # the touched shard is not pushed twice
    assert hub.commit_count(REPO) == commits + 1
    assert _sync(root).status()["pending_files"] == 0


def test_status_reads_no_file_when_nothing_changed(hub: HubServer, tmp_path: Path) -> None:
    root = tmp_path / "data"
    for iteration in range(1, 6):
        _write_shard(root, iteration, "x" * iteration)
    sync = _sync(root)  # the card counts the shards: a restart leaves it as it is
    sync.push_once()
    with _files_opened(root) as opened:
        assert sync.status()["pending_files"] == 0
    restarted = _sync(root)
    with _files_opened(root) as opened_after_restart:
        assert restarted.status()["pending_files"] == 0 and restarted.pending() == []
    assert opened == [] and opened_after_restart == []
    _bump_mtime(root / shard_path(RECORDS, 3))
    with _files_opened(root) as opened:
        assert restarted.status()["pending_files"] == 0
        assert restarted.status()["pending_files"] == 0
    assert opened == [root / shard_path(RECORDS, 3)]  # read once, when its mtime changed


def test_a_manifest_without_stats_is_trusted_after_one_hash_per_file(
    hub: HubServer, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    rel = _write_shard(root, 1, "old manifest")
    sync = _sync(root)
    sync.push_once()
    pushed = json.loads((root / ".pushed.json").read_text())
    digests = {r: manifest.file_digest(root / r) for r in pushed}
    (root / ".pushed.json").write_text(json.dumps(digests))  # written before stats were kept
    restarted = _sync(root)
    with _files_opened(root) as opened:
        assert restarted.status()["pending_files"] == 0
        assert restarted.status()["pending_files"] == 0
    assert sorted(opened) == sorted(root / r for r in digests) and root / rel in opened


# -- a Hub that takes the connection and never answers ------------------------------------------


@pytest.fixture
def short_hub_timeouts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hub requests time out after half a second; the shared client is made again both ways."""
    monkeypatch.setattr(hub_client, "READ_TIMEOUT_S", 0.5)
    monkeypatch.setattr(hub_client, "CONNECT_TIMEOUT_S", 0.5)
    close_session()
    yield
    close_session()  # the next client gets the real limits back


def test_a_hub_that_never_answers_is_an_outage_to_retry_not_a_push_that_hangs(
    short_hub_timeouts: None, tmp_path: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, accepts, never answers
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        store = LocalStore(tmp_path / "data", "hub sync test", "a silent Hub", (RECORDS,))
        sync = HubSync(store, REPO, TEST_TOKEN, api=hub_api(TEST_TOKEN, endpoint=endpoint))
        with pytest.raises(HubUnavailable, match=REPO):
            sync.open()
