"""What readers ask of a dataset repo: the newest record, recent ones, a pass's rows, the state.

Every helper takes a :class:`~autocoder.store.dataset.Dataset`, a local folder or a Hub repo
alike. ``LocalReader`` and ``DatasetReader`` are the old names of ``LocalDataset`` and
``Dataset``, kept importable for callers written before the one interface.
"""

from __future__ import annotations

import json
from typing import Any

from autocoder.errors import StoreError
from autocoder.schema import RECORDS, DatasetConfig
from autocoder.store.dataset import Dataset, LocalDataset
from autocoder.store.integrity import bad_shard, parse_shard
from autocoder.store.layout import STATE_PATH, is_record_shard, iteration_of, shard_path

DatasetReader = Dataset  # the old name of the interface
LocalReader = LocalDataset  # the old name of the local folder's reader

__all__ = [
    "DatasetReader",
    "LocalReader",
    "highest_iteration",
    "latest_ok",
    "latest_per_perspective",
    "latest_record",
    "parse_rows",
    "read_shard",
    "read_state",
    "recent_records",
    "record_paths",
    "rows_of_iteration",
]


def parse_rows(text: str | bytes, path: str) -> list[dict[str, Any]]:
    """The rows of a shard's content, read by :func:`~autocoder.store.integrity.parse_shard`
    (the reading ``autocoder repair`` and the dashboard share); a bad line is a StoreError."""
    parsed = parse_shard(text.encode() if isinstance(text, str) else text)
    if parsed.bad is not None:
        number, why = parsed.bad
        raise StoreError(f"unreadable shard {path}: line {number} {why}; move it aside")
    return parsed.rows


def _local_bytes(dataset: LocalDataset, path: str) -> bytes | None:
    """A local shard's bytes as they are on disk (None: no such file), so undecodable bytes
    count as unreadable here as in ``autocoder repair``."""
    try:
        return (dataset.root / path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StoreError(f"cannot read {dataset.root / path}: {e}") from e


def record_paths(dataset: Dataset) -> list[str]:
    return sorted(p for p in dataset.list_files(RECORDS.folder) if is_record_shard(p))


def read_shard(dataset: Dataset, path: str) -> list[dict[str, Any]]:
    """The rows of one shard; an unreadable local shard is the line of
    :meth:`~autocoder.store.integrity.BadShard.message`, as at a worker's start."""
    if not isinstance(dataset, LocalDataset):
        text = dataset.read_text(path)
        return [] if text is None else parse_rows(text, path)
    data = _local_bytes(dataset, path)
    if data is None:
        return []
    parsed = parse_shard(data)
    bad = bad_shard(dataset.root, path, parsed)
    if bad is not None:
        raise StoreError(bad.message())
    return parsed.rows


def latest_record(dataset: Dataset) -> dict[str, Any] | None:
    paths = record_paths(dataset)
    for path in reversed(paths):
        rows = read_shard(dataset, path)
        if rows:
            return rows[-1]
    return None


def recent_records(dataset: Dataset, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` records, oldest first."""
    rows: list[dict[str, Any]] = []
    for path in record_paths(dataset)[-limit:]:
        rows.extend(read_shard(dataset, path))
    return rows[-limit:]


def latest_per_perspective(
    dataset: Dataset, statuses: tuple[str, ...] = ("ok",), max_scan: int = 500
) -> dict[str, dict[str, Any]]:
    """The newest record of each perspective whose status is in ``statuses``, newest first.

    Looks at the newest ``max_scan`` records only, so the cost does not grow with history.
    """
    found: dict[str, dict[str, Any]] = {}
    for path in reversed(record_paths(dataset)[-max_scan:]):
        for row in read_shard(dataset, path):
            if row["status"] in statuses and row["perspective_name"] not in found:
                found[row["perspective_name"]] = row
    return found


def latest_ok(dataset: Dataset, perspective: str, max_scan: int = 500) -> dict[str, Any] | None:
    """The newest ``ok`` record of one perspective among the newest ``max_scan`` record shards.

    Reads newest first and stops at the first match: on the Hub every shard read is a download.
    """
    paths = reversed(record_paths(dataset)[-max_scan:])
    newest_first = (row for path in paths for row in reversed(read_shard(dataset, path)))
    wanted = (
        r for r in newest_first if r["status"] == "ok" and r["perspective_name"] == perspective
    )
    return next(wanted, None)


def rows_of_iteration(
    dataset: Dataset, config: DatasetConfig, iteration: int
) -> list[dict[str, Any]]:
    return read_shard(dataset, shard_path(config, iteration))


def read_state(dataset: Dataset) -> dict[str, Any]:
    text = dataset.read_text(STATE_PATH)
    if text is None:
        return {}
    try:
        state: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as e:
        raise StoreError(f"{STATE_PATH} in {dataset.location} is not valid JSON ({e})") from e
    return state


def highest_iteration(dataset: Dataset) -> int:
    paths = record_paths(dataset)
    return iteration_of(paths[-1]) if paths else 0
