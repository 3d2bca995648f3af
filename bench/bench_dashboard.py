"""Benchmark the dashboard's data layer: refresh time against the length of the history.

For 1k, 10k and 100k iterations of history per worker (analysis and test planning, one iteration
a minute up to now; the implementation worker is not deployed), synthetic shards are written
to a temp dir in the real layout (records, plus a small findings or specs shard per iteration),
and ``DashboardData`` in local mode is timed on:

* the first load: a fresh ``DashboardData`` (it reads back the 7-day window: 10,080 iterations
  at one a minute), and the same with the whole history (``backfill_s`` infinite), for reference;
* a refresh with nothing new (median of ``--rounds``);
* a refresh with one new iteration in each of the two workers (median of ``--rounds``).

Targets at 100k: nothing new under 50 ms, one new iteration under 200 ms.

Run: ``/work/venv/bin/python bench/bench_dashboard.py [--sizes 1000 10000 100000]``.
Prints a markdown table and writes ``bench/results/dashboard.json``.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from autocoder.apps.dashboard.data import DashboardData, slim_record
from autocoder.apps.dashboard.model import WorkerSource
from autocoder.schema import FINDINGS, RECORDS, SEVERITIES, SPECS, utc_timestamp
from autocoder.store.layout import jsonl, shard_path
from autocoder.store.tail import DatasetTail, LocalTailSource
from autocoder.workers import catalog

HERE = Path(__file__).resolve().parent
TARGETS_MS = {"nothing_new": 50.0, "one_new": 200.0}
ANALYSIS = ["Code Quality Analysis", "Architecture Review", "Performance Analysis",
            "Security Audit", "Dependency Analysis", "Test Coverage Analysis"]  # fmt: skip
PLANNING = [f"Test Planning Perspective {n}" for n in range(1, 16)]
WORKERS = {
    "analysis": ("autocoder-analysis-results", ANALYSIS, FINDINGS),
    "test-planning": ("autocoder-test-planning-results", PLANNING, SPECS),
}


def record(worker: str, i: int, at: datetime, perspective: str) -> dict[str, Any]:
    """A record shaped like the workers' (an analysis record is about 3 KB)."""
    top = [
        {"tool": "ruff", "rule": f"R{k}", "severity": SEVERITIES[k % 5], "file": "pkg/mod.py",
         "line": k, "message": "x" * 80, "fingerprint": f"{i:x}{k}"}
        for k in range(15)
    ]  # fmt: skip
    analysis = {
        "summary": "s" * 200, "findings_total": 15, "top_findings": top,
        "findings_by_severity": {"high": 2, "medium": 5, "low": 8}, "metrics": {"n": i},
    }  # fmt: skip
    insights: dict[str, Any] = {
        "iterations_completed": i, "unique_findings": i % 500,
        "unique_findings_by_severity": {s: i % 97 for s in SEVERITIES},
        "unique_findings_by_perspective": {p: i % 13 for p in ANALYSIS},
    }  # fmt: skip
    if worker == "test-planning":
        analysis = {"summary": "s" * 200, "specs_total": 3, "metrics": {"specs": 3}}
        insights = {"iterations_completed": i, "failure_modes_identified": i % 40,
                    "test_specs_total": 100 + i % 50, "test_specs_active": 90 + i % 40}  # fmt: skip
    return {
        "iteration": i, "timestamp": utc_timestamp(at), "worker": worker,
        "perspective_id": perspective.lower().replace(" ", "_"), "perspective_name": perspective,
        "target": {"repo": "https://github.com/o/r", "commit": f"{i // 1440:040x}"},
        "status": "error" if i % 50 == 0 else "ok", "error": None, "duration_s": 3.2,
        "analysis": analysis, "cumulative_insights": insights,
    }  # fmt: skip


def item_rows(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """Two small findings (analysis) or two small specs (test planning) of the iteration."""
    meta = {k: rec[k] for k in ("iteration", "timestamp", "worker", "perspective_name")}
    meta.update(repo=rec["target"]["repo"], commit=rec["target"]["commit"])
    if rec["worker"] == "analysis":
        return [{**meta, "perspective_id": rec["perspective_id"], "tool": "ruff", "rule": f"R{k}",
                 "severity": "medium", "file": "pkg/mod.py", "line": k, "message": "m" * 60,
                 "fingerprint": f"{rec['iteration']}-{k}"} for k in range(2)]  # fmt: skip
    return [{**meta, "id": f"{rec['iteration']}-{k}", "perspective": rec["perspective_name"],
             "subject": "pkg.mod:f", "file": "pkg/mod.py", "line": k, "kind": "unit",
             "rationale": "r" * 60, "inputs": "i", "expected": "e", "mocks": "",
             "priority": 1 + k, "test_code": "def test_f():\n    assert f()\n",
             "status": "not_run"} for k in range(2)]  # fmt: skip


def write_iteration(root: Path, worker: str, i: int, at: datetime) -> None:
    dataset, perspectives, config = WORKERS[worker]
    rec = record(worker, i, at, perspectives[(i - 1) % len(perspectives)])
    for rel, rows in ((shard_path(config, i), item_rows(rec)), (shard_path(RECORDS, i), [rec])):
        path = root / dataset / rel  # the record last, as the worker writes it
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jsonl(rows))


def write_history(root: Path, n: int, end: datetime) -> None:
    for worker in WORKERS:
        for i in range(1, n + 1):
            write_iteration(root, worker, i, end - timedelta(minutes=n - i))


def sources(root: Path) -> list[WorkerSource]:
    return [WorkerSource.of(info, str(root / info.dataset)) for info in catalog.workers()]


def peak_rss_mb() -> float:
    """VmHWM of this process (its peak resident memory so far), in MB."""
    status = Path("/proc/self/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024, 1)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def full_history(root: Path, clock: Callable[[], datetime]) -> DashboardData:
    tails = {
        s.name: DatasetTail(LocalTailSource(Path(s.location)), s.worker.extra_configs,
                            backfill_s=float("inf"), backfill_max=sys.maxsize,
                            project=slim_record)
        for s in sources(root)
    }  # fmt: skip
    return DashboardData(sources(root), min_refresh_s=0, tails=tails, clock=clock)


def bench_size(n: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-dashboard-{n}-") as tmp:
        root = Path(tmp)
        end = datetime.now(UTC) - timedelta(seconds=30)
        write_ms, _ = timed(lambda: write_history(root, n, end))
        lag = datetime.now(UTC) - end - timedelta(seconds=30)  # the dashboard starts as written

        def clock() -> datetime:
            return datetime.now(UTC) - lag

        data = DashboardData(sources(root), min_refresh_s=0, clock=clock)
        first_ms, snap = timed(data.refresh)
        assert snap.banner == "All Systems Operational", snap.banner_detail
        assert [w.iterations for w in snap.workers] == [n, n, 0]
        loaded = sum(data.histories[0].hours.values())  # records read back by the first load
        nothing = [timed(data.refresh)[0] for _ in range(rounds)]
        one_new = []
        for k in range(1, rounds + 1):
            for worker in WORKERS:
                write_iteration(root, worker, n + k, clock())
            ms, snap = timed(data.refresh)
            assert [w.iterations for w in snap.workers] == [n + k, n + k, 0]
            one_new.append(ms)
        peak_mb = peak_rss_mb()  # before the whole-history load below
        full_ms, snap = timed(full_history(root, clock).refresh)
        assert snap.workers[0].iterations == n + rounds
    return {
        "iterations_per_worker": n,
        "write_history_s": round(write_ms / 1000, 1),
        "first_load_ms": round(first_ms, 1),
        "first_load_whole_history_ms": round(full_ms, 1),
        "first_load_records_per_worker": loaded,
        "nothing_new_ms_median": round(statistics.median(nothing), 2),
        "nothing_new_ms_max": round(max(nothing), 2),
        "one_new_ms_median": round(statistics.median(one_new), 2),
        "one_new_ms_max": round(max(one_new), 2),
        "latest_findings_rows": len(snap.latest_findings),
        "peak_rss_mb_so_far": peak_mb,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| iterations/worker | first load (7-day window) | first load (whole history) "
        "| nothing new (median / max) | one new iteration (median / max) | peak RSS |"
    )
    lines = [head, "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['iterations_per_worker']:,} | {r['first_load_ms']:,.0f} ms | "
            f"{r['first_load_whole_history_ms']:,.0f} ms | {r['nothing_new_ms_median']:.2f} / "
            f"{r['nothing_new_ms_max']:.2f} ms | {r['one_new_ms_median']:.2f} / "
            f"{r['one_new_ms_max']:.2f} ms | {r['peak_rss_mb_so_far']:,.0f} MB |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "dashboard.json")
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        rows.append(bench_size(n, args.rounds))
        print(json.dumps(rows[-1]), flush=True)
    biggest = rows[-1]
    verdict = {
        "nothing_new": biggest["nothing_new_ms_median"] < TARGETS_MS["nothing_new"],
        "one_new": biggest["one_new_ms_median"] < TARGETS_MS["one_new"],
    }
    print("\n" + table(rows) + "\n")
    print(f"targets at {biggest['iterations_per_worker']:,}: {TARGETS_MS} -> {verdict}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "peak_rss_mb_with_whole_history": peak_rss_mb(),
        "targets_ms": TARGETS_MS, "met": verdict, "rounds": args.rounds, "sizes": rows,
    }  # fmt: skip
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(verdict.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
