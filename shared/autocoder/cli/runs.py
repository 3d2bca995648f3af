"""``autocoder once``: a worker's iterations back to back, then the final push, then exit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
from collections.abc import Iterator
from typing import Annotated

import typer

from autocoder.apps.service import WorkerService
from autocoder.cli.common import (
    DataDir,
    Target,
    check_data_dir,
    check_target,
    choosing_worker,
    invocation,
)
from autocoder.errors import AutocoderError, ConfigError
from autocoder.workers.catalog import worker_names, worker_spec


async def run_iterations(service: WorkerService, iterations: int) -> None:
    """Prepare the target, run ``iterations``, then shut down (final push, cache closed)."""
    await asyncio.to_thread(service.target.prepare)  # a wrong target fails here, before any record
    try:
        await service.open(give_up_after_s=120.0)
        await service.run(iterations)  # returns once the last iteration is stored
    finally:  # then the final push, then the cache closes (an interrupted iteration is counted)
        await service.shutdown()
    if service.hub is not None and service.hub.pending():
        raise AutocoderError(
            f"{len(service.hub.pending())} files could not be pushed to {service.hub.repo_id}; "
            f"they stay in {service.store.root} and go with the next run"
        )


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """CI runners and HF Jobs stop a job with SIGTERM: stop as on Ctrl+C (the running iteration
    is counted, the final push made), not at once with the records unpushed."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def once(
    ctx: typer.Context,
    worker: Annotated[str, typer.Argument(metavar="WORKER", help="the worker to run")],
    target: Target = None,
    data_dir: DataDir = None,
    iterations: Annotated[
        int | None,
        typer.Option(
            metavar="ITERATIONS", help="iterations to run (AUTOCODER_ITERATIONS, default 1)"
        ),
    ] = None,
) -> None:
    """Print the newest record once the iterations are stored (and pushed, in Hub mode)."""
    settings = invocation(ctx).start(target=target, data_dir=data_dir, iterations=iterations)
    if settings.iterations < 1:
        given = "--iterations " if iterations is not None else "AUTOCODER_ITERATIONS="
        raise ConfigError(f"{given}{settings.iterations} must be at least 1")
    check_data_dir(settings, writing=True)
    check_target(settings)  # before the service, which creates the dataset folder
    back_to_back = settings.model_copy(update={"interval_s": 0.0})
    service = WorkerService(worker_spec(worker), back_to_back)
    with sigterm_as_ctrl_c():
        asyncio.run(run_iterations(service, settings.iterations))
    print(json.dumps(service.store.latest(), indent=2))


def register(app: typer.Typer) -> None:
    run_once = choosing_worker(once, worker_names())
    app.command("once", help="run N iterations without the interval, flush, exit")(run_once)
