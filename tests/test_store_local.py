"""The local store: layout like the Hub repo, load_dataset reads it, appends survive kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from datasets import load_dataset

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
