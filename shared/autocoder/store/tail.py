"""Reading a dataset repo incrementally: each poll reads only what is new since the last one.

The source is any :class:`~autocoder.store.dataset.Dataset` (``LocalTailSource`` and
``HubTailSource`` are the old names of ``LocalDataset`` and ``HubDataset``). A poll asks it for
its head (Hub: the commit of ``main``, one call; local: whether the folder exists), and when
it moved, lists ``data/records`` (one entry per 1,000 iterations) and the record buckets from the
last one seen onwards, newest first, reading shards until it reaches the last iteration it
already has, the start of the backfill window, or ``backfill_max``. Extra configs (findings,
specs) are read only for the newest ``ok`` iteration of each perspective among the new records.
So the cost of a poll follows what is new, not the length of the history.

A missing repo or folder is ``exists=False``; a shard that is not read is reported in
``problems`` and skipped for good; one whose lines fail the parse ``autocoder repair`` uses
(:func:`~autocoder.store.integrity.parse_shard`) is also listed in ``unreadable``, while one
with rows the schema refuses is not (repair cannot fix it). A Hub failure raises
:class:`HubUnavailable` or :class:`StoreError` and leaves the tail where it was, so the next
poll tries again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from pydantic import BaseModel, ValidationError

from autocoder.schema import RECORDS, DatasetConfig, Record
from autocoder.store.dataset import Dataset, HubDataset, LocalDataset
from autocoder.store.integrity import parse_shard
from autocoder.store.layout import SHARDS_PER_FOLDER, shard_path

BUCKET = re.compile(r"\d{4}")
SHARD = re.compile(r"(\d{9})\.jsonl")
WEEK_S = 7 * 24 * 3600.0
CHUNK = 32  # shards requested at once (the Hub source downloads them in parallel)
# The old names, from before the tail read through the one Dataset interface.
TailSource = Dataset
LocalTailSource = LocalDataset
HubTailSource = HubDataset


@dataclass
class TailUpdate:
    """What one poll found. ``new_records`` are oldest first; ``new_rows`` by config name."""

    exists: bool
    new_records: list[dict[str, Any]] = field(default_factory=list)
    new_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # shards failing the shared parse
    listed: list[str] = field(default_factory=list)  # folders listed (diagnostics)
    read: int = 0  # shards read


def _texts(source: Dataset, paths: list[str]) -> dict[str, bytes | None]:
    """Each shard's content as the source reads it: through ``read_texts`` for a local folder as
    for a Hub repo (undecodable bytes replaced), so both tails answer alike."""
    texts = source.read_texts(paths)
    return {path: None if text is None else text.encode() for path, text in texts.items()}


def _parse(
    data: bytes | None, path: str, model: type[BaseModel], update: TailUpdate
) -> list[dict[str, Any]]:
    """The shard's rows, validated against ``model``; [] when it is missing or skipped (then
    ``update`` says why)."""
    if data is None:
        return []
    parsed = parse_shard(data)
    if parsed.bad is not None:
        line, why = parsed.bad
        update.problems.append(f"corrupt shard {path} skipped: line {line} {why}")
        update.unreadable.append(path)
        return []
    for number, row in enumerate(parsed.rows, start=1):
        try:
            model.model_validate(row)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(map(str, first["loc"])) or "row"
            update.problems.append(
                f"invalid shard {path} skipped: {where}: {first['msg']} (row {number})"
            )
            return []
    return parsed.rows


def _epoch(row: dict[str, Any]) -> float:
    return datetime.fromisoformat(row["timestamp"]).timestamp()


class DatasetTail:
    """Follows one dataset repo; :meth:`poll` returns what appeared since the previous poll."""

    def __init__(
        self,
        source: Dataset,
        configs: tuple[DatasetConfig, ...] = (),
        backfill_s: float = WEEK_S,
        backfill_max: int = 20_000,
        extra_max: int = 32,
        project: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """``project`` maps each valid record to what the caller keeps (a long first load then
        never holds whole records); it must keep ``iteration``, ``status``, ``perspective_name``.
        """
        self.source = source
        self.project = project
        self.configs = configs
        self.backfill_s = backfill_s
        self.backfill_max = backfill_max
        self.extra_max = extra_max
        self.head: str | None = None
        self.last_iteration = 0  # the newest record shard seen (read, or skipped as corrupt)

    def __repr__(self) -> str:
        return f"DatasetTail({self.source.location}, after {self.last_iteration})"

    def poll(self) -> TailUpdate:
        head = self.source.head()
        if head is None:
            self.head, self.last_iteration = None, 0
            return TailUpdate(exists=False)
        update = TailUpdate(exists=True)
        if head and head == self.head:
            return update
        records, last = self._read_records(update)
        update.new_records = records
        update.new_rows = self._read_extra(records, update)
        self.head, self.last_iteration = head, max(last, self.last_iteration)
        return update

    def _new_iterations(self, update: TailUpdate) -> Iterator[int]:
        """Record shards newer than the last one seen, newest first, listing buckets lazily."""
        update.listed.append(RECORDS.folder)
        names = self.source.list_names(RECORDS.folder)
        first = (self.last_iteration - 1) // SHARDS_PER_FOLDER if self.last_iteration else 0
        buckets = sorted(int(n) for n in names if BUCKET.fullmatch(n) and int(n) >= first)
        for bucket in reversed(buckets):
            folder = f"{RECORDS.folder}/{bucket:04d}"
            update.listed.append(folder)
            found = (SHARD.fullmatch(n) for n in self.source.list_names(folder))
            numbers = (int(m.group(1)) for m in found if m)
            yield from sorted((i for i in numbers if i > self.last_iteration), reverse=True)

    def _read_records(self, update: TailUpdate) -> tuple[list[dict[str, Any]], int]:
        newest_first: list[dict[str, Any]] = []
        last, cutoff = self.last_iteration, float("-inf")
        pending = self._new_iterations(update)
        while len(newest_first) < self.backfill_max:
            chunk = list(islice(pending, CHUNK))
            if not chunk:
                break
            last = max(last, chunk[0])
            shards = _texts(self.source, [shard_path(RECORDS, i) for i in chunk])
            update.read += len(chunk)
            for path, data in shards.items():
                for row in _parse(data, path, Record, update)[-1:]:
                    moment = _epoch(row)
                    cutoff = max(cutoff, moment - self.backfill_s)
                    if moment < cutoff:
                        return newest_first[: self.backfill_max][::-1], last
                    newest_first.append(self.project(row) if self.project else row)
        return newest_first[: self.backfill_max][::-1], last

    def _read_extra(
        self, records: list[dict[str, Any]], update: TailUpdate
    ) -> dict[str, list[dict[str, Any]]]:
        """Rows of the extra configs for the newest ok iteration of each perspective."""
        newest: dict[str, int] = {}
        for row in reversed(records):
            if row["status"] == "ok" and len(newest) < self.extra_max:
                newest.setdefault(row["perspective_name"], row["iteration"])
        iterations = sorted(newest.values())
        out: dict[str, list[dict[str, Any]]] = {}
        for config in self.configs:
            shards = _texts(self.source, [shard_path(config, i) for i in iterations])
            update.read += len(iterations)
            out[config.name] = []
            for path, data in shards.items():
                out[config.name].extend(_parse(data, path, config.model, update))
        return out
