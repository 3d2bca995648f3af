"""Concurrent viewers of an app on 127.0.0.1, and a Space's ``app.py`` run in its own process.

What ``proof_load.py`` measures with: ``load`` plays ``viewers`` viewers at once, each making a
bounded number of rounds of requests (one after the other, as a browser tab does), and gives per
route the answers, errors and latencies; a request counts as answered only with status 200.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_dashboard_sessions import INPUTS, call_event, event_indices

from appkit import free_port

TIMEOUT_S = 120.0
LEFT_OUT_PREFIXES = ("AUTOCODER_", "SPACE_", "OAUTH_")
LEFT_OUT = {"HF_TOKEN", "HF_USERNAME", "HUGGING_FACE_HUB_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"}
START_S = 300.0  # importing Gradio on 2 cores shared with other jobs can take a minute or more

Route = Callable[[httpx.AsyncClient, "Viewer"], Awaitable[None]]


class LoadError(Exception):
    """A request that was not answered 200."""


@dataclass
class Viewer:
    """One viewer: the URL it looks at and its Gradio session (a browser tab's)."""

    url: str
    events: dict[str, int]
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:11])
    ticks: int = 0


@dataclass
class RouteStats:
    route: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    def summary(self) -> dict[str, Any]:
        done = sorted(self.latencies_ms)
        return {"route": self.route, "answered": len(done), "errors": self.errors,
                "p50_ms": percentile(done, 50), "p95_ms": percentile(done, 95),
                "max_ms": round(done[-1], 1) if done else None,
                "first_error": self.first_error}  # fmt: skip


def percentile(ordered: list[float], q: float, digits: int = 1) -> float | None:
    """The nearest-rank ``q``-th percentile of an ascending list (None when empty)."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return round(ordered[int(rank) - 1], digits)


def get(path: str) -> Route:
    async def call(client: httpx.AsyncClient, viewer: Viewer) -> None:
        answer = await client.get(viewer.url + path)
        if answer.status_code != 200:
            raise LoadError(f"GET {path} answered {answer.status_code}")

    return call


async def timer_tick(client: httpx.AsyncClient, viewer: Viewer) -> None:
    """The page's load event on a viewer's first tick, its timer's refresh after."""
    name = "refresh" if viewer.ticks else "refresh_on_load"
    viewer.ticks += 1
    try:
        await call_event(client, viewer.url, viewer.events[name], viewer.session, [*INPUTS, None])
    except AssertionError as e:  # call_event asserts that the event succeeded
        raise LoadError(f"timer tick failed: {e}") from None


DASHBOARD_ROUTES: dict[str, Route] = {
    "GET /": get("/"), "GET /api/summary": get("/api/summary"), "timer tick": timer_tick,
}  # fmt: skip
WORKER_ROUTES: dict[str, Route] = {"GET /": get("/"), "GET /health": get("/health")}


async def one_viewer(
    client: httpx.AsyncClient,
    viewer: Viewer,
    routes: dict[str, Route],
    stats: dict[str, RouteStats],
    rounds: int,
    more: Callable[[], bool],
) -> None:
    """``rounds`` rounds of every route, one request after the other, then more while asked."""
    done = 0
    while done < rounds or more():
        for name, route in routes.items():
            started = time.perf_counter()
            try:
                await route(client, viewer)
            except (httpx.HTTPError, LoadError) as e:
                stats[name].errors += 1
                stats[name].first_error = (
                    stats[name].first_error or f"{type(e).__name__}: {e}"[:200]
                )
                continue
            stats[name].latencies_ms.append((time.perf_counter() - started) * 1000)
        done += 1


async def load(
    url: str,
    routes: dict[str, Route],
    viewers: int,
    rounds: int,
    more: Callable[[], bool] = lambda: False,
) -> list[dict[str, Any]]:
    """``viewers`` concurrent viewers of ``url``: per route, answers, errors and latencies."""
    events = event_indices(url)
    stats = {name: RouteStats(name) for name in routes}
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them, as a
    # browser does: else a request sent as the server closes one fails with a ReadError.
    limits = httpx.Limits(
        max_connections=viewers, max_keepalive_connections=viewers, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=limits) as client:
        await asyncio.gather(*(
            one_viewer(client, Viewer(url, events), routes, stats, rounds, more)
            for _ in range(viewers)
        ))  # fmt: skip
    return [s.summary() for s in stats.values()]


def local_environment() -> dict[str, str]:
    """This environment without tokens, Space variables or autocoder settings: a bench run from
    a shell where ``HF_TOKEN`` is set must not write to the Hub, and settings are its own."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(LEFT_OUT_PREFIXES) and key not in LEFT_OUT
    }


@contextmanager
def app_process(app_py: Path, data: Path, cwd: Path, **env: str) -> Iterator[tuple[str, int]]:
    """A Space's ``app.py`` serving ``data`` on 127.0.0.1 in its own process, once its
    ``/health`` answers: its URL and pid; stopped (SIGTERM, then waited for) after."""
    port = free_port()
    environ = {**local_environment(), "AUTOCODER_DATA_DIR": str(data),
               "AUTOCODER_PORT": str(port), "AUTOCODER_NETWORK": "0",
               "GRADIO_ANALYTICS_ENABLED": "False", **env}  # fmt: skip
    log_path = cwd / "app.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, str(app_py)], env=environ, cwd=cwd, stdout=log,
                                stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app_py} did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(60)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
