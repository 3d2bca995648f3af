"""Serve one or more apps with uvicorn in one process, each on its own port, with URLs printed."""

from __future__ import annotations

import asyncio
import os

import uvicorn

from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.engine.logbuffer import RingBuffer
from autocoder.settings import Settings
from autocoder.workers.catalog import worker_spec

DASHBOARD = "dashboard"


def _server(app: object, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    return uvicorn.Server(config)


def _app(name: str, settings: Settings, ring: RingBuffer) -> tuple[object, str, str]:
    """The app of ``name`` (a worker or ``dashboard``), its title and what it works on."""
    if name == DASHBOARD:
        from autocoder.apps.dashboard.app import dashboard_app

        where = "the Hub" if settings.hub_mode else str(settings.data_dir.resolve())
        return dashboard_app(settings), "Monitoring Dashboard", f"reading {where}"
    service = WorkerService(worker_spec(name), settings)
    return build_app(service, ring), service.spec.title, f"target {service.target.display}"


def serve_all(names: list[str], settings: Settings, ring: RingBuffer) -> None:
    """Run the apps of ``names`` on consecutive ports from ``settings.port`` until interrupted."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    local = "127.0.0.1" if settings.bind_host == "0.0.0.0" else settings.bind_host  # noqa: S104
    if DASHBOARD in names and not os.environ.get("AUTOCODER_WORKER_URLS"):
        # `autocoder up`: the dashboard pings its sibling apps' GET /health.
        os.environ["AUTOCODER_WORKER_URLS"] = ",".join(
            f"{name}=http://{local}:{settings.port + offset}"
            for offset, name in enumerate(names)
            if name != DASHBOARD
        )
    servers = []
    for offset, name in enumerate(names):
        app, title, about = _app(name, settings, ring)
        port = settings.port + offset
        servers.append(_server(app, settings.bind_host, port))
        print(f"{title}: http://{local}:{port}/  ({about})", flush=True)
    print(f"data: {settings.data_dir.resolve()}  · Ctrl+C stops", flush=True)

    async def main() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after its graceful shutdown has run
        print("stopped", flush=True)


def run_space(name: str) -> None:
    """What a Space's ``app.py`` calls: settings from the environment, one app, served forever."""
    from autocoder.engine.logbuffer import install_logging
    from autocoder.settings import load_settings

    settings = load_settings()
    serve_all([name], settings, install_logging(settings.secrets()))
