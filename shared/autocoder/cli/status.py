"""``autocoder status``: what the dashboard's worker table shows, from the command line, with an
exit status for monitoring: 0 when all systems are operational, 1 when degraded, 2 when down.

It reads the same datasets and pings the same ``/health`` URLs as the dashboard
(:class:`autocoder.apps.dashboard.data.DashboardData`): the local folders, or the Hub when
``HF_TOKEN`` and ``HF_USERNAME`` are set; ``AUTOCODER_WORKER_URLS`` names the apps to ping.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from autocoder.apps.dashboard.data import DashboardData
from autocoder.apps.dashboard.model import Snapshot
from autocoder.apps.timestamps import when
from autocoder.cli.common import SourceDataDir, invocation

EXIT = {"All Systems Operational": 0, "Degraded": 1, "Down": 2}
COLUMNS = ("worker", "status", "iterations", "last updated", "errors 24 h", "why")


def status(
    ctx: typer.Context,
    data_dir: SourceDataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="print GET /api/summary's JSON")] = False,
) -> None:
    """Print the workers' health; exit 0 operational, 1 degraded, 2 down."""
    settings = invocation(ctx).start(data_dir=data_dir)
    data = DashboardData.from_settings(settings, settings.worker_urls)
    try:
        snapshot = data.refresh()
    finally:
        data.close()
    print(json.dumps(snapshot.summary(), indent=1) if as_json else report(snapshot))
    raise typer.Exit(EXIT[snapshot.banner])


def report(snapshot: Snapshot) -> str:
    """The banner, then one aligned row per worker, then what the dashboard lists as problems."""
    rows = [COLUMNS, *(_row(w.__dict__) for w in snapshot.workers)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = [f"{snapshot.banner}: {snapshot.online} of {snapshot.expected} workers online"]
    lines += [f"  {line}" for line in snapshot.banner_detail.splitlines() if line.strip()]
    lines += ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]])
              for row in rows]  # fmt: skip
    lines += [f"problem: {problem}" for problem in snapshot.problems]
    return "\n".join(line.rstrip() for line in lines)


def _row(worker: dict[str, Any]) -> tuple[str, ...]:
    rate = worker["error_rate_24h"]
    why = worker["failing"] or worker["damaged"] or worker["reason"]
    return (worker["title"], worker["status"], str(worker["iterations"]),
            when(worker["last_updated"]) if worker["last_updated"] else "never",
            "—" if rate is None else f"{rate:.0%}",
            why)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("status", help="the workers' health, exit 0 operational, 1 degraded, 2 down")(
        status
    )
