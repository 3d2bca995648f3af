"""The one reader interface: a local folder and a Hub repo answer alike; which one the settings
pick for each reader; a peer's latest pass, typed and filtered by the target's commit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from autocoder.errors import ConfigError
from autocoder.schema import FINDINGS, RECORDS, FindingRow, utc_timestamp
from autocoder.settings import Settings
from autocoder.store.dataset import Dataset, HubDataset, LocalDataset
from autocoder.store.layout import STATE_PATH, jsonl, shard_path
from autocoder.store.locate import dataset_location, open_dataset, open_location
from autocoder.store.peers import PeerPass, latest_pass
from autocoder.store.reader import (
    highest_iteration,
    latest_ok,
    latest_per_perspective,
    latest_record,
    read_state,
    recent_records,
    record_paths,
    rows_of_iteration,
)
from autocoder.store.tail import DatasetTail

from hubserver import TEST_TOKEN, TEST_USER, HubServer

ANALYSIS = "autocoder-analysis-results"
REPO = f"{TEST_USER}/{ANALYSIS}"
AUDIT = "Security Audit"
T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def record(i: int, perspective: str = AUDIT, status: str = "ok", commit: str = "c0ffee") -> dict:
    return {
        "iteration": i, "timestamp": utc_timestamp(T0 + timedelta(minutes=i)), "worker": "analysis",
        "perspective_id": perspective.lower().replace(" ", "_"), "perspective_name": perspective,
        "target": {"repo": "shop", "commit": commit}, "status": status,
        "error": "boom" if status == "error" else None, "duration_s": 1.0,
        "analysis": {"findings_total": 1}, "cumulative_insights": {},
    }  # fmt: skip


def finding(rec: dict[str, Any], rule: str, line: int = 3) -> dict[str, Any]:
    return {
        "iteration": rec["iteration"], "timestamp": rec["timestamp"], "worker": rec["worker"],
        "perspective_id": rec["perspective_id"], "perspective_name": rec["perspective_name"],
        "repo": "shop", "commit": rec["target"]["commit"], "tool": "bandit", "rule": rule,
        "severity": "high", "file": "shop/storage.py", "line": line, "message": f"{rule} here",
        "fingerprint": f"{rec['iteration']}-{rule}",
    }  # fmt: skip


def dataset_files() -> dict[str, bytes]:
    """Four passes over two perspectives, findings for two of them, a state file, a card, a
    shard with bytes that are not UTF-8, and a bucket past the first thousand iterations."""
    passes = [record(1), record(2, "Code Quality Analysis"), record(3, status="error"),
              record(1001, "Code Quality Analysis")]  # fmt: skip
    files = {shard_path(RECORDS, r["iteration"]): jsonl([r]) for r in passes}
    files[shard_path(FINDINGS, 1)] = jsonl([finding(passes[0], "B602"), finding(passes[0], "B301")])
    files[shard_path(FINDINGS, 2)] = jsonl([finding(passes[1], "C901")])
    files[shard_path(FINDINGS, 1001)] = b'{"broken": "\xff\xfe"}\n'
    files[STATE_PATH] = json.dumps({"rotation": 2}).encode()
    files["README.md"] = b"---\nconfigs: []\n---\n# card\n"
    files["data/records/NOTES.txt"] = b"not a shard\n"
    return files


def write_local(root: Path, files: dict[str, bytes]) -> LocalDataset:
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return LocalDataset(root)


def push(files: dict[str, bytes], repo: str = REPO) -> None:
    api = HfApi(token=TEST_TOKEN)
    api.create_repo(repo, repo_type="dataset", exist_ok=True)
    operations = [CommitOperationAdd(path, content) for path, content in files.items()]
    api.create_commit(repo, operations, commit_message="data", repo_type="dataset")


def answers(dataset: Dataset) -> dict[str, object]:
    """Everything a reader can ask, through the interface and the helpers built on it."""
    some = [shard_path(RECORDS, 1), shard_path(FINDINGS, 1001), "data/records/9999/x.jsonl"]
    return {
        "exists": dataset.head() is not None,
        "buckets": sorted(dataset.list_names(RECORDS.folder)),
        "bucket 0": sorted(dataset.list_names(f"{RECORDS.folder}/0000")),
        "no folder": dataset.list_names("data/nothing"),
        "records": dataset.list_files(RECORDS.folder),
        "findings": dataset.list_files(FINDINGS.folder),
        "no files": dataset.list_files("data/nothing"),
        "state text": dataset.read_text(STATE_PATH),
        "missing": dataset.read_text("data/records/0000/000000999.jsonl"),
        "texts": dataset.read_texts(some),
        "record paths": record_paths(dataset),
        "latest": latest_record(dataset),
        "recent": recent_records(dataset, 3),
        "per perspective": latest_per_perspective(dataset),
        "errors": latest_per_perspective(dataset, ("error",)),
        "latest ok": latest_ok(dataset, AUDIT),
        "rows": rows_of_iteration(dataset, FINDINGS, 1),
        "state": read_state(dataset),
        "highest": highest_iteration(dataset),
        "pass": latest_pass(dataset, AUDIT, FINDINGS, "c0ffee", where=ANALYSIS),
    }


def test_a_local_folder_and_a_hub_repo_with_the_same_files_give_the_same_answers(
    hub: HubServer, tmp_path: Path
) -> None:
    files = dataset_files()
    local = write_local(tmp_path / ANALYSIS, files)
    push(files)
    from_disk, from_hub = answers(local), answers(HubDataset(REPO, TEST_TOKEN))
    assert from_hub == from_disk
    assert from_disk["exists"] is True and from_disk["buckets"] == ["0000", "0001", "NOTES.txt"]
    assert from_disk["records"] == [shard_path(RECORDS, i) for i in (1, 2, 3, 1001)]  # no .txt
    assert from_disk["missing"] is None and from_disk["no folder"] == from_disk["no files"] == []
    texts = from_disk["texts"]
    assert isinstance(texts, dict) and texts["data/records/9999/x.jsonl"] is None
    assert "\ufffd" in texts[shard_path(FINDINGS, 1001)]  # undecodable bytes replaced, not fatal
    assert from_disk["highest"] == 1001 and from_disk["state"] == {"rotation": 2}


def test_the_dashboard_tail_reads_a_local_folder_and_a_hub_repo_alike(
    hub: HubServer, tmp_path: Path
) -> None:
    files = dataset_files()
    push(files)
    local = DatasetTail(write_local(tmp_path / ANALYSIS, files), (FINDINGS,), backfill_s=1e9)
    remote = DatasetTail(HubDataset(REPO, TEST_TOKEN), (FINDINGS,), backfill_s=1e9)
    on_disk, on_hub = local.poll(), remote.poll()
    assert on_hub.new_records == on_disk.new_records and len(on_disk.new_records) == 4
    assert on_hub.new_rows == on_disk.new_rows and len(on_disk.new_rows["findings"]) == 2
    assert on_hub.problems == on_disk.problems
    assert on_disk.problems and "000001001.jsonl skipped" in on_disk.problems[0]


def test_a_missing_dataset_has_no_head_locally_and_on_the_hub(
    hub: HubServer, tmp_path: Path
) -> None:
    assert LocalDataset(tmp_path / "nothing").head() is None
    assert HubDataset(f"{TEST_USER}/nothing", TEST_TOKEN).head() is None


def _listings(hub: HubServer) -> list[str]:
    return [r.path for r in hub.requests if "/tree/" in r.path]


def test_a_hub_dataset_lists_once_and_lists_again_only_after_its_head_moved(
    hub: HubServer,
) -> None:
    push(dataset_files())
    dataset = HubDataset(REPO, TEST_TOKEN)
    hub.requests.clear()
    assert latest_record(dataset) is not None and read_state(dataset) == {"rotation": 2}
    assert record_paths(dataset) and dataset.read_text("state/none.json") is None
    assert len(_listings(hub)) == 1  # one recursive listing for all of it
    downloads = [r for r in hub.requests if "/resolve/" in r.path]
    assert not any("none.json" in r.path for r in downloads)  # absent: known from the listing
    first = dataset.head()
    push({shard_path(RECORDS, 1002): jsonl([record(1002)])})
    assert highest_iteration(dataset) == 1001  # still the listing of the first commit
    hub.requests.clear()
    assert dataset.head() != first
    calls = [r.path for r in hub.requests if "agent-harnesses" not in r.path]
    assert calls == [f"/api/datasets/{REPO}/refs"]  # head: one call
    assert highest_iteration(dataset) == 1002 and len(_listings(hub)) == 1


# -- which dataset the settings pick -------------------------------------------------------------
def settings(tmp_path: Path, **values: object) -> Settings:
    base: dict[str, object] = {"data_dir": tmp_path / "data", "hf_token": None,
                               "hf_username": None, "hub_repo": None}  # fmt: skip
    return Settings(**{**base, **values})  # type: ignore[arg-type]


def _where(dataset: Dataset | None) -> str | None:
    return None if dataset is None else f"{type(dataset).__name__} {dataset.location}"


def test_a_command_reads_the_explicit_repo_then_the_hub_repo_setting_then_the_local_folder(
    tmp_path: Path,
) -> None:
    local = settings(tmp_path)
    assert _where(open_dataset(local, ANALYSIS)) == f"LocalDataset {tmp_path}/data/{ANALYSIS}"
    assert _where(open_dataset(local, ANALYSIS, repo="me/x")) == "HubDataset hf://datasets/me/x"
    named = settings(tmp_path, hub_repo="me/own")  # no token needed to read a public repo
    assert _where(open_dataset(named, ANALYSIS)) == "HubDataset hf://datasets/me/own"
    hub_mode = settings(tmp_path, hf_token=TEST_TOKEN, hf_username="me")
    assert _where(open_dataset(hub_mode, ANALYSIS)) == f"LocalDataset {tmp_path}/data/{ANALYSIS}"


def test_a_space_given_only_hf_token_writes_to_its_owners_repo_and_off_a_space_nothing(
    tmp_path: Path,
) -> None:
    on_space = settings(
        tmp_path,
        hf_token=TEST_TOKEN,
        space_id="alice/autocoder-analysis",
        space_author_name="alice",
    )
    assert on_space.hub_mode and on_space.repo_id(ANALYSIS) == f"alice/{ANALYSIS}"
    named = settings(tmp_path, hf_token=TEST_TOKEN, hf_username="team", space_author_name="alice",
                     space_id="alice/autocoder-analysis")  # fmt: skip
    assert named.repo_id(ANALYSIS) == f"team/{ANALYSIS}"
    off_space = settings(tmp_path, hf_token=TEST_TOKEN, space_author_name="alice")
    assert not off_space.hub_mode and off_space.repo_id(ANALYSIS) is None


def test_a_peer_is_read_from_disk_when_it_has_records_else_from_the_users_hub_repo(
    tmp_path: Path,
) -> None:
    hub_mode = settings(tmp_path, hf_token=TEST_TOKEN, hf_username="me")
    on_hub = f"HubDataset hf://datasets/me/{ANALYSIS}"
    assert _where(open_dataset(hub_mode, ANALYSIS, role="peer")) == on_hub
    (tmp_path / "data" / ANALYSIS).mkdir(parents=True)  # a folder without records is not enough
    assert _where(open_dataset(hub_mode, ANALYSIS, role="peer")) == on_hub
    write_local(tmp_path / "data" / ANALYSIS, {shard_path(RECORDS, 1): jsonl([record(1)])})
    assert _where(open_dataset(hub_mode, ANALYSIS, role="peer")) == (
        f"LocalDataset {tmp_path}/data/{ANALYSIS}"
    )
    assert open_dataset(settings(tmp_path / "elsewhere"), ANALYSIS, role="peer") is None


def test_a_peer_is_never_read_from_the_hub_repo_setting_that_names_this_workers_own_repo(
    tmp_path: Path,
) -> None:
    own_repo = settings(tmp_path, hf_token=TEST_TOKEN, hf_username="me", hub_repo="me/planning")
    assert open_dataset(own_repo, ANALYSIS, role="peer") is None
    assert open_dataset(settings(tmp_path, hf_username="me"), ANALYSIS, role="peer") is None


def test_the_dashboard_reads_the_owners_repos_in_hub_mode_else_absolute_local_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = settings(tmp_path, data_dir=Path("data"))
    assert dataset_location(relative, ANALYSIS) == str(tmp_path / "data" / ANALYSIS)
    user = settings(tmp_path, hf_token=TEST_TOKEN, hf_username="me", hub_repo="org/x")
    assert dataset_location(user, ANALYSIS) == f"me/{ANALYSIS}"
    namespace = settings(tmp_path, hf_token=TEST_TOKEN, hub_repo="org/x")
    assert dataset_location(namespace, ANALYSIS) == f"org/{ANALYSIS}"
    assert dataset_location(user, ANALYSIS, hub=False) == str(tmp_path / "data" / ANALYSIS)
    with pytest.raises(ConfigError, match="reading the Hub needs HF_TOKEN and HF_USERNAME"):
        dataset_location(relative, ANALYSIS, hub=True)
    assert _where(open_dataset(namespace, ANALYSIS, role="dashboard")) == (
        f"HubDataset hf://datasets/org/{ANALYSIS}"
    )


def test_a_location_string_opens_a_folder_or_a_hub_repo(tmp_path: Path) -> None:
    assert _where(open_location(str(tmp_path))) == f"LocalDataset {tmp_path}"
    assert _where(open_location("me/name")) == "HubDataset hf://datasets/me/name"
    assert _where(open_location("hf://datasets/me/name")) == "HubDataset hf://datasets/me/name"
    assert isinstance(open_location("hf://datasets/me/name"), HubDataset)


# -- a peer's latest pass ------------------------------------------------------------------------
def test_the_latest_pass_is_the_newest_ok_one_with_its_rows_typed(tmp_path: Path) -> None:
    found = latest_pass(write_local(tmp_path, dataset_files()), AUDIT, FINDINGS, "c0ffee")
    assert isinstance(found, PeerPass)
    assert found.iteration == 1 and found.record.perspective_name == AUDIT  # iteration 3 failed
    rows = found.rows_as(FindingRow)
    assert [(r.rule, r.line) for r in rows] == [("B602", 3), ("B301", 3)]
    with pytest.raises(TypeError, match="not Record"):
        found.rows_as(type(found.record))


def test_a_pass_at_another_commit_is_not_used_and_says_where_it_ran(tmp_path: Path) -> None:
    dataset = write_local(tmp_path, dataset_files())
    assert latest_pass(dataset, AUDIT, FINDINGS, "beef", where=ANALYSIS) == (
        f"the {AUDIT} ran at c0ffee, target at beef"
    )
    assert latest_pass(dataset, "Dependency Analysis", FINDINGS, "c0ffee", where=ANALYSIS) == (
        f"no Dependency Analysis record in {ANALYSIS}"
    )
    assert latest_pass(None, AUDIT, FINDINGS, "c0ffee", where=ANALYSIS) == (
        f"no {AUDIT} record in {ANALYSIS}"
    )


def test_rows_that_do_not_validate_are_a_reason_not_a_crash(tmp_path: Path) -> None:
    files = dataset_files()
    bad = {**finding(record(1), "B602"), "line": "three"}
    files[shard_path(FINDINGS, 1)] = jsonl([bad])
    found = latest_pass(write_local(tmp_path, files), AUDIT, FINDINGS, "c0ffee", where=ANALYSIS)
    assert found == f"the findings rows of {ANALYSIS} iteration 1 are not valid: line: " + (
        "Input should be a valid integer, unable to parse string as an integer"
    )


def test_the_old_reader_names_are_the_one_interfaces_classes() -> None:
    from autocoder.store import DatasetReader as exported
    from autocoder.store.hub import HubReader
    from autocoder.store.reader import DatasetReader, LocalReader
    from autocoder.store.tail import HubTailSource, LocalTailSource, TailSource

    assert LocalReader is LocalTailSource is LocalDataset
    assert HubReader is HubTailSource is HubDataset
    assert DatasetReader is TailSource is exported is Dataset
