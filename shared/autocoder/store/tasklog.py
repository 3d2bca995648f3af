"""Tasks between iterations: rows of the ``tasks`` config written the moment they change (a
submission through the API, a reset after a restart), and every task's newest state.

An iteration's task rows go into its own shard with the record (see :class:`LocalStore`); the
rows written here have no iteration, so each goes into a file of its own,
``data/tasks/between/<utc-ns>-<8 hex>.jsonl``, written atomically under the folder's lock and
scrubbed like every write. Both sit under the config's folder, so ``load_dataset(...,
"tasks")`` reads them all and the Hub sync pushes them like any other file: a restart, or an
empty Space disk restored from the Hub, keeps every task.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from autocoder.redaction import scrub_parts
from autocoder.schema import TASKS, TaskRow
from autocoder.store.dataset import Dataset, LocalDataset
from autocoder.store.layout import atomic_write, dataset_lock, jsonl
from autocoder.store.reader import parse_rows

BETWEEN = f"{TASKS.folder}/between"


def write_task_rows(root: Path, rows: list[TaskRow]) -> str:
    """Write ``rows`` to a new file of their own under ``root`` now; the file's relative path."""
    parts, _ = scrub_parts({"rows": [row.model_dump(mode="json") for row in rows]})
    name = f"{BETWEEN}/{time.time_ns():020d}-{secrets.token_hex(4)}.jsonl"
    with dataset_lock(root):
        atomic_write(root, name, jsonl(parts["rows"]))
    return name


def latest_tasks(dataset: Dataset | None) -> dict[str, TaskRow]:
    """Every task's newest row (greatest ``updated_at``; on a tie, the later path), by id."""
    if dataset is None:
        return {}
    paths = dataset.list_files(TASKS.folder)
    newest: dict[str, tuple[tuple[str, str], dict[str, Any]]] = {}
    for path, text in dataset.read_texts(paths).items():
        for row in parse_rows(text or "", path):
            order = (str(row.get("updated_at", "")), path)
            known = newest.get(str(row.get("id")))
            if known is None or order >= known[0]:
                newest[str(row.get("id"))] = (order, row)
    return {task_id: TaskRow.model_validate(row) for task_id, (_, row) in newest.items()}


def requeue_running(root: Path, now: str) -> list[str]:
    """Put every running task of the dataset at ``root`` back to pending (the process that ran
    it is gone: a restart), written at once; the ids requeued."""
    running = [t for t in latest_tasks(LocalDataset(root)).values() if t.status == "running"]
    if running:
        write_task_rows(root, [t.model_copy(update={"status": "pending", "updated_at": now,
                                                    "iteration": 0}) for t in running])  # fmt: skip
    return [t.id for t in running]
