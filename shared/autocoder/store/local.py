"""The local store: a folder laid out exactly like the Hub dataset repo, written crash-safely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from autocoder.schema import RECORDS, DatasetConfig, Record, dataset_card
from autocoder.store.layout import CARD_PATH, STATE_PATH, TMP_DIR, atomic_write, jsonl, shard_path
from autocoder.store.reader import LocalReader, highest_iteration, latest_record, read_state


class LocalStore:
    """Appends one iteration at a time to ``root`` (``<data-dir>/autocoder-analysis-results``).

    Each append writes, in this order, the extra configs' shards, the worker state, and last the
    record shard. The record shard is the commit point: after ``kill -9`` at any moment, a restart
    sees either the whole iteration or none of it, and re-runs that iteration under the same
    shard names (the state is a union of sets, so re-applying it is harmless).
    """

    def __init__(
        self, root: Path, title: str, description: str, configs: tuple[DatasetConfig, ...]
    ) -> None:
        self.root = root
        self.configs = configs
        self.reader = LocalReader(root)
        self._title, self._description = title, description
        self._prepare()

    def __repr__(self) -> str:
        return f"LocalStore({self.root})"

    def _prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.root / TMP_DIR, ignore_errors=True)  # half-written files of a crash
        self._sizes = {
            c.name: sum(p.stat().st_size for p in (self.root / c.folder).rglob("*.jsonl"))
            for c in self.configs
        }
        self._write_card()

    def _write_card(self) -> None:
        card = dataset_card(self._title, self._description, self.configs, self._sizes).encode()
        path = self.root / CARD_PATH
        if not path.exists() or path.read_bytes() != card:
            atomic_write(self.root, CARD_PATH, card)

    def append(
        self, record: Record, items: dict[str, list[BaseModel]], state: dict[str, Any]
    ) -> None:
        payloads = {RECORDS.name: jsonl([record.model_dump(mode="json")])}
        for config in self.configs:
            rows = items.get(config.name)
            if config is not RECORDS and rows:
                payloads[config.name] = jsonl(row.model_dump(mode="json") for row in rows)
                atomic_write(self.root, shard_path(config, record.iteration), payloads[config.name])
        atomic_write(self.root, STATE_PATH, json.dumps(state).encode())
        atomic_write(self.root, shard_path(RECORDS, record.iteration), payloads[RECORDS.name])
        for name, payload in payloads.items():  # after the commit point: see dataset_card
            self._sizes[name] = self._sizes.get(name, 0) + len(payload)
        self._write_card()

    def last_iteration(self) -> int:
        return highest_iteration(self.reader)

    def latest(self) -> dict[str, Any] | None:
        return latest_record(self.reader)

    def state(self) -> dict[str, Any]:
        return read_state(self.reader)
