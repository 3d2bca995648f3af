"""Load proof: many concurrent viewers on the dashboard and on a worker's page, on 127.0.0.1.

The dashboard is the Space's ``4_monitoring_dashboard/app.py`` in its own process, over a data
folder with ``--records`` iterations per worker (analysis and test planning, written in the
real layout by ``bench_dashboard.write_history``). ``--viewers`` viewers at once each make
``--requests`` rounds of the page (``GET /``), ``GET /api/summary`` and one timer tick of the
page (the queue event a browser tab runs every few seconds). Per route: answers, errors, p50 and
p95 latency; and the dashboard process's RSS before (data loaded), after the load, and after
the same load again (what a leak would keep adding).

Then the analysis worker's Space app runs on a one-file target with a short interval while the
same viewers load its page (``GET /`` and ``GET /health``). The loop is on schedule when each
iteration starts when it should: ``interval`` after the previous start, or as soon as the
previous iteration is stored if it took longer. The lateness comes from the records' own start
timestamps and the times their shards were written; none may reach the interval (a missed slot).

Run: ``.venv/bin/python bench/proof_load.py [--records 10000 100000] [--viewers 50]
[--requests 20] [--json]``. ``bench/proof.py`` runs it as part of the proof table.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the visitor and server helpers of the tests
sys.path.insert(0, str(HERE))

from bench_dashboard import write_history  # noqa: E402
from proof_viewers import (  # noqa: E402
    DASHBOARD_ROUTES,
    TIMEOUT_S,
    WORKER_ROUTES,
    app_process,
    load,
    percentile,
)
from test_dashboard_sessions import MB, SPACE_APP, rss_bytes  # noqa: E402

from autocoder.schema import RECORDS  # noqa: E402
from autocoder.workers.catalog import worker_info  # noqa: E402

WORKER = "analysis"
WORKER_APP = HERE.parent / "1_analysis_worker" / "app.py"
# The first round's growth is the working set of the viewers' live sessions (bounded by
# AUTOCODER_DASHBOARD_SESSIONS); a leak is what a second, identical round still adds.
RSS_LEAK_LIMIT_MB = 20.0
MIN_ITERATIONS = 6  # the worker's page stays under load until this many iterations started
WORKER_CAP_S = 120.0  # ... or this long, whichever comes first


def measure_dashboard(records: int, viewers: int, rounds: int, base: Path) -> dict[str, Any]:
    """The dashboard over ``records`` iterations per worker under ``viewers`` viewers."""
    data, cwd = base / f"dashboard-data-{records}", base / f"dashboard-{records}"
    cwd.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_history(data, records, datetime.now(UTC) - timedelta(seconds=30))
    written_s = time.perf_counter() - started
    with app_process(SPACE_APP, data, cwd) as (url, pid):
        httpx.get(f"{url}/api/summary", timeout=TIMEOUT_S).raise_for_status()  # the first read
        before = rss_bytes(pid)
        routes = asyncio.run(load(url, DASHBOARD_ROUTES, viewers, rounds))
        after = rss_bytes(pid)
        asyncio.run(load(url, DASHBOARD_ROUTES, viewers, rounds))  # the same again: a leak?
        again = rss_bytes(pid)
    return {"app": "dashboard", "records_per_worker": records, "viewers": viewers,
            "rounds": rounds, "write_s": round(written_s, 1), "routes": routes,
            "rss_before_mb": round(before / MB, 1), "rss_after_mb": round(after / MB, 1),
            "rss_after_second_mb": round(again / MB, 1)}  # fmt: skip


def iteration_times(data: Path) -> list[tuple[float, float]]:
    """(started, stored) of each iteration the worker wrote, as POSIX times, in order: the
    record's timestamp, and the modification time of its shard (the record is written last)."""
    folder = data / worker_info(WORKER).dataset / RECORDS.folder
    times = []
    for path in sorted(folder.glob("*/*.jsonl")):
        started = datetime.fromisoformat(json.loads(path.read_text())["timestamp"]).timestamp()
        times.append((started, path.stat().st_mtime))
    return times


def lateness_s(times: list[tuple[float, float]], interval: float, since: float) -> list[float]:
    """How late each iteration that started after ``since`` did: the loop starts the next one
    ``interval`` after the previous start, or as soon as the previous one is stored if that took
    longer. What is left is the loop's own delay (e.g. an event loop kept busy by viewers)."""
    pairs = itertools.pairwise(times)
    return [b - max(a + interval, stored) for (a, stored), (b, _) in pairs if b >= since]


def measure_worker(
    viewers: int, rounds: int, interval: float, base: Path, min_iterations: int = MIN_ITERATIONS
) -> dict[str, Any]:
    """The analysis worker's loop while ``viewers`` viewers load its page: they make ``rounds``
    rounds each, and go on until ``min_iterations`` iterations started under load."""
    target, data, cwd = base / "target", base / "worker-data", base / "worker"
    target.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    (target / "mod.py").write_text("def add(a, b):\n    return a + b\n")
    env = {"AUTOCODER_TARGET": str(target), "AUTOCODER_INTERVAL_S": str(interval)}
    with app_process(WORKER_APP, data, cwd, **env) as (url, _pid):
        since = time.time()
        deadline = time.monotonic() + WORKER_CAP_S

        def more() -> bool:  # keep loading until enough iterations started under load
            started = sum(start >= since for start, _ in iteration_times(data))
            return started < min_iterations and time.monotonic() < deadline

        routes = asyncio.run(load(url, WORKER_ROUTES, viewers, rounds, more))
        until = time.time()
    late = sorted(lateness_s(iteration_times(data), interval, since))
    return {"app": "worker", "worker": WORKER, "viewers": viewers, "rounds": rounds,
            "interval_s": interval, "load_s": round(until - since, 1), "iterations": len(late),
            "lateness_p50_s": percentile(late, 50, 3),
            "lateness_max_s": percentile(late, 100, 3),
            "routes": routes}  # fmt: skip


def _route_rows(m: dict[str, Any], what: str) -> list[dict[str, Any]]:
    rows = []
    for r in m["routes"]:
        ok = r["errors"] == 0 and r["answered"] > 0
        result = f"{r['answered']:,} answered, {r['errors']} errors"
        if r["first_error"]:
            result += f" (first: {r['first_error']})"
        rows.append(
            row(
                f"{what}: {r['route']}",
                ok,
                result,
                f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms",
            )
        )
    return rows


def rows_of(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The proof table's rows of one measurement (``passed`` says whether the check held)."""
    if m["app"] == "dashboard":
        what = f"dashboard, {m['records_per_worker']:,} records/worker, {m['viewers']} viewers"
        leaked = m["rss_after_second_mb"] - m["rss_after_mb"]
        memory = row(
            f"{what}: memory",
            leaked < RSS_LEAK_LIMIT_MB,
            f"a second round adds {leaked:+.0f} MB (limit +{RSS_LEAK_LIMIT_MB:.0f})",
            f"RSS {m['rss_before_mb']:.0f} MB before, {m['rss_after_mb']:.0f} MB after, "
            f"{m['rss_after_second_mb']:.0f} MB after a second round",
        )
        return [*_route_rows(m, what), memory]
    what = f"worker page, {m['viewers']} viewers"
    late = m["lateness_max_s"]
    on_time = m["iterations"] >= 2 and late is not None and late < m["interval_s"]
    schedule = row(f"{what}: loop on schedule", on_time,
                   f"{m['iterations']} iterations under load, none a slot late" if on_time
                   else f"{m['iterations']} iterations under load, late by up to {late} s",
                   f"lateness p50 {m['lateness_p50_s']} s, max {late} s, "
                   f"interval {m['interval_s']} s")  # fmt: skip
    return [*_route_rows(m, what), schedule]


def row(check: str, passed: bool, result: str, figure: str) -> dict[str, Any]:
    return {"section": "load", "check": check, "result": result, "figure": figure,
            "passed": passed}  # fmt: skip


def run(records: list[int], viewers: int, rounds: int, interval: float, base: Path) -> list[Any]:
    """Every measurement: the dashboard at each size, then the worker's page. Each is also
    printed to stderr when done, and each size's data is deleted once measured (100k records
    per worker are 400k files)."""
    found = []
    for n in records:
        found.append(measure_dashboard(n, viewers, rounds, base))
        print(json.dumps(found[-1]), file=sys.stderr, flush=True)
        shutil.rmtree(base / f"dashboard-data-{n}", ignore_errors=True)
    found.append(measure_worker(viewers, rounds, interval, base))
    print(json.dumps(found[-1]), file=sys.stderr, flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="iterations per worker in the dashboard's data, one run per size",
    )
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="rounds of requests per viewer")
    parser.add_argument("--interval", type=float, default=1.0, help="the worker's interval (s)")
    parser.add_argument("--json", action="store_true", help="print rows and figures as JSON")
    args = parser.parse_args(argv)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="proof-load-") as tmp:
        found = run(args.records, args.viewers, args.requests, args.interval, Path(tmp))
        rows = [r for m in found for r in rows_of(m)]
    if args.json:
        print(json.dumps({"rows": rows, "measurements": found}, indent=2))
    else:
        for r in rows:
            mark = "ok  " if r["passed"] else "FAIL"
            print(f"{mark} {r['check']} | {r['result']} | {r['figure']}")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
