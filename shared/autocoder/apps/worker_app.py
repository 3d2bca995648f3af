"""The Gradio app of a worker: status, latest result, logs, start/stop, API and ``GET /health``.

A FastAPI app whose lifespan starts the worker task and stops it cleanly, with the Gradio
Blocks mounted at ``/``. The same function serves a local run and a Space.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from fastapi import FastAPI

from autocoder.apps.controls import authorize, controls_rule, token_required
from autocoder.apps.service import WorkerService
from autocoder.apps.views import FINDING_COLUMNS, latest_markdown, status_markdown, table_rows
from autocoder.engine.logbuffer import RingBuffer
from autocoder.engine.spec import CodeViewer, PageTable
from autocoder.errors import Unauthorized
from autocoder.store.reader import rows_of_iteration

log = logging.getLogger("autocoder.app")
REFRESH_S = 5.0
# Gradio keeps 10,000 sessions by default, each with its own copy of every output (the log text,
# the table): a worker page keeps the newest SESSIONS, the oldest tab gets the page again.
SESSIONS = 128
SHUTDOWN_GRACE_S = 30.0


def health(service: WorkerService) -> dict[str, Any]:
    """What ``GET /health`` answers: ``status`` is ok, starting, degraded or failed, with why."""
    status = service.status()
    condition, reason = service.condition()
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


def _controls(service: WorkerService) -> None:
    """Start and stop, each checked by :func:`authorize` whatever route calls it."""
    settings = service.settings

    def control(action: str, admin_token: str | None, profile: gr.OAuthProfile | None) -> str:
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
        with gr.Row():
            start_button = gr.Button("Start", variant="primary")
            stop_button = gr.Button("Stop", variant="stop")
        gr.Markdown(controls_rule(settings))
        message = gr.Markdown()
    start_button.click(start, inputs=token, outputs=message, api_name="start")
    stop_button.click(stop, inputs=token, outputs=message, api_name="stop")


def _api(service: WorkerService) -> None:
    """Endpoints for scripts (gradio_client) and the dashboard: ``/status`` and ``/latest``."""

    def status() -> dict[str, Any]:
        return service.status()

    def latest() -> dict[str, Any] | None:
        return service.store.latest()

    hidden = gr.JSON(visible=False)
    gr.Button(visible=False).click(status, outputs=hidden, api_name="status")
    gr.Button(visible=False).click(latest, outputs=hidden, api_name="latest")


def build_blocks(service: WorkerService, ring: RingBuffer) -> gr.Blocks:
    def refresh() -> tuple[str, str, list[list[Any]], str]:
        record = service.store.latest()
        return (
            status_markdown(service.status()),
            latest_markdown(record),
            table_rows(record, part),
            "\n".join(ring.lines),
        )

    info = service.spec.info
    with gr.Blocks(title=f"autocoder · {service.spec.title}", analytics_enabled=False) as blocks:
        gr.Markdown(f"# autocoder · {service.spec.title}")
        with gr.Row():
            status_view = gr.Markdown(status_markdown(service.status()))
            _controls(service)
        latest_view = gr.Markdown(latest_markdown(service.store.latest()))
        part = info.page_table or PageTable("Top findings", "top_findings", FINDING_COLUMNS)
        table = gr.Dataframe(headers=list(part.columns), label=part.label, wrap=True)
        if info.code_viewer is not None:
            _code_viewer(service, info.code_viewer)
        with gr.Accordion("Perspectives", open=False):
            gr.Dataframe(
                value=[list(p.values()) for p in service.spec.registry.listing()],
                headers=["position", "id", "name"],
            )
        logs_view = gr.Textbox(label="Recent log", lines=10, max_lines=10, autoscroll=True)
        outputs = [status_view, latest_view, table, logs_view]
        gr.Timer(REFRESH_S).tick(
            refresh, outputs=outputs, api_name="refresh", api_visibility="private"
        )
        blocks.load(refresh, outputs=outputs, api_name="refresh_on_load", api_visibility="private")
        _api(service)
    blocks.state_session_capacity = SESSIONS
    built: gr.Blocks = blocks
    return built


def _latest_rows(service: WorkerService, viewer: CodeViewer) -> list[dict[str, Any]]:
    record = service.store.latest()
    if record is None or record["status"] != "ok":
        return []
    return rows_of_iteration(service.store.reader, viewer.config, record["iteration"])


def _code_viewer(service: WorkerService, viewer: CodeViewer) -> None:
    """A picker over the latest iteration's rows (specs) and the code of the one picked."""

    def choices() -> Any:
        options = [(viewer.choice(r), r[viewer.key_field]) for r in _latest_rows(service, viewer)]
        return gr.Dropdown(choices=options, value=options[0][1] if options else None)

    def code_of(key: str | None) -> str:
        rows = _latest_rows(service, viewer)
        found = next((r for r in rows if r[viewer.key_field] == key), None)
        return str(found[viewer.code_field]) if found else ""

    with gr.Accordion(viewer.title, open=True):
        picker = gr.Dropdown(label=viewer.label, choices=[], interactive=True)
        code = gr.Code(language=viewer.language, label=viewer.code_label)  # type: ignore[arg-type]
        gr.Button("Reload the list", size="sm").click(
            choices, outputs=picker, api_name=f"{viewer.api}_choices", api_visibility="private"
        )
    picker.change(code_of, inputs=picker, outputs=code, api_name=f"{viewer.api}_code")


def build_app(service: WorkerService, ring: RingBuffer) -> FastAPI:
    """The whole app: FastAPI with ``/health``, the worker task in its lifespan, Gradio at ``/``."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        log.info("%r started", service)
        try:
            yield
        finally:  # waits for the running iteration, then pushes, then closes the cache
            await service.shutdown(SHUTDOWN_GRACE_S)

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    def health_route() -> dict[str, Any]:
        return health(service)

    mounted: FastAPI = gr.mount_gradio_app(app, build_blocks(service, ring), path="/")
    return mounted
