"""Unreadable shards: the one line that names them at a worker's start and in the reading
commands, and ``autocoder repair``, after which ``load_dataset`` reads the folder again with every
readable row still there."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from datasets import load_dataset

from autocoder.cli import main
from autocoder.schema import FINDINGS, RECORDS, Record
from autocoder.store.integrity import (
    QUARANTINE_DIR,
    Repaired,
    bad_shards,
    check_shard,
    quarantine,
    refresh_card_sizes,
    repair,
)
from autocoder.store.layout import LOCK_PATH, dataset_lock, shard_path
from autocoder.store.local import LocalStore
from autocoder.store.manifest import PushManifest
from autocoder.workers.analysis.info import ANALYSIS

from enginekit import LongLines, make_worker, spec


@pytest.fixture
async def dataset(shop_dir: Path, tmp_path: Path) -> Path:
    """Four iterations of records and findings, in the folder the analysis commands read."""
    worker = make_worker(shop_dir, tmp_path / "data", LongLines())
    await worker.run(iterations=4)
    return worker.store.root.rename(worker.store.root.with_name(ANALYSIS.dataset))


def _rows(root: Path, config: str = "default") -> list[dict[str, object]]:
    loaded = load_dataset(str(root), config, download_mode="force_redownload")["train"]
    return [dict(row) for row in loaded]


def _autocoder(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "autocoder.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_a_clean_dataset_has_no_unreadable_shard(dataset: Path) -> None:
    assert bad_shards(dataset) == []


def test_a_garbage_line_in_a_findings_shard_names_the_file_and_the_line(dataset: Path) -> None:
    path = shard_path(FINDINGS, 2)
    with (dataset / path).open("ab") as fh:
        fh.write(b"{not json\n")
    (bad,) = bad_shards(dataset)
    assert (bad.path, bad.line) == (path, len((dataset / path).read_bytes().splitlines()))
    assert str(dataset / path) in bad.message()
    assert "autocoder repair --data-dir" in bad.message()
    assert len(bad.good) == bad.line - 1  # every line before the garbage one is readable


def test_a_worker_starting_on_a_bad_shard_warns_once_and_goes_on(
    dataset: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (dataset / shard_path(RECORDS, 2)).write_bytes(b"\x00\xff garbage\n")
    with caplog.at_level(logging.WARNING, logger="autocoder.store"):
        store = LocalStore(dataset, "T", "d", spec(LongLines()).configs)
    assert store.problems == [check_shard(dataset, shard_path(RECORDS, 2)).message()]  # type: ignore[union-attr]
    assert [r.getMessage() for r in caplog.records] == store.problems
    assert store.last_iteration() == 4  # appending goes on after the newest shard


def test_reading_commands_tell_the_same_line_and_repair_makes_load_dataset_work(
    dataset: Path,
) -> None:
    data_dir = dataset.parent
    findings_before = _rows(dataset, "findings")
    records_before = _rows(dataset)
    partly = shard_path(FINDINGS, 2)
    with (dataset / partly).open("ab") as fh:
        fh.write(b"garbage\n")
    wholly = shard_path(RECORDS, 3)
    lost = json.loads((dataset / wholly).read_text())
    (dataset / wholly).write_bytes(b"\x00\xff garbage\n")
    with pytest.raises(Exception, match="An error occurred while generating the dataset"):
        _rows(dataset, "findings")

    expected = {bad.message() for bad in bad_shards(dataset)}
    for command in (["latest", "analysis"], ["sarif"], ["gate"]):
        done = _autocoder(*command, "--data-dir", str(data_dir))
        told = {line.removeprefix("autocoder: warning: ") for line in done.stderr.splitlines()}
        assert expected <= told, (command, done.stderr)
        assert "Traceback" not in done.stderr

    done = _autocoder("repair", "--data-dir", str(data_dir))
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert f"moved {dataset / partly} to {dataset / QUARANTINE_DIR / partly}" in done.stdout
    assert f"moved {dataset / wholly} to {dataset / QUARANTINE_DIR / wholly}" in done.stdout
    assert (dataset / QUARANTINE_DIR / wholly).read_bytes() == b"\x00\xff garbage\n"
    assert bad_shards(dataset) == []
    assert _rows(dataset, "findings") == findings_before  # the good lines were kept in place
    assert _rows(dataset) == [r for r in records_before if r["iteration"] != lost["iteration"]]
    again = _autocoder("repair", "--data-dir", str(data_dir))
    assert again.returncode == 0 and "0 unreadable shards moved aside" in again.stdout


def test_repair_of_a_folder_without_datasets_names_it(tmp_path: Path) -> None:
    done = _autocoder("repair", "--data-dir", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"autocoder: error: --data-dir '{tmp_path}' holds no dataset folder (one with data/ in "
        "it); give the folder the workers write to"
    )


def _in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_repair_waits_for_the_lock_a_store_holds_while_it_writes(dataset: Path) -> None:
    path = shard_path(FINDINGS, 2)
    with (dataset / path).open("ab") as fh:
        fh.write(b"garbage\n")
    with dataset_lock(dataset):  # what LocalStore.append holds while it writes an iteration
        waiting = _in_thread(lambda: repair(dataset))
        waiting.join(0.5)
        assert waiting.is_alive() and not (dataset / QUARANTINE_DIR).exists()
    waiting.join(10)
    assert not waiting.is_alive() and (dataset / QUARANTINE_DIR / path).is_file()
    assert bad_shards(dataset) == []


def test_a_store_append_waits_for_a_repair_and_then_counts_the_repaired_sizes(
    dataset: Path,
) -> None:
    store = LocalStore(dataset, "T", "d", spec(LongLines()).configs)
    with (dataset / shard_path(FINDINGS, 2)).open("ab") as fh:
        fh.write(b"garbage\n" * 1000)  # a repair shrinks the shard by 8,000 bytes
    record = Record.model_validate({**json.loads((dataset / shard_path(RECORDS, 4)).read_text()),
                                    "iteration": 5})  # fmt: skip
    with dataset_lock(dataset):  # what repair holds while it moves shards and rewrites the card
        appending = _in_thread(lambda: store.append(record, {}, {}))
        appending.join(0.5)
        assert appending.is_alive() and not (dataset / shard_path(RECORDS, 5)).exists()
        (done,) = repair_unlocked(dataset)
        assert done.kept > 0 and done.shard.path == shard_path(FINDINGS, 2)
    appending.join(10)
    assert not appending.is_alive() and (dataset / shard_path(RECORDS, 5)).is_file()
    card = yaml.safe_load((dataset / "README.md").read_text().split("---\n")[1])
    sizes = {info["config_name"]: info["dataset_size"] for info in card["dataset_info"]}
    on_disk = sum(f.stat().st_size for f in (dataset / FINDINGS.folder).rglob("*.jsonl"))
    assert sizes["findings"] == on_disk  # not the size before the repair plus the new shard
    assert len(_rows(dataset)) == 5


def repair_unlocked(root: Path) -> list[Repaired]:
    """What ``repair`` does under its lock, for a test that holds the lock itself."""
    done = [quarantine(bad) for bad in bad_shards(root)]
    refresh_card_sizes(root)
    return done


def test_the_lock_file_is_neither_pushed_nor_read_as_data(dataset: Path) -> None:
    with dataset_lock(dataset):
        pass
    assert (dataset / LOCK_PATH).is_file()
    assert not any(".lock" in rel for rel in PushManifest(dataset).changed())
    assert len(_rows(dataset)) == 4
    LocalStore(dataset, "T", "d", spec(LongLines()).configs)  # clearing .tmp keeps the lock file
    assert (dataset / LOCK_PATH).is_file()


@pytest.mark.parametrize(
    ("card", "why"),
    [
        ("# no front matter\n", "does not start with a `---` YAML front matter block"),
        ("---\nconfigs:\n- config_name: default\n  data_files: data/records/*/*.jsonl\n---\n",
         "has no data_files list of {split, path}"),
        ("---\n- a list\n---\n", "its front matter is not a mapping"),
        ("---\nconfigs: [\n---\n", "its front matter is not valid YAML"),
    ],
)  # fmt: skip
def test_repair_of_a_folder_with_a_card_it_cannot_update_is_one_line_and_moves_nothing(
    dataset: Path, card: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (dataset / "README.md").write_text(card)
    path = shard_path(FINDINGS, 2)
    with (dataset / path).open("ab") as fh:
        fh.write(b"garbage\n")
    assert main(["repair", "--data-dir", str(dataset.parent)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"autocoder: error: cannot update the dataset card {dataset}/README.md")
    assert why in err and "nothing was moved" in err
    assert not (dataset / QUARANTINE_DIR).exists() and bad_shards(dataset)[0].path == path
