"""The monitoring dashboard app: one page over the workers' datasets, ``/api/summary``, ``/health``.

A FastAPI app with the Gradio Blocks mounted at ``/``, like a worker's app. Every open tab runs
its own ``gr.Timer``; they all read one :class:`SharedSnapshot`, which asks the data layer for a
new snapshot at most every few seconds, in a thread, one read at a time, and builds the charts
once per snapshot. What a tick sends is also made once per snapshot and handed to every tab,
and Gradio keeps a bounded number of sessions (``sessions.py``): what a visitor costs does not
grow with the data, and visitors together cost a bounded amount. The dashboard only reads: it
never writes to a dataset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from fastapi import FastAPI

from autocoder.apps.dashboard import views
from autocoder.apps.dashboard.cache import SharedSnapshot, Shown, SnapshotProvider, unreadable
from autocoder.apps.dashboard.data import DashboardData
from autocoder.apps.dashboard.page import PageEvents, build_blocks, render
from autocoder.apps.dashboard.sessions import DEFAULT_SESSIONS
from autocoder.settings import Settings

# The page and the cache live in page.py and cache.py; their names stay importable from here.
__all__ = [
    "PageEvents", "SharedSnapshot", "Shown", "SnapshotProvider", "build_app", "build_blocks",
    "dashboard_app", "render", "unreadable",
]  # fmt: skip

log = logging.getLogger("autocoder.dashboard")
DEFAULT_REFRESH_S = 10.0  # AUTOCODER_DASHBOARD_REFRESH_S
SHUTDOWN_GRACE_S = 10.0


def build_app(
    provider: SnapshotProvider,
    refresh_s: float = DEFAULT_REFRESH_S,
    max_sessions: int = DEFAULT_SESSIONS,
) -> FastAPI:
    """The whole dashboard: FastAPI with ``/health`` and ``/api/summary``, Gradio at ``/``."""
    shared = SharedSnapshot(provider)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        warm = asyncio.create_task(shared.get(), name="autocoder-dashboard-first-read")
        log.info("dashboard started")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(warm, SHUTDOWN_GRACE_S)
            close = getattr(provider, "close", None)
            if callable(close):
                await asyncio.to_thread(close)
            log.info("dashboard stopped")

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    def health_route() -> dict[str, Any]:
        latest = shared.latest
        return {
            "status": "ok",
            "app": "dashboard",
            "data_as_of": latest.snapshot.data_as_of if latest else None,
            "banner": latest.snapshot.banner if latest else None,
        }

    @app.get("/api/summary")
    async def summary_route() -> dict[str, Any]:
        return (await shared.get()).snapshot.summary()

    blocks = build_blocks(shared, refresh_s, max_sessions)
    mounted: FastAPI = gr.mount_gradio_app(app, blocks, path="/", css=views.CSS)
    return mounted


def dashboard_app(settings: Settings) -> FastAPI:
    """The dashboard over the datasets of ``settings``: on the Hub with HF settings, else local."""
    data = DashboardData.from_settings(settings)
    return build_app(data, settings.dashboard_refresh_s, settings.dashboard_sessions)
