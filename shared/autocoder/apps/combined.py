"""The combined Space: every runnable worker and the dashboard in one process, on one port.

For users who pay for one Space instead of four. The dashboard is at ``/``, each worker's own app
(its page, its API, its ``/health``, its task routes) at ``/{name}/``, and ``GET /health`` sums
the workers'. Starlette runs only the root app's lifespan, never a mounted app's, so the root
lifespan enters every sub-app's: the workers start with the root app and stop with it, each
pushing its last records on the way out.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from autocoder.apps.dashboard.app import dashboard_app
from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app, health
from autocoder.engine.logbuffer import RingBuffer
from autocoder.errors import ConfigError
from autocoder.settings import Settings
from autocoder.workers.catalog import worker_names, worker_spec

log = logging.getLogger("autocoder.combined")
COMBINED = "combined"
# The worst status wins the root /health: one failed worker makes the whole Space failed.
SEVERITY = ("ok", "starting", "degraded", "failed")


def mounted_names() -> list[str]:
    """The workers the combined app mounts, in catalog order: every runnable one."""
    return worker_names()


def worker_urls(base_url: str, names: Iterable[str] | None = None) -> str:
    """``AUTOCODER_WORKER_URLS`` pointing the dashboard at the workers mounted beside it:
    ``analysis=http://127.0.0.1:7860/analysis,...``."""
    base = base_url.rstrip("/")
    return ",".join(f"{name}={base}/{name}" for name in (names or mounted_names()))


def combined_health(answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the root ``GET /health`` answers: ok only when every worker is ok, else the worst
    worker's status, with each non-ok worker's reason and every worker's own answer."""
    statuses = [str(answer.get("status")) for answer in answers.values()]
    worst = max(statuses, key=_severity, default="ok")
    reasons = [
        _reason(name, answer) for name, answer in answers.items() if answer["status"] != "ok"
    ]
    return {"status": worst, "reason": "; ".join(reasons) or None, "app": COMBINED,
            "workers": answers}  # fmt: skip


def _reason(name: str, answer: dict[str, Any]) -> str:
    """``analysis: degraded (the last 3 iterations failed)``."""
    why = answer.get("reason")
    return f"{name}: {answer.get('status')}" + (f" ({why})" if why else "")


def _severity(status: str) -> int:
    """Where ``status`` ranks in :data:`SEVERITY`; an unknown word counts as failed."""
    return SEVERITY.index(status) if status in SEVERITY else len(SEVERITY) - 1


def _check(settings: Settings) -> None:
    """Refuse settings that cannot hold for several workers at once."""
    if settings.hub_repo:
        raise ConfigError(
            f"{settings.quoted('hub_repo')} names the dataset repo of one worker, but the "
            "combined Space runs every worker; unset it and set HF_USERNAME, so each worker "
            "writes to its own dataset"
        )


def combined_app(settings: Settings, ring: RingBuffer) -> FastAPI:
    """The whole combined app over one :class:`Settings` (one target, one data folder, one Hub
    user); each worker keeps its own default interval unless AUTOCODER_INTERVAL_S is set.

    ``settings.worker_urls`` should point at the mounted workers (:func:`worker_urls`), so the
    dashboard's worker table pings them on this same port.
    """
    _check(settings)
    services = [WorkerService(worker_spec(name), settings) for name in mounted_names()]
    workers = {service.spec.name: build_app(service, ring) for service in services}
    dashboard = dashboard_app(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            # Reverse order on exit: the workers stop (each pushes its last records), the
            # dashboard last.
            await stack.enter_async_context(dashboard.router.lifespan_context(dashboard))
            for sub in workers.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            log.info("combined app started: dashboard and %s", ", ".join(workers))
            try:
                yield
            finally:
                _stop_taking_work(services)

    root = FastAPI(lifespan=lifespan)

    @root.get("/health")
    def health_route() -> dict[str, Any]:
        return combined_health({service.spec.name: health(service) for service in services})

    for name, sub in workers.items():
        _add_redirect(root, name)
        root.mount(f"/{name}", sub)
    root.mount("/", dashboard)  # last: it answers every path the routes above do not
    return root


def _stop_taking_work(services: list[WorkerService]) -> None:
    """Tell every worker at once to start no new iteration, so the shutdowns that follow one by
    one each wait only for its own running iteration, not for the others' next ones."""
    for service in services:
        if service.worker is not None:
            service.worker.close()


def _add_redirect(root: FastAPI, name: str) -> None:
    """``/analysis`` to ``/analysis/``: without the slash the path would reach the dashboard."""

    def redirect() -> RedirectResponse:
        return RedirectResponse(f"{name}/", status_code=307)

    root.add_api_route(f"/{name}", redirect, methods=["GET"], include_in_schema=False)
