"""The autocoder command: up, serve, once, latest, sarif, tests, gate, repair, patches, apply,
status, deploy.

Every flag also reads an environment variable (``--target`` / ``AUTOCODER_TARGET`` and so on),
flags win. Exit status: 0; 1 when ``gate`` fails (``status``: 1 degraded, 2 down); 2 for a
usage error and for every error, which is one line on stderr with the secrets hidden (an
unusable data folder at start, full disk, a file where a folder must be, included); 130 on
Ctrl+C. When the reader of the output
goes away (``autocoder sarif | head``), click ends the command quietly, status 1, no stderr.

The app is built on each call from the worker catalog (:func:`build_app`): a worker added to
``autocoder.workers.catalog.CATALOG`` is offered by serve, once and latest and started by up,
with no change here. One module per command group: :mod:`.apps` (up, serve), :mod:`.runs`
(once), :mod:`.results` (latest, sarif, tests, gate), :mod:`.repair` (repair), :mod:`.patches`
(patches, apply), :mod:`.status` (status), :mod:`.deploy` (deploy).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from autocoder import __version__
from autocoder.cli import apps, deploy, patches, repair, results, runs, status
from autocoder.cli.common import Invocation
from autocoder.errors import AutocoderError, one_line

__all__ = ["build_app", "main"]


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"autocoder {__version__}")
        raise typer.Exit


def _top(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="show program's version number and exit",
        ),
    ] = False,
) -> None:
    """Options that come before the command."""


def build_app() -> typer.Typer:
    """The command, with the workers the catalog has now."""
    app = typer.Typer(
        name="autocoder",
        help=__doc__.splitlines()[0] if __doc__ else None,
        add_completion=False,
        rich_markup_mode=None,  # plain help, as argparse printed it: no boxes in logs and pipes
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_top)
    apps.register(app)
    runs.register(app)
    results.register(app)
    repair.register(app)
    patches.register(app)
    status.register(app)
    deploy.register(app)
    return app


def _usage_error(error: typer.TyperException) -> int:
    """Click's usage line, hint and message (``show``), exit status 2."""
    show = getattr(error, "show", None)
    if callable(show):
        show()
    else:
        print(f"autocoder: error: {error.format_message()}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    run = Invocation()
    try:
        command = typer.main.get_command(build_app())
        status = command.main(
            args=argv, prog_name="autocoder", standalone_mode=False, obj=run
        )  # returns what --help, --version and typer.Exit ask for; raises the rest
    except typer.TyperException as e:
        return _usage_error(e)
    except (AutocoderError, OSError) as e:  # a full disk at start is one line too, not a traceback
        print(f"autocoder: error: {one_line(e, run.secrets)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, typer.Abort):
        return 130
    return status if isinstance(status, int) else 0
