"""The ``autocoder`` command: up, serve, once, latest, sarif, gate.

Every flag also reads an environment variable (``--target`` / ``AUTOCODER_TARGET`` and so on),
flags win. Errors, including an unusable data folder at start (full disk, a file where a folder
must be, read-only), print one clear line and exit 2; ``gate`` exits 1 when it fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from autocoder import __version__
from autocoder.apps.reports import gate, sarif
from autocoder.apps.service import WorkerService
from autocoder.apps.testtree import write_tests
from autocoder.engine.logbuffer import RingBuffer, install_logging
from autocoder.errors import AutocoderError, one_line
from autocoder.settings import Settings, load_settings
from autocoder.store.hub import HubReader
from autocoder.store.reader import DatasetReader, LocalReader, latest_record
from autocoder.workers.catalog import WORKERS, worker_spec

log = logging.getLogger("autocoder.cli")
ANALYSIS_DATASET = "autocoder-analysis-results"
TEST_PLANNING_DATASET = "autocoder-test-planning-results"


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", help="directory or git URL to analyse (AUTOCODER_TARGET, default .)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="local datasets (AUTOCODER_DATA_DIR, default ./autocoder-data)",
    )


def _host(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        help="bind address (AUTOCODER_HOST, default 127.0.0.1); beyond loopback needs "
        "AUTOCODER_ADMIN_TOKEN",
    )


def _source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--data-dir", type=Path, help="read the local datasets here (AUTOCODER_DATA_DIR)"
    )
    group.add_argument("--repo", help="read this Hub dataset, USER/NAME (AUTOCODER_HUB_REPO)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autocoder", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"autocoder {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run every app locally and print their URLs")
    _common(up)
    up.add_argument("--port", type=int, help="first port (AUTOCODER_PORT, default 7860)")
    _host(up)
    serve = commands.add_parser("serve", help="run one app (what a Space runs)")
    serve.add_argument("worker", choices=[*sorted(WORKERS), "dashboard"])
    _common(serve)
    serve.add_argument(
        "--port", type=int, help="port (AUTOCODER_PORT or GRADIO_SERVER_PORT, default 7860)"
    )
    _host(serve)
    once = commands.add_parser("once", help="run N iterations without the interval, flush, exit")
    once.add_argument("worker", choices=sorted(WORKERS))
    _common(once)
    once.add_argument("--iterations", type=int, default=int(_env("AUTOCODER_ITERATIONS") or 1))
    latest = commands.add_parser("latest", help="print the latest record as JSON")
    latest.add_argument("worker", choices=sorted(WORKERS))
    _source(latest)
    report = commands.add_parser("sarif", help="SARIF 2.1.0 of the latest findings")
    _source(report)
    report.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    tests = commands.add_parser("tests", help="write the current generated tests as a pytest tree")
    tests.add_argument(
        "--write", type=Path, required=True, metavar="DIR", help="folder to write to"
    )
    _source(tests)
    check = commands.add_parser("gate", help="exit 1 when the latest pass has severe findings")
    _source(check)
    check.add_argument(
        "--fail-on",
        default=_env("AUTOCODER_FAIL_ON") or "high",
        help="critical|high|medium|low|info",
    )
    return parser


def _reader(args: argparse.Namespace, settings: Settings, dataset: str) -> DatasetReader:
    repo = args.repo or settings.hub_repo
    if repo:
        token = settings.hf_token.get_secret_value() if settings.hf_token else None
        return HubReader(repo, token)
    return LocalReader(settings.data_dir / dataset)


async def _once(service: WorkerService, iterations: int) -> None:
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


def _run(args: argparse.Namespace, settings: Settings, ring: RingBuffer) -> int:
    if args.command in ("serve", "up"):
        from autocoder.apps.launch import serve_all

        names = [args.worker] if args.command == "serve" else ["dashboard", *sorted(WORKERS)]
        serve_all(names, settings, ring)
        return 0
    if args.command == "once":
        if args.iterations < 1:
            raise AutocoderError(f"--iterations {args.iterations} must be at least 1")
        back_to_back = settings.model_copy(update={"interval_s": 0.0})
        service = WorkerService(worker_spec(args.worker), back_to_back)
        asyncio.run(_once(service, args.iterations))
        print(json.dumps(service.store.latest(), indent=2))
        return 0
    if args.command == "latest":
        spec = worker_spec(args.worker)
        record = latest_record(_reader(args, settings, spec.dataset))
        if record is None:
            raise AutocoderError(
                f"{spec.dataset} has no record yet; run `autocoder once {args.worker}`"
            )
        print(json.dumps(record, indent=2))
        return 0
    if args.command == "tests":
        skipped: dict[str, str] = {}
        written = write_tests(_reader(args, settings, TEST_PLANNING_DATASET), args.write, skipped)
        print(f"wrote {len(written)} test files to {args.write}")
        for spec_id, why in skipped.items():
            print(f"not written: spec {spec_id}: {why}")
        return 0
    reader = _reader(args, settings, ANALYSIS_DATASET)
    if args.command == "sarif":
        text = json.dumps(sarif(reader), indent=2)
        if args.output:
            args.output.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return 0
    passed, report = gate(reader, args.fail_on)
    print(report)
    return 0 if passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    secrets: list[str | None] = []
    try:
        settings = load_settings(
            target=getattr(args, "target", None),
            data_dir=getattr(args, "data_dir", None),
            port=getattr(args, "port", None),
            host=getattr(args, "host", None),
        )
        secrets = settings.secrets()
        ring = install_logging(secrets)
        return _run(args, settings, ring)
    except (AutocoderError, OSError) as e:  # a full disk at start is one line too, not a traceback
        print(f"autocoder: error: {one_line(e, secrets)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
