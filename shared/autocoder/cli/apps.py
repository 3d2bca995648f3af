"""``autocoder up`` and ``autocoder serve``: the apps, served until Ctrl+C."""

from __future__ import annotations

from typing import Annotated

import typer

from autocoder.cli.common import (
    DataDir,
    Host,
    Target,
    check_data_dir,
    check_target,
    choosing_worker,
    invocation,
)
from autocoder.workers.catalog import worker_names

# The dashboard's app name (autocoder.apps.launch.DASHBOARD): not imported from there, because
# launch loads gradio and uvicorn, which only a command that serves needs.
DASHBOARD = "dashboard"
COMBINED = "combined"  # every worker and the dashboard on one port (autocoder.apps.combined)


def _serve(ctx: typer.Context, names: list[str], **flags: object) -> None:
    """Serve ``names``; a bad target or data folder fails first, before a port or a record."""
    from autocoder.apps.launch import serve_all

    run = invocation(ctx)
    settings = run.start(**flags)
    check_data_dir(settings, writing=True)
    if names != [DASHBOARD]:
        check_target(settings)
    serve_all(names, settings, run.ring)


def up(
    ctx: typer.Context,
    target: Target = None,
    data_dir: DataDir = None,
    port: Annotated[
        int | None, typer.Option(metavar="PORT", help="first port (AUTOCODER_PORT, default 7860)")
    ] = None,
    host: Host = None,
) -> None:
    """The dashboard first, then every runnable worker of the catalog, on consecutive ports;
    with no port given, the first free block from 7860 (printed)."""
    names = [DASHBOARD, *worker_names()]
    _serve(ctx, names, target=target, data_dir=data_dir, port=port, host=host)


def serve(
    ctx: typer.Context,
    worker: Annotated[
        str, typer.Argument(metavar="APP", help="a worker, dashboard, or combined (all in one)")
    ],
    target: Target = None,
    data_dir: DataDir = None,
    port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT", help="port (AUTOCODER_PORT or GRADIO_SERVER_PORT, default 7860)"
        ),
    ] = None,
    host: Host = None,
) -> None:
    """One app, as a Space runs it."""
    _serve(ctx, [worker], target=target, data_dir=data_dir, port=port, host=host)


def register(app: typer.Typer) -> None:
    app.command("up", help="run every app locally and print their URLs")(up)
    serve_one = choosing_worker(serve, [*worker_names(), DASHBOARD, COMBINED])
    app.command("serve", help="run one app (what a Space runs)")(serve_one)
