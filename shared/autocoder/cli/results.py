"""``autocoder latest``, ``sarif``, ``tests`` and ``gate``: what the workers wrote, read back from
a local folder or a Hub repo."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from autocoder.apps.reports import gate, sarif
from autocoder.cli.common import Repo, SourceDataDir, check_data_dir, choosing_worker, invocation
from autocoder.errors import AutocoderError
from autocoder.schema import FINDINGS, SPECS, DatasetConfig
from autocoder.settings import Settings
from autocoder.store.dataset import Dataset, LocalDataset
from autocoder.store.integrity import bad_shards
from autocoder.store.locate import open_dataset
from autocoder.store.reader import latest_record
from autocoder.workers.catalog import producer_of, worker_info, worker_names
from autocoder.workers.test_planning.testtree import write_tests


def read_dataset(
    ctx: typer.Context, dataset: str, data_dir: Path | None, repo: str | None, **flags: object
) -> tuple[Settings, Dataset]:
    """The settings and the dataset a reading command reads: ``--repo`` or AUTOCODER_HUB_REPO on
    the Hub, else ``DATA_DIR/<dataset>`` (the "reader" rule of :func:`open_dataset`)."""
    if data_dir is not None and repo is not None:
        raise typer.BadParameter(
            "not allowed with --data-dir: read a local folder or a Hub repo, not both",
            ctx=ctx,
            param_hint="'--repo'",
        )
    settings = invocation(ctx).start(data_dir=data_dir, **flags)
    reader = open_dataset(settings, dataset, repo=repo)
    if isinstance(reader, LocalDataset):
        check_data_dir(settings, writing=False)
        warn_unreadable(reader)
    return settings, reader


def warn_unreadable(dataset: LocalDataset) -> None:
    """One line on stderr per unreadable shard, the line a worker logs at start. The command
    goes on: what it reads may be intact; a shard it needs that is bad fails it, same line."""
    for bad in bad_shards(dataset.root):
        print(f"autocoder: warning: {bad.message()}", file=sys.stderr)


def _produced(config: DatasetConfig) -> str:
    return producer_of(config).dataset


def latest(
    ctx: typer.Context,
    worker: Annotated[
        str, typer.Argument(metavar="WORKER", help="the worker whose newest record to print")
    ],
    data_dir: SourceDataDir = None,
    repo: Repo = None,
) -> None:
    dataset = worker_info(worker).dataset
    _settings, reader = read_dataset(ctx, dataset, data_dir, repo)
    record = latest_record(reader)
    if record is None:
        raise AutocoderError(f"{dataset} has no record yet; run `autocoder once {worker}`")
    print(json.dumps(record, indent=2))


def sarif_report(
    ctx: typer.Context,
    data_dir: SourceDataDir = None,
    repo: Repo = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="OUTPUT", help="write to this file instead of stdout"
        ),
    ] = None,
) -> None:
    _settings, reader = read_dataset(ctx, _produced(FINDINGS), data_dir, repo)
    text = json.dumps(sarif(reader), indent=2)
    if output is None:
        print(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")


def tests(
    ctx: typer.Context,
    write: Annotated[Path, typer.Option(metavar="DIR", help="folder to write to")],
    data_dir: SourceDataDir = None,
    repo: Repo = None,
) -> None:
    _settings, reader = read_dataset(ctx, _produced(SPECS), data_dir, repo)
    skipped: dict[str, str] = {}
    written = write_tests(reader, write, skipped)
    print(f"wrote {len(written)} test files to {write}")
    for spec_id, why in skipped.items():
        print(f"not written: spec {spec_id}: {why}")


def gate_check(
    ctx: typer.Context,
    data_dir: SourceDataDir = None,
    repo: Repo = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            metavar="FAIL_ON",
            help="critical|high|medium|low|info (AUTOCODER_FAIL_ON, default high)",
        ),
    ] = None,
) -> None:
    """Exit status 1 when the gate fails (typer.Exit), so ``main`` returns it as is."""
    settings, reader = read_dataset(ctx, _produced(FINDINGS), data_dir, repo, fail_on=fail_on)
    passed, report = gate(reader, settings.fail_on)
    print(report)
    if not passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    show_latest = choosing_worker(latest, worker_names())
    app.command("latest", help="print the latest record as JSON")(show_latest)
    app.command("sarif", help="SARIF 2.1.0 of the latest findings")(sarif_report)
    app.command("tests", help="write the current generated tests as a pytest tree")(tests)
    app.command("gate", help="exit 1 when the latest pass has severe findings")(gate_check)
