"""The local store: layout like the Hub repo, load_dataset reads it, appends survive kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from datasets import load_dataset

from autocoder.errors import StoreError
from autocoder.schema import (
    FINDINGS,
    RECORDS,
    FindingRow,
    Record,
    Severity,
    TargetRef,
    utc_timestamp,
)
from autocoder.store.local import LocalStore, within_cap
from autocoder.store.reader import rows_of_iteration

from enginekit import LongLines, make_worker


async def test_seed_usage_reads_newest_record_from_local_folder(
    shop_dir: Path, tmp_path: Path
) -> None:
    worker = make_worker(shop_dir, tmp_path / "data", LongLines())
    await worker.run(iterations=3)
    folder = str(worker.store.root)
    # The documented usage, verbatim, with a local folder in place of the repo id.
    assert load_dataset(folder)["train"][-1]["perspective_name"] == "Long Lines"
    latest = load_dataset(folder)["train"][-1]
    assert latest["iteration"] == 3
    assert isinstance(latest["analysis"], dict) and isinstance(
        latest["analysis"]["top_findings"], list
    )
    assert latest["timestamp"] == worker.store.latest()["timestamp"]  # type: ignore[index]
    assert latest["timestamp"].endswith("+00:00") and "T" in latest["timestamp"]
    findings = load_dataset(folder, "findings")["train"]
    assert set(findings["iteration"]) == {1, 2, 3}
    assert findings[0]["file"].startswith("shop/") and findings[0]["line"] >= 1


async def test_shards_sort_chronologically_past_one_thousand(
    shop_dir: Path, tmp_path: Path
) -> None:
    from autocoder.schema import RECORDS
    from autocoder.store.layout import shard_path

    names = [shard_path(RECORDS, i) for i in (1, 2, 10, 999, 1000, 1001, 12345)]
    assert names == sorted(names)
    assert shard_path(RECORDS, 1001) == "data/records/0001/000001001.jsonl"


CRASHY = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from enginekit import LongLines, make_worker
    from pathlib import Path
    worker = make_worker(Path({target!r}), Path({data!r}), LongLines())
    asyncio.run(worker.run())
    """
)


def _iterations(folder: Path) -> list[int]:
    return sorted(int(p.stem) for p in (folder / "data" / "records").rglob("*.jsonl"))


def test_kill_9_during_appends_loses_no_completed_iteration_and_writes_no_duplicate(
    shop_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    folder = data / "autocoder-enginetest-results"
    script = CRASHY.format(tests=str(Path(__file__).parent), target=str(shop_dir), data=str(data))
    seen = 0
    for kill_after in (0.9, 1.3, 1.7):  # several kills at different moments of an iteration
        proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
        time.sleep(kill_after)
        deadline = time.time() + 30
        while len(_iterations(folder)) <= seen + 2 and time.time() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        iterations = _iterations(folder)
        assert iterations == list(range(1, len(iterations) + 1)), "a gap or a duplicate"
        assert len(iterations) > seen
        seen = len(iterations)
    rows = load_dataset(str(folder))["train"]
    assert list(rows["iteration"]) == list(range(1, seen + 1))
    unique = rows[-1]["cumulative_insights"]["unique_findings"]
    assert unique == rows[0]["cumulative_insights"]["unique_findings"]  # same tree, same findings


def _record(iteration: int) -> Record:
    return Record(
        iteration=iteration, timestamp=utc_timestamp(), worker="w", perspective_id="p",
        perspective_name="P", target=TargetRef(repo="r", commit=None), status="ok", error=None,
        duration_s=0.1, analysis={"summary": "s"}, cumulative_insights={},
    )  # fmt: skip


def _finding(record: Record, n: int, severity: Severity) -> FindingRow:
    return FindingRow(
        iteration=record.iteration, timestamp=record.timestamp, worker="w", perspective_id="p",
        perspective_name="P", repo="r", commit=None, tool="t", rule="R", severity=severity,
        file="a.py", line=n, message="m" * 1000, fingerprint=f"f{n}",
    )  # fmt: skip


def test_shard_cap_keeps_the_most_severe_rows_and_counts_the_rest(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "ds", "T", "d", (RECORDS, FINDINGS), max_shard_bytes=5_500)
    first = _record(1)
    severities: list[Severity] = [
        "low",
        "info",
        "critical",
        "medium",
        "high",
        "low",
        "critical",
        "info",
    ]
    store.append(first, {"findings": [_finding(first, n, s) for n, s in enumerate(severities)]}, {})
    second = _record(2)
    store.append(second, {"findings": [_finding(second, 1, "low")]}, {})

    kept = rows_of_iteration(store.reader, FINDINGS, 1)
    assert [r["severity"] for r in kept] == ["critical", "medium", "high", "critical"]  # in order
    assert [r["line"] for r in kept] == [2, 3, 4, 6]
    assert sum(len(json.dumps(r, ensure_ascii=False)) + 1 for r in kept) <= 5_500
    records = load_dataset(str(store.root))["train"]
    assert records[0]["analysis"]["overflow"] == {"findings": 4}
    assert "overflow" not in records[1]["analysis"]
    assert len(load_dataset(str(store.root), "findings")["train"]) == 5


def test_within_cap_takes_specs_by_priority_and_zero_keeps_everything() -> None:
    rows = [{"priority": p} for p in (3, 1, 5, 2, 1)]
    lines = [b"x" * 10] * len(rows)
    assert within_cap(rows, lines, 30) == [1, 3, 4]
    assert within_cap(rows, lines, 0) == [0, 1, 2, 3, 4]
    assert within_cap([{"priority": 1}, {"priority": 2}], [b"x" * 50, b"x" * 5], 20) == [1]


def test_a_file_where_the_data_folder_should_be_is_one_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="AUTOCODER_DATA_DIR") as caught:
        LocalStore(blocker / "ds", "T", "d", (RECORDS, FINDINGS))
    assert str(blocker / "ds") in str(caught.value)


def test_an_unwritable_dataset_card_is_one_store_error(tmp_path: Path) -> None:
    (tmp_path / "ds" / "README.md").mkdir(parents=True)  # the card cannot be written here
    with pytest.raises(StoreError, match=r"README\.md.*--data-dir") as caught:
        LocalStore(tmp_path / "ds", "T", "d", (RECORDS, FINDINGS))
    assert isinstance(caught.value.__cause__, OSError)


def test_once_on_an_unusable_data_dir_prints_one_line_and_exits_2(
    shop_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from autocoder.cli import main

    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    argv = ["once", "analysis", "--target", str(shop_dir), "--data-dir", str(blocker)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(blocker) in err and "Traceback" not in err


LINE_BREAKS = "a\u2028b\u2029c\x85d"  # line breaks to str.splitlines, raw characters in a shard


def test_a_line_separator_in_a_message_round_trips_through_latest_and_load_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from autocoder.cli import main
    from autocoder.store.integrity import bad_shards
    from autocoder.workers.analysis.info import ANALYSIS

    store = LocalStore(tmp_path / ANALYSIS.dataset, "T", "d", (RECORDS, FINDINGS))
    first = _record(1)
    first.analysis["summary"] = LINE_BREAKS
    finding = _finding(first, 1, "high").model_copy(update={"message": LINE_BREAKS})
    store.append(first, {"findings": [finding]}, {})
    assert "\u2028".encode() in (store.root / "data/records/0000/000000001.jsonl").read_bytes()

    assert bad_shards(store.root) == []
    assert store.latest()["analysis"]["summary"] == LINE_BREAKS  # type: ignore[index]
    assert [r["message"] for r in rows_of_iteration(store.reader, FINDINGS, 1)] == [LINE_BREAKS]
    assert main(["latest", "analysis", "--data-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["analysis"]["summary"] == LINE_BREAKS and err == ""
    assert load_dataset(str(store.root))["train"][0]["analysis"]["summary"] == LINE_BREAKS
    assert load_dataset(str(store.root), "findings")["train"]["message"] == [LINE_BREAKS]


def test_nan_is_stored_as_null_and_a_nan_line_written_by_hand_is_unreadable(
    tmp_path: Path,
) -> None:
    from autocoder.store.integrity import bad_shards
    from autocoder.store.layout import shard_path

    store = LocalStore(tmp_path / "ds", "T", "d", (RECORDS, FINDINGS))
    first = _record(1)
    first.analysis["metrics"] = {"ratio": float("nan"), "spread": [float("inf"), 1.5]}
    store.append(first, {}, {})
    assert bad_shards(store.root) == []
    loaded = load_dataset(str(store.root))["train"][0]["analysis"]["metrics"]
    assert loaded == {"ratio": None, "spread": [None, 1.5]}

    (store.root / shard_path(RECORDS, 2)).write_text('{"iteration": 2, "x": NaN}\n')
    (bad,) = bad_shards(store.root)
    assert (bad.path, bad.line) == (shard_path(RECORDS, 2), 1) and "NaN" in bad.why
    with pytest.raises(StoreError, match="autocoder repair"):
        store.latest()
