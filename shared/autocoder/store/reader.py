"""Reading a dataset repo, local or on the Hub, through one small interface."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from autocoder.errors import StoreError
from autocoder.schema import RECORDS, DatasetConfig
from autocoder.store.layout import STATE_PATH, is_record_shard, iteration_of, shard_path


class DatasetReader(Protocol):
    """Lists and reads the files of one dataset repo."""

    location: str

    def list_files(self, folder: str) -> list[str]: ...

    def read_text(self, path: str) -> str | None: ...


class LocalReader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def __repr__(self) -> str:
        return f"LocalReader({self.location})"

    def list_files(self, folder: str) -> list[str]:
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*.jsonl"))

    def read_text(self, path: str) -> str | None:
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None


def parse_rows(text: str, path: str) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise StoreError(f"shard {path} is not valid JSONL ({e}); move it aside and restart") from e


def record_paths(reader: DatasetReader) -> list[str]:
    return sorted(p for p in reader.list_files(RECORDS.folder) if is_record_shard(p))


def read_shard(reader: DatasetReader, path: str) -> list[dict[str, Any]]:
    text = reader.read_text(path)
    return [] if text is None else parse_rows(text, path)


def latest_record(reader: DatasetReader) -> dict[str, Any] | None:
    paths = record_paths(reader)
    for path in reversed(paths):
        rows = read_shard(reader, path)
        if rows:
            return rows[-1]
    return None


def recent_records(reader: DatasetReader, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` records, oldest first."""
    rows: list[dict[str, Any]] = []
    for path in record_paths(reader)[-limit:]:
        rows.extend(read_shard(reader, path))
    return rows[-limit:]


def latest_per_perspective(
    reader: DatasetReader, statuses: tuple[str, ...] = ("ok",), max_scan: int = 500
) -> dict[str, dict[str, Any]]:
    """The newest record of each perspective whose status is in ``statuses``, newest first.

    Looks at the newest ``max_scan`` records only, so the cost does not grow with history.
    """
    found: dict[str, dict[str, Any]] = {}
    for path in reversed(record_paths(reader)[-max_scan:]):
        for row in read_shard(reader, path):
            if row["status"] in statuses and row["perspective_name"] not in found:
                found[row["perspective_name"]] = row
    return found


def rows_of_iteration(
    reader: DatasetReader, config: DatasetConfig, iteration: int
) -> list[dict[str, Any]]:
    return read_shard(reader, shard_path(config, iteration))


def read_state(reader: DatasetReader) -> dict[str, Any]:
    text = reader.read_text(STATE_PATH)
    if text is None:
        return {}
    try:
        state: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as e:
        raise StoreError(f"{STATE_PATH} in {reader.location} is not valid JSON ({e})") from e
    return state


def highest_iteration(reader: DatasetReader) -> int:
    paths = record_paths(reader)
    return iteration_of(paths[-1]) if paths else 0
