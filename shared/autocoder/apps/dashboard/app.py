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
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import gradio as gr
from fastapi import FastAPI
from gradio.events import api as endpoint

from autocoder.apps.dashboard import views
from autocoder.apps.dashboard.charts import CHARTS
from autocoder.apps.dashboard.data import DashboardData
from autocoder.apps.dashboard.model import Snapshot
from autocoder.apps.dashboard.sessions import DEFAULT_SESSIONS, SharedOutputs, bound_sessions
from autocoder.settings import Settings
from autocoder.workers import catalog

log = logging.getLogger("autocoder.dashboard")
DEFAULT_REFRESH_S = 10.0  # AUTOCODER_DASHBOARD_REFRESH_S
SHUTDOWN_GRACE_S = 10.0
CACHE_S = 3.0  # the data layer is asked at most this often, whatever the number of tabs
TITLE = "autocoder · Monitoring Dashboard"


class SnapshotProvider(Protocol):
    """What the page needs from the data layer: a blocking read that returns the current view."""

    def refresh(self) -> Snapshot: ...


def unreadable(error: BaseException) -> Snapshot:
    """What to show when the very first read failed: everything down, and why."""
    reason = f"the datasets could not be read: {type(error).__name__}: {error}"
    return Snapshot(
        "Down", reason, 0, 0, None, [], [], [], [], [], [], None, [reason]
    )  # fmt: skip


@dataclass(frozen=True)
class Shown:
    """A snapshot with its charts, built once and shared by every tab."""

    snapshot: Snapshot
    figures: tuple[Any, ...]
    charts_key: int


def _charts_key(snapshot: Snapshot) -> int:
    return hash(repr((snapshot.iterations_per_hour, snapshot.findings_by_commit,
                      snapshot.specs_over_time)))  # fmt: skip


class SharedSnapshot:
    """One cached :class:`Shown` for all visitors; a read at most every ``max_age_s``.

    While a read runs, other callers get the previous snapshot at once instead of waiting, so
    the page stays responsive; a failed read keeps the last good view and says so.
    """

    def __init__(
        self,
        provider: SnapshotProvider,
        max_age_s: float = CACHE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider, self.max_age_s, self.clock = provider, max_age_s, clock
        self.latest: Shown | None = None
        self._good: Snapshot | None = None  # the last snapshot the provider returned
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self.clock() - self._read_at < self.max_age_s

    async def get(self) -> Shown:
        if self.latest is not None and (self._fresh() or self._lock.locked()):
            return self.latest
        async with self._lock:
            if self.latest is None or not self._fresh():
                self.latest = await asyncio.to_thread(self._read, self.latest)
                self._read_at = self.clock()
        return self.latest

    def _snapshot(self) -> Snapshot:
        try:
            self._good = self.provider.refresh()
        except Exception as e:
            log.exception("the dashboard could not refresh its data")
            if self._good is None:
                return unreadable(e)
            problem = f"refresh failed ({type(e).__name__}: {e}); showing the last good data"
            return replace(self._good, problems=[*self._good.problems, problem])
        return self._good

    def _read(self, previous: Shown | None) -> Shown:
        snapshot = self._snapshot()
        key = _charts_key(snapshot)
        if previous is not None and previous.charts_key == key:
            return Shown(snapshot, previous.figures, key)
        return Shown(snapshot, tuple(chart(snapshot) for chart in CHARTS), key)


def _plot() -> gr.Plot:
    return gr.Plot(show_label=False, elem_classes="ac-chart")


def _dropdown(label: str) -> gr.Dropdown:
    return gr.Dropdown(
        label=label, choices=[views.ALL], value=views.ALL, interactive=True, allow_custom_value=True
    )


def metric_slots() -> int:
    """One metrics box per table the catalog's workers show."""
    return max(1, sum(len(info.metrics) for info in catalog.workers()))


def render(
    shown: Shown,
    values: tuple[str | None, ...],
    seen: dict[str, Any],
    now: datetime,
    slots: int | None = None,
) -> tuple[Any, ...]:
    """What one tab's tick sends; the charts and the filter choices only when they changed."""
    slots = metric_slots() if slots is None else slots
    snapshot = shown.snapshot
    choices = views.filter_choices(snapshot)
    same_charts = seen.get("charts") == shown.charts_key
    choices_key = hash(repr(choices))  # a tab's state stays two numbers, whatever the data
    same_choices = seen.get("choices") == choices_key
    picked = views.kept_filters(values, choices)
    rows = views.filter_findings(snapshot.latest_findings, *picked)
    return (
        views.banner_html(snapshot),
        views.overview_markdown(snapshot, now),
        views.worker_rows(snapshot, now),
        *views.metrics_markdown(snapshot, slots),
        *(gr.skip() if same_charts else figure for figure in shown.figures),
        *(gr.skip() if same_choices else gr.Dropdown(choices=choices[k], value=v)
          for k, v in zip(views.FILTER_KEYS, picked, strict=True)),
        views.finding_rows(rows, now),
        {"charts": shown.charts_key, "choices": choices_key},
    )  # fmt: skip


class PageEvents:
    """The page's listeners: every session gets the same postprocessed output objects.

    They are made once per snapshot (:class:`SharedOutputs`), so a tab keeps no copy of its own.
    """

    def __init__(
        self, shared: SharedSnapshot, outputs: list[Any], table: gr.Dataframe, slots: int
    ) -> None:
        self.shared, self.slots = shared, slots
        self.page, self.table = SharedOutputs(outputs), SharedOutputs([table])

    async def refresh(
        self, worker: str | None, perspective: str | None, severity: str | None, tab: dict[str, Any]
    ) -> tuple[Any, ...]:
        shown, values = await self.shared.get(), (worker, perspective, severity)
        key = (values, tab.get("charts"), tab.get("choices"))

        def made() -> tuple[Any, ...]:
            return render(shown, values, tab, _now(), self.slots)

        return await self.page.get(shown, key, made)

    async def findings(
        self, worker: str | None, perspective: str | None, severity: str | None
    ) -> Any:
        shown, values = await self.shared.get(), (worker, perspective, severity)

        def made() -> list[Any]:
            rows = views.filter_findings(shown.snapshot.latest_findings, *values)
            return [views.finding_rows(rows, _now())]

        (table,) = await self.table.get(shown, values, made)
        return table

    async def summary(self) -> dict[str, Any]:
        return (await self.shared.get()).snapshot.summary()


def _now() -> datetime:
    return datetime.now(UTC)


def build_blocks(
    shared: SharedSnapshot, refresh_s: float, max_sessions: int = DEFAULT_SESSIONS
) -> gr.Blocks:
    """The page, keeping at most ``max_sessions`` sessions (see ``sessions``)."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as blocks:
        gr.Markdown(f"# {TITLE}")
        banner = gr.HTML(elem_id="banner")
        overview = gr.Markdown(elem_id="overview")
        gr.Markdown("## Workers")
        workers = gr.Dataframe(
            headers=views.WORKER_COLUMNS, datatype=views.WORKER_TYPES,
            column_widths=views.WORKER_WIDTHS, interactive=False, wrap=True, elem_id="workers",
        )  # fmt: skip
        gr.Markdown("## Metrics")
        with gr.Row():
            counts = [gr.Markdown() for _ in range(metric_slots())]
        plots = [_plot()]
        with gr.Row():
            plots += [_plot(), _plot()]
        gr.Markdown("## Latest findings")
        with gr.Row():
            filters = [_dropdown(key) for key in views.FILTER_KEYS]
        table = gr.Dataframe(
            headers=views.FINDING_HEADERS, column_widths=views.FINDING_WIDTHS,
            interactive=False, wrap=True, elem_id="findings",
        )  # fmt: skip
        seen = gr.State({})  # which charts and choices this tab has: two numbers
        outputs = [banner, overview, workers, *counts, *plots, *filters, table, seen]
        events, inputs = PageEvents(shared, outputs, table, len(counts)), [*filters, seen]
        shared_outputs: dict[str, Any] = {"postprocess": False, "api_visibility": "private"}
        gr.Timer(refresh_s).tick(
            events.refresh, inputs=inputs, outputs=outputs, api_name="refresh", **shared_outputs
        )
        blocks.load(events.refresh, inputs=inputs, outputs=outputs, api_name="refresh_on_load",
                    **shared_outputs)  # fmt: skip
        gr.on([f.input for f in filters], events.findings, inputs=filters, outputs=table,
              api_name="findings", postprocess=False)  # fmt: skip
        endpoint(events.summary, api_name="summary")
    bound_sessions(blocks, max_sessions)
    built: gr.Blocks = blocks
    return built


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
