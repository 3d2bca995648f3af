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


def _server(app: object, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    return uvicorn.Server(config)


def serve_all(names: list[str], settings: Settings, ring: RingBuffer) -> None:
    """Run the apps of ``names`` on consecutive ports from ``settings.port`` until interrupted."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    servers = []
    for offset, name in enumerate(names):
        service = WorkerService(worker_spec(name), settings)
        port = settings.port + offset
        servers.append(_server(build_app(service, ring), settings.bind_host, port))
        shown = "127.0.0.1" if settings.bind_host == "0.0.0.0" else settings.bind_host  # noqa: S104
        print(
            f"{service.spec.title}: http://{shown}:{port}/  (target {service.target.display})",
            flush=True,
        )
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
