"""``autocoder repair``: move the unreadable shards of local datasets aside, say what moved.

Each bad shard goes to ``quarantine/`` inside its dataset folder and a partly good one is
rewritten with its readable lines (see :mod:`autocoder.store.integrity`), so
``datasets.load_dataset`` reads the folder again and no readable row is lost. It takes each
folder's lock (``.tmp/dataset.lock``, which workers hold only while they write an iteration), so
it can run while the workers do. A card it cannot update stops it with one line before anything
moves.
"""

from __future__ import annotations

import typer

from autocoder.cli.common import DataDir, invocation
from autocoder.errors import ConfigError
from autocoder.store.integrity import dataset_folders, repair


def repair_datasets(ctx: typer.Context, data_dir: DataDir = None) -> None:
    """Repair every dataset folder of DATA_DIR (or DATA_DIR itself when it is one)."""
    settings = invocation(ctx).start(data_dir=data_dir)
    folders = dataset_folders(settings.data_dir)
    if not folders:
        raise ConfigError(
            f"{settings.quoted('data_dir')} holds no dataset folder (one with data/ in it); "
            "give the folder the workers write to"
        )
    moved = 0
    for folder in folders:
        for done in repair(folder):
            print(done.describe())
            moved += 1
    checked = ", ".join(folder.name for folder in folders)
    print(f"{moved} unreadable shards moved aside; checked {checked}")


def register(app: typer.Typer) -> None:
    app.command("repair", help="move unreadable shards aside into quarantine/")(repair_datasets)
