"""What the command groups share: the flags, the settings they load, the worker choices.

Settings are read in one place, :func:`autocoder.settings.load_settings`, with each command's
flags as overrides (a flag given wins over its environment variable); no flag reads the
environment itself, so ``--help`` works whatever the environment holds.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

import typer

from autocoder.engine.logbuffer import RingBuffer, install_logging
from autocoder.engine.target import is_url, local_root
from autocoder.errors import ConfigError
from autocoder.settings import Settings, load_settings

Command = TypeVar("Command", bound=Callable[..., Any])

Target = Annotated[
    str | None,
    typer.Option(
        metavar="TARGET", help="directory or git URL to analyse (AUTOCODER_TARGET, default .)"
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        metavar="DATA_DIR", help="local datasets (AUTOCODER_DATA_DIR, default ./autocoder-data)"
    ),
]
Host = Annotated[
    str | None,
    typer.Option(
        metavar="HOST",
        help="bind address (AUTOCODER_HOST, default 127.0.0.1); beyond loopback needs "
        "AUTOCODER_ADMIN_TOKEN",
    ),
]
SourceDataDir = Annotated[
    Path | None,
    typer.Option(metavar="DATA_DIR", help="read the local datasets here (AUTOCODER_DATA_DIR)"),
]
Repo = Annotated[
    str | None,
    typer.Option(metavar="REPO", help="read this Hub dataset, USER/NAME (AUTOCODER_HUB_REPO)"),
]


@dataclass
class Invocation:
    """One run of the command, shared by :func:`autocoder.cli.main` and the command it runs:
    the secrets to hide in an error line, and the log ring buffer the apps show."""

    secrets: list[str | None] = field(default_factory=list)
    ring: RingBuffer = field(default_factory=RingBuffer)

    def start(self, **flags: object) -> Settings:
        """The settings (environment, then the flags that were given), with logging installed
        through the redacting filter."""
        settings = load_settings(**flags)
        self.secrets = settings.secrets()
        self.ring = install_logging(self.secrets)
        return settings


def check_target(settings: Settings) -> None:
    """A local target that is missing or a file fails here, before anything is written, quoted
    as the user gave it (``--target '/x' does not exist``). A git URL is tried by its clone."""
    if not is_url(settings.target.strip()):
        local_root(settings.target.strip() or ".", settings.given_as("target"))


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_data_dir(settings: Settings, *, writing: bool) -> None:
    """The data folder is a folder (or can become one) and, for a writer, writable: else one
    ConfigError quoting it as given, checked before anything is written."""
    data_dir = settings.data_dir.expanduser()
    existing = _nearest_existing(data_dir.absolute())
    if existing.exists() and not existing.is_dir():
        what = "is a file" if existing == data_dir.absolute() else f"is under a file, {existing}"
        raise ConfigError(
            f"{settings.quoted('data_dir')} {what}, not a folder; point --data-dir "
            "(AUTOCODER_DATA_DIR) at a folder"
        )
    if writing and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{settings.quoted('data_dir')} is not writable ({existing} is read-only); point "
            "--data-dir (AUTOCODER_DATA_DIR) at a writable folder"
        )


def invocation(ctx: typer.Context) -> Invocation:
    return ctx.ensure_object(Invocation)


def choosing_worker(command: Command, names: Sequence[str]) -> Command:
    """``command`` with its ``worker`` argument limited to ``names``.

    Typer takes choices from a ``Literal`` annotation, and the names come from the catalog when
    the app is built, so this copies the command with the annotation of ``worker`` replaced
    (``Annotated[str, Argument(...)]`` -> ``Annotated[Literal[*names], Argument(...)]``).
    """
    signature = inspect.signature(command, eval_str=True)
    _str, *argument = get_args(signature.parameters["worker"].annotation)
    choice: Any = Annotated[(Literal[tuple(names)], *argument)]
    parameters = [
        p.replace(annotation=choice) if p.name == "worker" else p
        for p in signature.parameters.values()
    ]

    @functools.wraps(command)
    def with_choices(*args: Any, **kwargs: Any) -> Any:
        return command(*args, **kwargs)

    with_choices.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return with_choices  # type: ignore[return-value]
