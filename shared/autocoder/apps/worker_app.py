"""The Gradio app of a worker: status, latest result, logs, start/stop, API and ``GET /health``.

A FastAPI app whose lifespan starts the worker task and stops it cleanly, with the Gradio
Blocks mounted at ``/``. The same function serves a local run and a Space.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import gradio as gr
from fastapi import FastAPI

from autocoder.apps import tasks_api
from autocoder.apps.controls import authorize, controls_rule, token_required
from autocoder.apps.iteration_health import RECENT
from autocoder.apps.service import WorkerService
from autocoder.apps.views import (
    CSS,
    FINDING_COLUMNS,
    Health,
    health_markdown,
    last_error_html,
    latest_markdown,
    status_markdown,
    table_html,
    worker_health,
)
from autocoder.engine.logbuffer import RingBuffer, logged_as
from autocoder.engine.spec import CodeViewer, PageTable
from autocoder.errors import StoreError, Unauthorized, redact
from autocoder.schema import TASKS
from autocoder.store.reader import rows_of_iteration

log = logging.getLogger("autocoder.app")
REFRESH_S = 5.0
# Gradio keeps 10,000 sessions by default, each with its own copy of every output (the log text,
# the table): a worker page keeps the newest SESSIONS, the oldest tab gets the page again.
SESSIONS = 128
SHUTDOWN_GRACE_S = 30.0
DEFAULT_TABLE = PageTable("Top findings", "top_findings", FINDING_COLUMNS)
LOG_ENTRIES = 60  # the newest log entries of this worker the page shows


def assess(service: WorkerService) -> tuple[Health, list[dict[str, Any]]]:
    """The worker's health and the recent records it was judged on (oldest first).

    The service's own condition comes first (cannot start, store or Hub failing), then an
    unreadable shard, then the dashboard's rule on the recent iterations.
    """
    records, unreadable = _recent(service)
    condition = service.condition()
    if unreadable and condition[0] == "ok":
        return Health("degraded", unreadable), records
    return worker_health(condition, [r.get("status", "") for r in records]), records


def health(service: WorkerService) -> dict[str, Any]:
    """What ``GET /health`` answers: ``status`` is ok, starting, degraded or failed, with why.

    Failing iterations make it degraded with the page's reason ("the last 3 iterations failed"),
    so a ping tells the same story as the page.
    """
    status = service.status()
    condition, reason = service.condition()
    if condition == "ok":
        judged, _records = assess(service)
        if judged.word != "ok":
            condition, reason = "degraded", judged.reason
    return {
        "status": condition,
        "reason": reason,
        "worker": service.spec.name,
        "state": status.get("state"),
        "waiting_for": status.get("waiting_for"),
        "iteration": status.get("iteration", 0),
        "last_completed_at": status.get("last_completed_at"),
        "interval_s": status.get("interval_s"),
        "dataset": service.spec.dataset,
    }


def button_states(service: WorkerService) -> tuple[Any, Any]:
    """Start and Stop as the state allows: only the one that applies can be clicked."""
    state = service.status().get("state")
    return gr.Button(interactive=state == "stopped"), gr.Button(interactive=state == "running")


def _controls(service: WorkerService) -> tuple[gr.Button, gr.Button]:
    """Start and stop, each checked by :func:`authorize` whatever route calls it."""
    settings = service.settings

    def control(action: str, admin_token: str | None, profile: gr.OAuthProfile | None) -> str:
        with logged_as(service.spec.name):
            try:
                who = authorize(settings, admin_token, profile.username if profile else None)
            except Unauthorized as e:
                log.warning("%s refused: %s", action, e)
                raise gr.Error(str(e)) from None
            if service.worker is None:
                return "The worker is still starting; try again in a moment."
            getattr(service.worker, action)()
            log.info("%s by %s", action, who)
            return f"{service.spec.name} worker: {action} requested by {who}."

    def start(admin_token: str | None, profile: gr.OAuthProfile | None) -> str:
        return control("start", admin_token, profile)

    def stop(admin_token: str | None, profile: gr.OAuthProfile | None) -> str:
        return control("stop", admin_token, profile)

    with gr.Column(scale=0, min_width=260):
        if settings.on_space and settings.oauth_client_id:  # hf_oauth: true
            gr.LoginButton()
        token = gr.Textbox(
            label="Admin token", type="password", visible=token_required(settings), max_lines=1
        )
        state = service.status().get("state")
        with gr.Row():
            start_button = gr.Button(
                "Start", variant="primary", interactive=state == "stopped", elem_id="ac-start"
            )
            stop_button = gr.Button(
                "Stop", variant="stop", interactive=state == "running", elem_id="ac-stop"
            )
        gr.Markdown(controls_rule(settings))
        message = gr.Markdown()
    buttons = [start_button, stop_button]
    for button, action, name in ((start_button, start, "start"), (stop_button, stop, "stop")):
        button.click(action, inputs=token, outputs=message, api_name=name).then(
            lambda: button_states(service), outputs=buttons, api_name=f"{name}_buttons",
            api_visibility="private",
        )  # fmt: skip
    return start_button, stop_button


def _api(service: WorkerService) -> None:
    """Endpoints for scripts (gradio_client) and the dashboard: ``/status`` and ``/latest``."""

    def status() -> dict[str, Any]:
        return service.status()

    def latest() -> dict[str, Any] | None:
        return service.store.latest()

    hidden = gr.JSON(visible=False)
    gr.Button(visible=False).click(status, outputs=hidden, api_name="status")
    gr.Button(visible=False).click(latest, outputs=hidden, api_name="latest")


def _recent(service: WorkerService) -> tuple[list[dict[str, Any]], str | None]:
    """The recent records, or none and why they cannot be read (a corrupt shard)."""
    try:
        return service.recent_records(RECENT), None
    except StoreError as e:
        return [], redact(str(e), service.settings.secrets())


def build_blocks(service: WorkerService, ring: RingBuffer) -> gr.Blocks:
    part = service.spec.info.page_table or DEFAULT_TABLE

    def refresh() -> tuple[Any, ...]:
        status = service.status()
        health, records = assess(service)
        record = records[-1] if records else None
        error_box = last_error_html(records, status)
        return (
            health_markdown(health),
            gr.HTML(error_box, visible=bool(error_box)),
            status_markdown(status),
            latest_markdown(record),
            table_html(record, part),
            "\n".join(ring.recent(service.spec.name, LOG_ENTRIES)),
            *button_states(service),
        )

    title = f"autocoder · {service.spec.title}"
    with gr.Blocks(title=title, analytics_enabled=False) as blocks:
        gr.Markdown(f"# {title}")
        health_view = gr.Markdown(elem_id="ac-health", elem_classes="ac-health")
        error_view = gr.HTML(elem_id="ac-last-error", visible=False)
        with gr.Row():
            status_view = gr.Markdown(status_markdown(service.status()), elem_id="ac-status")
            buttons = _controls(service)
        latest_view = gr.Markdown(elem_id="ac-latest")
        gr.Markdown(f"**{part.label}**")
        table = gr.HTML(table_html(None, part), elem_id="ac-table")
        if service.spec.info.code_viewer is not None:
            _code_viewer(service, service.spec.info.code_viewer, blocks)
        with gr.Accordion("Perspectives", open=False):
            gr.Dataframe(
                value=[list(p.values()) for p in service.spec.registry.listing()],
                headers=["position", "id", "name"],
            )
        logs_view = gr.Textbox(
            label=f"Recent log of this worker (newest first, last {LOG_ENTRIES} entries)",
            lines=12, max_lines=12, elem_id="ac-log",
        )  # fmt: skip
        outputs = [health_view, error_view, status_view, latest_view, table, logs_view, *buttons]
        gr.Timer(REFRESH_S).tick(
            refresh, outputs=outputs, api_name="refresh", api_visibility="private"
        )
        blocks.load(refresh, outputs=outputs, api_name="refresh_on_load", api_visibility="private")
        _api(service)
        if TASKS in service.spec.configs:
            tasks_api.gradio_endpoints(service)
    blocks.state_session_capacity = SESSIONS
    built: gr.Blocks = blocks
    return built


def _recent_rows(service: WorkerService, viewer: CodeViewer) -> Iterator[list[dict[str, Any]]]:
    """The rows of each recent ok iteration that has any, newest first (a failed one has none)."""
    records, _unreadable = _recent(service)
    for record in reversed(records):
        if record.get("status") == "ok":
            rows = rows_of_iteration(service.store.reader, viewer.config, record["iteration"])
            if rows:
                yield rows


def _code_viewer(service: WorkerService, viewer: CodeViewer, blocks: gr.Blocks) -> None:
    """A picker over the latest rows (specs), filled on load, and the code of the one picked."""

    def choices() -> Any:
        rows = next(_recent_rows(service, viewer), [])
        options = [(viewer.choice(r), r[viewer.key_field]) for r in rows]
        return gr.Dropdown(choices=options, value=options[0][1] if options else None)

    def code_of(key: str | None) -> str:
        """The code of ``key``, looked up in the recent iterations: newer ones may have come."""
        for rows in _recent_rows(service, viewer):
            found = next((r for r in rows if r[viewer.key_field] == key), None)
            if found:
                return str(found[viewer.code_field])
        return ""

    with gr.Accordion(viewer.title, open=True):
        picker = gr.Dropdown(label=viewer.label, choices=[], interactive=True, elem_id="ac-picker")
        code = gr.Code(language=viewer.language, label=viewer.code_label)  # type: ignore[arg-type]
        gr.Button("Reload the list", size="sm").click(
            choices, outputs=picker, api_name=f"{viewer.api}_choices", api_visibility="private"
        )
    blocks.load(
        choices, outputs=picker, api_name=f"{viewer.api}_choices_on_load", api_visibility="private"
    )
    picker.change(code_of, inputs=picker, outputs=code, api_name=f"{viewer.api}_code")


def build_app(service: WorkerService, ring: RingBuffer) -> FastAPI:
    """The whole app: FastAPI with ``/health``, the worker task in its lifespan, Gradio at ``/``."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        with logged_as(service.spec.name):
            log.info("%r started", service)
        try:
            yield
        finally:  # waits for the running iteration, then pushes, then closes the cache
            await service.shutdown(SHUTDOWN_GRACE_S)

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    def health_route() -> dict[str, Any]:
        return health(service)

    if TASKS in service.spec.configs:
        tasks_api.http_routes(app, service)

    mounted: FastAPI = gr.mount_gradio_app(app, build_blocks(service, ring), path="/", css=CSS)
    return mounted
