"""Paths inside a dataset repo, and crash-safe file writes.

Shards are named by iteration, zero-padded, 1,000 to a folder, so names sort chronologically,
no folder nears the Hub's 10k-entry limit, and a name is never reused: the iteration counter is
restored from the highest shard on start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autocoder.schema import RECORDS, DatasetConfig

SHARDS_PER_FOLDER = 1000
STATE_PATH = "state/worker-state.json"
TMP_DIR = ".tmp"
CARD_PATH = "README.md"


def shard_path(config: DatasetConfig, iteration: int) -> str:
    bucket = (iteration - 1) // SHARDS_PER_FOLDER
    return f"{config.folder}/{bucket:04d}/{iteration:09d}.jsonl"


def iteration_of(path: str) -> int:
    return int(Path(path).stem)


def is_record_shard(path: str) -> bool:
    return path.startswith(RECORDS.folder + "/") and path.endswith(".jsonl")


def jsonl_line(row: dict[str, Any]) -> bytes:
    return (json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n").encode()


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
