"""Benchmark ``HubSync``'s change detection on a store with many shards.

A local store with ``--shards`` record shards (default 10,000, about 4 KB each, in the real
layout) is built in a temp dir, pushed once to a Hub stub that accepts every commit without
touching the network, and then timed on:

* ``status()`` with nothing changed (median of ``--rounds``): what ``/health`` and every UI tick
  pay;
* ``status()`` right after a restart (a new ``HubSync`` on the same folder, first call);
* a push of one new shard (``push_once``: change detection, the commit, the manifest update).

Run: ``.venv/bin/python bench/bench_hub_status.py [--shards 10000] [--rounds 5]``.
Prints a markdown table and writes ``bench/results/hub_status.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autocoder.schema import RECORDS
from autocoder.store.hub import HubSync
from autocoder.store.layout import shard_path
from autocoder.store.local import LocalStore

HERE = Path(__file__).resolve().parent
SHARD_BYTES = 4096


class StubApi:
    """Accepts every commit and keeps nothing: the benchmark measures the local side only."""

    def __init__(self) -> None:
        self.commits = 0

    def create_commit(self, *args: Any, **kwargs: Any) -> None:
        self.commits += 1


def build_store(root: Path, shards: int) -> LocalStore:
    store = LocalStore(root, "bench", "HubSync status benchmark", (RECORDS,))
    for iteration in range(1, shards + 1):
        write_shard(root, iteration)
    return store


def write_shard(root: Path, iteration: int) -> None:
    path = root / shard_path(RECORDS, iteration)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"iteration": iteration, "pad": ""})
    path.write_text(line[:-2] + "x" * (SHARD_BYTES - len(line) - 1) + '"}' + "\n")


def sync_for(store: LocalStore) -> HubSync:
    return HubSync(store, "bench/hub-status", token="", api=StubApi())  # type: ignore[arg-type]


def seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(shards: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-hub-status-") as tmp:
        root = Path(tmp) / "store"
        store = build_store(root, shards)
        sync = sync_for(store)
        first_push_s = seconds(sync.push_once)
        status_s = statistics.median(seconds(sync.status) for _ in range(rounds))
        assert sync.status()["pending_files"] == 0
        restarted = sync_for(store)
        status_after_restart_s = seconds(restarted.status)
        write_shard(root, shards + 1)
        assert restarted.status()["pending_files"] == 1
        push_one_s = seconds(restarted.push_once)
        assert restarted.status()["pending_files"] == 0
    return {
        "shards": shards,
        "first_push_s": first_push_s,
        "status_nothing_changed_s": status_s,
        "status_after_restart_s": status_after_restart_s,
        "push_one_new_shard_s": push_one_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "hub_status.json")
    args = parser.parse_args()
    result = run(args.shards, args.rounds)
    result["python"] = sys.version.split()[0]
    result["machine"] = platform.platform()
    print("| measure | seconds |\n|---|---|")
    for key, value in result.items():
        if key.endswith("_s"):
            print(f"| {key} | {value:.4f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
