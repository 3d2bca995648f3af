"""The local store: a folder laid out exactly like the Hub dataset repo, written crash-safely."""

from __future__ import annotations

import errno
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from autocoder.errors import StoreError
from autocoder.redaction import PLACEHOLDER, scrub_parts
from autocoder.schema import RECORDS, DatasetConfig, Record, dataset_card, severity_rank
from autocoder.store.integrity import bad_shards
from autocoder.store.layout import (
    CARD_PATH,
    LOCK_PATH,
    STATE_PATH,
    TMP_DIR,
    atomic_write,
    dataset_lock,
    jsonl,
    jsonl_line,
    shard_path,
)
from autocoder.store.reader import LocalReader, highest_iteration, latest_record, read_state

log = logging.getLogger("autocoder.store")
MAX_SHARD_BYTES = 20_000_000


class LocalStore:
    """Appends one iteration at a time to ``root`` (``<data-dir>/autocoder-analysis-results``).

    Each append writes, in this order, the extra configs' shards, the worker state, and last the
    record shard. The record shard is the commit point: after ``kill -9`` at any moment, a restart
    sees either the whole iteration or none of it, and re-runs that iteration under the same
    shard names (the state is a union of sets, so re-applying it is harmless). The writes of an
    append hold the folder's :func:`~autocoder.store.layout.dataset_lock`, as ``autocoder
    repair`` does, so a repair while the worker runs loses nothing.

    The record, every row and the state are scrubbed of secrets together before they are
    serialised (:mod:`autocoder.redaction`): nothing from the target reaches a file, and so the
    Hub, unscrubbed. One iteration's shard of an extra config holds at most ``max_shard_bytes``
    (0: no cap); :func:`within_cap` says which rows are kept. The record counts both, in
    ``analysis.redacted`` and ``analysis.overflow`` (see :func:`_annotated`).

    At start every shard is read once: an unreadable one (:mod:`autocoder.store.integrity`) is
    logged as one warning naming the file and ``autocoder repair``, and kept in :attr:`problems`.
    The worker goes on appending: new iterations never touch old shards, and a worker that
    refused to start over one bad line of history would stop producing results for nothing.
    """

    def __init__(
        self,
        root: Path,
        title: str,
        description: str,
        configs: tuple[DatasetConfig, ...],
        max_shard_bytes: int = MAX_SHARD_BYTES,
    ) -> None:
        self.root = root
        self.configs = configs
        self.max_shard_bytes = max_shard_bytes
        self.reader = LocalReader(root)
        self._title, self._description = title, description
        self._prepare()

    def __repr__(self) -> str:
        return f"LocalStore({self.root})"

    def _prepare(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with dataset_lock(self.root):
                _clear_temp(self.root)
                self._sizes = self._disk_sizes()
                self._write_card()
            self.problems = [bad.message() for bad in bad_shards(self.root)]
        except OSError as e:
            raise self._unwritable(e) from e
        for problem in self.problems:
            log.warning("%s", problem)

    def _unwritable(self, error: OSError) -> StoreError:
        where = error.filename or self.root
        why = error.strerror or type(error).__name__
        return StoreError(
            f"cannot write the dataset folder {self.root} ({why}: {where}); {_fix(error)}"
        )

    def _disk_sizes(self) -> dict[str, int]:
        return {
            c.name: sum(p.stat().st_size for p in (self.root / c.folder).rglob("*.jsonl"))
            for c in self.configs
        }

    def _write_card(self) -> None:
        card = dataset_card(self._title, self._description, self.configs, self._sizes).encode()
        path = self.root / CARD_PATH
        if not path.exists() or path.read_bytes() != card:
            atomic_write(self.root, CARD_PATH, card)
        self._card = card

    def _resync_sizes(self) -> None:
        """After someone else rewrote the card (``autocoder repair`` shrinks shards and sets the
        sizes), count the shards on disk again rather than add to stale sizes."""
        path = self.root / CARD_PATH
        if not path.is_file() or path.read_bytes() != self._card:
            self._sizes = self._disk_sizes()

    def append(
        self, record: Record, items: dict[str, list[BaseModel]], state: dict[str, Any]
    ) -> None:
        """Write one iteration, holding the folder's :func:`dataset_lock` (only while writing).

        A write that fails (a full disk) is a :class:`StoreError` naming the folder and the fix;
        nothing of the iteration counts as written until its record shard is.
        """
        extras = [c for c in self.configs if c is not RECORDS and items.get(c.name)]
        parts, _ = scrub_parts(
            {
                RECORDS.name: record.model_dump(mode="json"),
                **{c.name: [row.model_dump(mode="json") for row in items[c.name]] for c in extras},
                "state": state,
            }
        )
        payloads: dict[str, bytes] = {}
        overflow: dict[str, int] = {}
        for config in extras:
            payloads[config.name], dropped = self._capped(parts[config.name])
            if dropped:
                overflow[config.name] = dropped
        state_file = json.dumps(parts["state"]).encode()
        row = _annotated(parts[RECORDS.name], {**payloads, "state": state_file}, overflow)
        payloads[RECORDS.name] = jsonl([row])
        try:
            self._write_iteration(record.iteration, extras, payloads, state_file)
        except OSError as e:  # a full disk: say which folder and what to do, as at start
            raise self._unwritable(e) from e

    def _write_iteration(
        self,
        iteration: int,
        extras: list[DatasetConfig],
        payloads: dict[str, bytes],
        state_file: bytes,
    ) -> None:
        with dataset_lock(self.root):
            self._resync_sizes()
            for config in extras:
                atomic_write(self.root, shard_path(config, iteration), payloads[config.name])
            atomic_write(self.root, STATE_PATH, state_file)
            atomic_write(self.root, shard_path(RECORDS, iteration), payloads[RECORDS.name])
            for name, payload in payloads.items():  # after the commit point: see dataset_card
                self._sizes[name] = self._sizes.get(name, 0) + len(payload)
            self._write_card()

    def _capped(self, rows: list[dict[str, Any]]) -> tuple[bytes, int]:
        """The shard of ``rows`` within ``max_shard_bytes``, and how many rows it left out."""
        lines = [jsonl_line(row) for row in rows]
        kept = within_cap(rows, lines, self.max_shard_bytes)
        return b"".join(lines[i] for i in kept), len(lines) - len(kept)

    def last_iteration(self) -> int:
        return highest_iteration(self.reader)

    def latest(self) -> dict[str, Any] | None:
        return latest_record(self.reader)

    def state(self) -> dict[str, Any]:
        return read_state(self.reader)


def _clear_temp(root: Path) -> None:
    """Remove the half-written files a crash left in the temp folder, but not the lock file."""
    lock = root / LOCK_PATH
    for entry in (root / TMP_DIR).iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        elif entry != lock:
            entry.unlink(missing_ok=True)


def _fix(error: OSError) -> str:
    """What to do about ``error``, by its kind: a file in the way, no permission, a full disk."""
    elsewhere = "point --data-dir (AUTOCODER_DATA_DIR) at a writable folder"
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"a file is in the way of a folder; move it or {elsewhere}"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"the folder is read-only here; {elsewhere}"
    return f"free some disk space, or {elsewhere}"


def _annotated(
    row: dict[str, Any], payloads: dict[str, bytes], overflow: dict[str, int]
) -> dict[str, Any]:
    """The record row with ``analysis.redacted`` (how many redacted values the record, each
    config's shard and the state hold, scrubbed here or before, e.g. in the cache) and
    ``analysis.overflow`` (rows per config left out by the cap); each only when not empty."""
    parts = {**payloads, RECORDS.name: jsonl([row])}
    counts = {name: payload.lower().count(PLACEHOLDER) for name, payload in parts.items()}
    if redacted := {name: n for name, n in counts.items() if n}:
        row["analysis"]["redacted"] = redacted
    if overflow:
        row["analysis"]["overflow"] = overflow
    return row


def _rank(row: dict[str, Any]) -> int:
    """Lower is kept first: a spec's ``priority`` (1 = write first), a finding's severity."""
    if isinstance(row.get("priority"), int):
        return int(row["priority"])
    if row.get("severity") in ("critical", "high", "medium", "low", "info"):
        return severity_rank(row["severity"])
    return 0


def within_cap(rows: list[dict[str, Any]], lines: list[bytes], cap: int) -> list[int]:
    """The indexes of the rows to store, in their order, so their lines add up to at most ``cap``.

    Rows are taken best first (the lowest ``priority``, else the most severe ``severity``, else
    as they came; ties as they came); a row that does not fit in what is left is dropped and the
    next one is tried. ``cap`` 0 keeps every row.
    """
    if cap <= 0 or sum(map(len, lines)) <= cap:
        return list(range(len(rows)))
    kept, left = [], cap
    for i in sorted(range(len(rows)), key=lambda i: _rank(rows[i])):
        if len(lines[i]) <= left:
            kept.append(i)
            left -= len(lines[i])
    return sorted(kept)
