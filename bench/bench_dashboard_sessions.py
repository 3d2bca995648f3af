"""Benchmark the dashboard's memory per visitor: its RSS after 0, 500, 1,000 and 3,500 sessions.

The Space's ``4_monitoring_dashboard/app.py`` serves real worker output (the analysis worker's
6 iterations and the test planning worker's 3 on the fixture repo ``shop``) from a subprocess
on 127.0.0.1, and new visitors are played the way a browser's page does it: a new session hash,
the page's load event, then ``--ticks`` timer ticks (one by default: a visitor who stays for
one refresh period), each over ``/gradio_api/queue/join`` and the SSE stream of
``/gradio_api/queue/data``. The RSS of the server (VmRSS) is read after each mark.

Run: ``.venv/bin/python bench/bench_dashboard_sessions.py [--marks 500 1000 3500]``;
``--app OTHER/4_monitoring_dashboard/app.py`` measures another checkout (e.g. the code before a
change). Prints a markdown table and writes ``bench/results/dashboard_sessions.json``.
Takes about 4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the visitor and server helpers of the test

from test_dashboard_sessions import (  # noqa: E402
    MB,
    SPACE_APP,
    dashboard_process,
    rss_bytes,
    visits,
    write_worker_data,
)

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]


def shop_repo(base: Path) -> Path:
    """A git copy of the fixture repo ``shop``, the workers' target."""
    target = base / "shop"
    shutil.copytree(HERE.parent / "tests" / "fixtures" / "shop", target)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run([*GIT, *args], cwd=target, check=True)
    return target


def measure(app_py: Path, marks: list[int], ticks: int, base: Path) -> list[dict[str, Any]]:
    os.environ["AUTOCODER_NETWORK"] = "0"
    with contextlib.redirect_stdout(io.StringIO()):  # `once` prints each record
        write_worker_data(shop_repo(base), base / "data")
    rows: list[dict[str, Any]] = []
    with dashboard_process(base / "data", base, app_py) as (url, pid):
        done, started = 0, time.monotonic()
        rows.append({"sessions": 0, "rss_mb": round(rss_bytes(pid) / MB, 1), "elapsed_s": 0.0})
        for mark in marks:
            asyncio.run(visits(url, mark - done, ticks))
            done = mark
            elapsed = round(time.monotonic() - started, 1)
            rows.append({"sessions": mark, "rss_mb": round(rss_bytes(pid) / MB, 1),
                         "elapsed_s": elapsed})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| sessions | RSS (MB) | since 0 (MB) | per session since 0 (KB) |",
             "|---:|---:|---:|---:|"]  # fmt: skip
    for row in rows:
        grown = row["rss_mb"] - rows[0]["rss_mb"]
        per = f"{grown * 1024 / row['sessions']:.0f}" if row["sessions"] else "—"
        lines.append(f"| {row['sessions']:,} | {row['rss_mb']:.0f} | {grown:+.0f} | {per} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marks", type=int, nargs="+", default=[500, 1_000, 3_500])
    parser.add_argument("--ticks", type=int, default=1, help="timer ticks per visitor")
    parser.add_argument("--app", type=Path, default=SPACE_APP, help="the Space app.py to serve")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "dashboard_sessions.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sessions-") as tmp:
        rows = measure(args.app.resolve(), sorted(args.marks), args.ticks, Path(tmp))
    print("\n" + table(rows) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "app": str(args.app), "ticks_per_visitor": args.ticks, "marks": rows,
    }  # fmt: skip
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
