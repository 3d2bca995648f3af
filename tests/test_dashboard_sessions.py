"""Memory per visitor on the dashboard: many sessions, flat RSS; closed and old sessions dropped.

Visitors are played the way a browser's page does it, over HTTP on 127.0.0.1: a new session
hash, ``POST /gradio_api/queue/join`` for the page's load event then for one timer tick, each
answer read from the SSE stream of ``/gradio_api/queue/data`` up to ``close_stream``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from gradio.routes import App

from autocoder.apps.dashboard import views
from autocoder.apps.dashboard.app import build_app
from autocoder.apps.dashboard.model import MetricCounts, Snapshot, WorkerView
from autocoder.apps.dashboard.page import metric_slots
from autocoder.apps.dashboard.tabs import table_tabs
from autocoder.cli import main
from autocoder.errors import ConfigError
from autocoder.settings import load_settings

from appkit import free_port, serving

SESSIONS_ENV = "AUTOCODER_DASHBOARD_SESSIONS"

SPACE_APP = Path(__file__).parent.parent / "4_monitoring_dashboard" / "app.py"
FILTERS = ["All", "All", "All"]
INPUTS = [*FILTERS, *(1 for _ in table_tabs())]  # the filters, then each table's page number
MB = 1024 * 1024


# --- a browser's session, over HTTP ---------------------------------------------------------


def event_indices(url: str) -> dict[str, int]:
    """The page's events by api_name, from the config the page loads."""
    config = httpx.get(f"{url}/config", timeout=30).json()
    return {d["api_name"]: i for i, d in enumerate(config["dependencies"]) if d.get("api_name")}


async def call_event(
    client: httpx.AsyncClient, url: str, fn_index: int, session: str, data: list[Any]
) -> list[Any]:
    """Join the queue for one event of ``session`` and read its stream; the output data."""
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
            "trigger_id": None}  # fmt: skip
    joined = await client.post(f"{url}/gradio_api/queue/join", json=body)
    joined.raise_for_status()
    output: list[Any] = []
    params = {"session_hash": session}
    async with client.stream("GET", f"{url}/gradio_api/queue/data", params=params) as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("data:"):
                continue
            message = orjson.loads(line[5:])
            if message["msg"] == "process_completed":
                assert message["success"], message
                output = message["output"]["data"]
            if message["msg"] == "close_stream":
                break
    return output


async def visit(client: httpx.AsyncClient, url: str, events: dict[str, int], ticks: int = 1) -> str:
    """One new visitor: the page's load event, then ``ticks`` of its timer; its session hash."""
    session = uuid.uuid4().hex[:11]
    await call_event(client, url, events["refresh_on_load"], session, [*INPUTS, None])
    for _ in range(ticks):
        await call_event(client, url, events["refresh"], session, [*INPUTS, None])
    return session


async def visits(url: str, count: int, ticks: int = 1, concurrency: int = 6) -> None:
    """``count`` new visitors, ``concurrency`` at a time, each ``ticks`` ticks long."""
    events, gate = event_indices(url), asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60) as client:

        async def one() -> None:
            async with gate:
                await visit(client, url, events, ticks)

        await asyncio.gather(*(one() for _ in range(count)))


def rss_bytes(pid: int) -> int:
    """The resident memory of process ``pid`` (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def write_worker_data(target: Path, data: Path) -> None:
    """Real output of the analysis (6 iterations) and test planning (3) workers on ``target``."""
    for worker, n in (("analysis", "6"), ("test-planning", "3")):
        argv = ["once", worker, "--target", str(target), "--data-dir", str(data)]
        assert main([*argv, "--iterations", n]) == 0


@contextmanager
def dashboard_process(
    data: Path, cwd: Path, app_py: Path = SPACE_APP, **env: str
) -> Iterator[tuple[str, int]]:
    """The Space's ``app.py`` serving ``data`` on 127.0.0.1: its URL and pid; stopped after."""
    port = free_port()
    environ = {**os.environ, "AUTOCODER_DATA_DIR": str(data), "AUTOCODER_PORT": str(port),
               "AUTOCODER_NETWORK": "0", "GRADIO_ANALYTICS_ENABLED": "False", **env}  # fmt: skip
    argv = [sys.executable, str(app_py)]
    with (cwd / "dashboard.log").open("w") as log:
        proc = subprocess.Popen(argv, env=environ, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=5).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((cwd / "dashboard.log").read_text()) from None
                time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


# --- the test that a visitor costs nothing lasting ------------------------------------------


@pytest.mark.slow
def test_a_thousand_visitors_leave_the_dashboard_rss_flat(shop_repo: Path, tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOCODER_NETWORK", "0")
        write_worker_data(shop_repo, tmp_path / "data")
    with dashboard_process(tmp_path / "data", tmp_path) as (url, pid):
        asyncio.run(visits(url, 200, ticks=0))  # visitors who leave before the first tick
        after_200 = rss_bytes(pid)
        asyncio.run(visits(url, 800, ticks=0))
        after_1000 = rss_bytes(pid)
    growth = (after_1000 - after_200) / MB
    # Before: about 120 KB kept per session, never released: some 95 MB more here.
    assert growth < 30, (
        f"RSS {after_200 / MB:.0f} MB after 200 sessions, {after_1000 / MB:.0f} after 1,000"
    )


# --- in-process: what Gradio keeps per session ----------------------------------------------


def _worker(name: str) -> WorkerView:
    return WorkerView(name, name.title(), f"/d/{name}", "online", "fine", 3,
                      "2026-11-21T13:19:00Z", "Security Audit", 0.0, None, 60.0)  # fmt: skip


def _snapshot() -> Snapshot:
    findings = [{"timestamp": "2026-11-21T13:19:00Z", "worker": "analysis",
                 "perspective": "Security Audit", "severity": ("high", "low")[i % 2],
                 "file": f"pkg/m{i}.py", "line": i, "rule": "B101", "message": "m" * 80,
                 "commit": "c" * 40} for i in range(300)]  # fmt: skip
    return Snapshot(
        "All Systems Operational", "", 1, 1, "2026-11-21T13:19:00Z", [_worker("analysis")],
        [MetricCounts("Unique findings by severity", "findings_by_severity",
                      {"high": 150, "low": 150}),
         MetricCounts("Unique findings by perspective", "findings_by_perspective",
                      {"Security Audit": 300})],
        [], [], [], findings,
        "2026-11-21T13:19:58Z",
    )  # fmt: skip


class Fixed:
    def refresh(self) -> Snapshot:
        return _snapshot()


def gradio_app(app: FastAPI) -> App:
    """The Gradio app mounted in the dashboard's FastAPI app."""
    mounted = (getattr(route, "app", None) for route in app.routes)
    return next(inner for inner in mounted if isinstance(inner, App))


def _table_value(gradio: App, session: str, table_id: int) -> Any:
    return gradio.state_holder.session_data[session].config_values[table_id]["props"]["value"]


def _table_id(gradio: App) -> int:
    return next(b._id for b in gradio.get_blocks().blocks.values() if b.elem_id == "findings")


async def test_sessions_share_one_copy_of_the_findings_table() -> None:
    app = build_app(Fixed(), refresh_s=3600)
    with serving(app) as url:
        events = event_indices(url)
        async with httpx.AsyncClient(timeout=60) as client:
            first, second = [await visit(client, url, events) for _ in range(2)]
        gradio = gradio_app(app)
        table = _table_value(gradio, first, _table_id(gradio))
        assert len(table["data"]) == views.PAGE_ROWS  # one page of the 300 findings
        assert _table_value(gradio, second, _table_id(gradio)) is table  # one object, two tabs


async def test_the_oldest_sessions_are_dropped_and_come_back_whole() -> None:
    app = build_app(Fixed(), refresh_s=3600, max_sessions=3)
    with serving(app) as url:
        events = event_indices(url)
        async with httpx.AsyncClient(timeout=60) as client:
            sessions = [await visit(client, url, events) for _ in range(5)]
            held = list(gradio_app(app).state_holder.session_data)
            assert held == sessions[2:]
            tick = await call_event(client, url, events["refresh"], sessions[0], [*INPUTS, None])
    charts_at = 3 + metric_slots()  # after the banner, the overview, the workers, the metrics
    plots = tick[charts_at : charts_at + 3]
    assert all(p and p.get("type") == "plotly" for p in plots)  # the charts again, not skipped


def test_session_capacity_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SESSIONS_ENV, raising=False)
    assert load_settings().dashboard_sessions == 128
    monkeypatch.setenv(SESSIONS_ENV, "10")
    assert load_settings().dashboard_sessions == 10
    for bad in ("0", "-3", "many", "2.5"):
        monkeypatch.setenv(SESSIONS_ENV, bad)
        with pytest.raises(ConfigError, match=SESSIONS_ENV):
            load_settings()
