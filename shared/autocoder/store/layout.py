"""Paths inside a dataset repo, and crash-safe file writes.

Shards are named by iteration, zero-padded, 1,000 to a folder, so names sort chronologically,
no folder nears the Hub's 10k-entry limit, and a name is never reused: the iteration counter is
restored from the highest shard on start.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autocoder.schema import RECORDS, DatasetConfig

SHARDS_PER_FOLDER = 1000
STATE_PATH = "state/worker-state.json"
TMP_DIR = ".tmp"
CARD_PATH = "README.md"
# In the temp folder: never pushed to the Hub (see manifest) and outside the card's data globs.
LOCK_PATH = f"{TMP_DIR}/dataset.lock"


def shard_path(config: DatasetConfig, iteration: int) -> str:
    bucket = (iteration - 1) // SHARDS_PER_FOLDER
    return f"{config.folder}/{bucket:04d}/{iteration:09d}.jsonl"


def iteration_of(path: str) -> int:
    return int(Path(path).stem)


def is_record_shard(path: str) -> bool:
    return path.startswith(RECORDS.folder + "/") and path.endswith(".jsonl")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None, at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def jsonl_line(row: dict[str, Any]) -> bytes:
    """One shard line. NaN and Infinity are not JSON (``load_dataset`` fails on them, and the
    readers reject them): they are written as null, as pydantic's ``model_dump_json`` does."""
    try:
        text = json.dumps(row, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(row), ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode()


def jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(jsonl_line(row) for row in rows)


def atomic_write(root: Path, relative: str, content: bytes) -> None:
    """Write ``root/relative`` so that a reader or a crash sees the old file or the new, never half.

    The bytes go to a temp file on the same filesystem, are fsynced, then renamed over the target,
    and the folder is fsynced so the rename itself survives a power cut.
    """
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = root / TMP_DIR
    tmp_dir.mkdir(exist_ok=True)
    tmp = tmp_dir / f"{target.name}.{os.getpid()}.tmp"
    with tmp.open("wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def dataset_lock(root: Path) -> Iterator[None]:
    """Hold the dataset folder's lock: an exclusive ``flock`` on ``root/.tmp/dataset.lock``.

    ``LocalStore`` holds it while it writes one iteration, ``autocoder repair`` while it moves
    shards and rewrites the card, so neither loses what the other wrote. The file stays (removing
    a lock file another process may hold would break the lock).
    """
    path = root / LOCK_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
