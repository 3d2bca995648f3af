"""The dashboard page: its layout and what each tab's timer tick and each filter change send.

Every tab's tick renders the shared snapshot (:mod:`cache`); what it sends is made once per
snapshot and tab state and handed to every session (:class:`SharedOutputs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import gradio as gr
from gradio.events import api as endpoint

from autocoder.apps.dashboard import sections, views
from autocoder.apps.dashboard.cache import SharedSnapshot, Shown
from autocoder.apps.dashboard.model import Snapshot
from autocoder.apps.dashboard.sessions import DEFAULT_SESSIONS, SharedOutputs, bound_sessions
from autocoder.apps.dashboard.tabs import TableTab, table_tabs
from autocoder.workers import catalog

TITLE = "autocoder · Monitoring Dashboard"
TABLE_HEIGHT = 2400  # px: a page of rows shows whole, without a scroll box inside the page


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
    pages: Sequence[float | None] = (),
    tabs: tuple[TableTab, ...] | None = None,
) -> tuple[Any, ...]:
    """What one tab's tick sends; the charts and the filter choices only when they changed.

    ``pages`` are the page numbers of the ``tabs``' tables in order (1 for those not given).
    """
    slots = metric_slots() if slots is None else slots
    snapshot = shown.snapshot
    choices = views.filter_choices(snapshot)
    same_charts = seen.get("charts") == shown.charts_key
    choices_key = hash(repr(choices))  # a tab's state stays two numbers, whatever the data
    same_choices = seen.get("choices") == choices_key
    picked = views.kept_filters(values, choices)
    return (
        views.banner_html(snapshot),
        views.overview_markdown(snapshot, now),
        views.worker_rows(snapshot, now),
        *views.metrics_markdown(snapshot, slots),
        *(gr.skip() if same_charts else figure for figure in shown.figures),
        *(gr.skip() if same_choices else gr.Dropdown(choices=choices[k], value=v)
          for k, v in zip(views.FILTER_KEYS, picked, strict=True)),
        *tables(snapshot, picked, pages, now, tabs),
        sections.funnel_markdown(snapshot),
        sections.tasks_markdown(snapshot),
        sections.task_rows(snapshot, now),
        {"charts": shown.charts_key, "choices": choices_key},
    )  # fmt: skip


def tables(
    snapshot: Snapshot,
    values: Sequence[str | None],
    pages: Sequence[float | None],
    now: datetime,
    tabs: tuple[TableTab, ...] | None = None,
) -> tuple[Any, ...]:
    """Each tab's page of rows and its label, in the tabs' order (the catalog's by default)."""
    tabs = table_tabs() if tabs is None else tabs
    numbers = [pages[i] if i < len(pages) else 1 for i in range(len(tabs))]
    out: list[Any] = []
    for tab, page in zip(tabs, numbers, strict=True):
        rows = views.filter_findings(snapshot.rows_of(tab.config), *values)
        shown, label = views.page_of(rows, page)
        out += [views.finding_rows(shown, now), label]
    return tuple(out)


def split_inputs(asked: Sequence[Any]) -> tuple[tuple[str | None, ...], tuple[float | None, ...]]:
    """The page's inputs as (filter values, page numbers of the tables, in the tabs' order)."""
    count = len(views.FILTER_KEYS)
    return tuple(asked[:count]), tuple(asked[count:])


class PageEvents:
    """The page's listeners: every session gets the same postprocessed output objects.

    They are made once per snapshot (:class:`SharedOutputs`), so a tab keeps no copy of its own.
    Their inputs are the filters, then one page number per table (``tabs``), then the tab's
    state for :meth:`refresh`.
    """

    def __init__(
        self,
        shared: SharedSnapshot,
        outputs: list[Any],
        table_outputs: list[Any],
        slots: int,
        tabs: tuple[TableTab, ...] | None = None,
    ) -> None:
        self.shared, self.slots = shared, slots
        self.tabs = table_tabs() if tabs is None else tabs
        self.page, self.tables = SharedOutputs(outputs), SharedOutputs(table_outputs)

    async def refresh(self, *asked: Any) -> tuple[Any, ...]:
        """A timer tick or the page's load: ``asked`` is the filters, the pages, the tab state."""
        *inputs, tab = asked
        values, pages = split_inputs(inputs)
        shown = await self.shared.get()
        state: dict[str, Any] = tab or {}
        key = (values, pages, state.get("charts"), state.get("choices"))

        def made() -> tuple[Any, ...]:
            return render(shown, values, state, _now(), self.slots, pages, self.tabs)

        return await self.page.get(shown, key, made)

    async def table_pages(self, *asked: Any) -> tuple[Any, ...]:
        """Every table at the page asked for, after a filter or a page number changed."""
        values, pages = split_inputs(asked)
        shown = await self.shared.get()

        def made() -> tuple[Any, ...]:
            return tables(shown.snapshot, values, pages, _now(), self.tabs)

        return await self.tables.get(shown, (values, pages), made)

    def first_pages(self) -> tuple[int, ...]:
        """Every table back on page 1: a new filter starts a new list."""
        return (1,) * len(self.tabs)

    async def findings(
        self, worker: str | None, perspective: str | None, severity: str | None
    ) -> dict[str, Any]:
        """Every latest analysis finding matching the filters (``/findings``: no paging)."""
        snapshot = (await self.shared.get()).snapshot
        rows = views.filter_findings(snapshot.latest_findings, worker, perspective, severity)
        return {"headers": views.FINDING_HEADERS, "data": views.finding_rows(rows, _now())}

    async def summary(self) -> dict[str, Any]:
        return (await self.shared.get()).snapshot.summary()


def _now() -> datetime:
    return datetime.now(UTC)


def _table(headers: list[str], elem_id: str) -> tuple[gr.Dataframe, gr.Markdown, gr.Number]:
    """A findings-like table with its page number and a label saying which rows it shows."""
    table = gr.Dataframe(
        headers=headers, datatype=views.FINDING_TYPES, column_widths=views.FINDING_WIDTHS,
        interactive=False, wrap=True, elem_id=elem_id, elem_classes="ac-table",
        max_height=TABLE_HEIGHT,
    )  # fmt: skip
    with gr.Row():
        label = gr.Markdown(elem_id=f"{elem_id}-rows")
        page = gr.Number(
            label="page", value=1, minimum=1, precision=0, step=1, elem_id=f"{elem_id}-page",
            scale=0, min_width=120,
        )  # fmt: skip
    return table, label, page


def _traceability_and_tasks() -> tuple[gr.Plot, gr.Markdown, gr.Markdown, gr.Dataframe]:
    """The Traceability section (the funnel and its numbers in words) and the Tasks section."""
    gr.Markdown("## Traceability")
    funnel = gr.Plot(show_label=False, elem_classes="ac-chart", elem_id="traceability")
    said = gr.Markdown(elem_id="traceability-text")
    gr.Markdown("## Tasks")
    note = gr.Markdown(elem_id="tasks-note")
    table = gr.Dataframe(
        headers=sections.TASK_HEADERS, datatype=sections.TASK_TYPES,
        column_widths=sections.TASK_WIDTHS, interactive=False, wrap=True, elem_id="tasks",
        elem_classes="ac-table", max_height=TABLE_HEIGHT,
    )  # fmt: skip
    return funnel, said, note, table


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
            elem_classes="ac-table",
        )  # fmt: skip
        gr.Markdown("## Metrics")
        with gr.Row():
            counts = [gr.Markdown() for _ in range(metric_slots())]
        plots = [_plot()]
        with gr.Row():
            plots += [_plot(), _plot()]
        funnel, traced, tasks_note, tasks_table = _traceability_and_tasks()
        plots.append(funnel)  # the charts' order: charts.CHARTS
        gr.Markdown("## Latest findings")
        with gr.Row():
            filters = [_dropdown(key) for key in views.FILTER_KEYS]
        tabs = table_tabs()
        with gr.Tabs():
            shown_tables: list[Any] = []
            pages: list[gr.Number] = []
            for tab in tabs:
                with gr.Tab(tab.title, elem_id=tab.tab_id):
                    table, label, page = _table(tab.headers, tab.elem_id)
                shown_tables += [table, label]
                pages.append(page)
        seen = gr.State({})  # which charts and choices this tab has: two numbers
        outputs = [banner, overview, workers, *counts, *plots, *filters, *shown_tables,
                   traced, tasks_note, tasks_table, seen]  # fmt: skip
        events = PageEvents(shared, outputs, shown_tables, len(counts), tabs)
        asked = [*filters, *pages]
        private: dict[str, Any] = {"postprocess": False, "api_visibility": "private"}
        gr.Timer(refresh_s).tick(
            events.refresh, inputs=[*asked, seen], outputs=outputs, api_name="refresh", **private
        )
        blocks.load(events.refresh, inputs=[*asked, seen], outputs=outputs,
                    api_name="refresh_on_load", **private)  # fmt: skip
        gr.on([f.input for f in filters], events.first_pages, outputs=pages,
              api_name="first_pages", api_visibility="private", queue=False)  # fmt: skip
        changed = [f.input for f in filters] + [page.change for page in pages]
        gr.on(changed, events.table_pages, inputs=asked, outputs=shown_tables,
              api_name="table_pages", **private)  # fmt: skip
        endpoint(events.findings, api_name="findings")
        endpoint(events.summary, api_name="summary")
    bound_sessions(blocks, max_sessions)
    built: gr.Blocks = blocks
    return built
