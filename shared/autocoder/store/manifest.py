"""What was pushed to the Hub, kept in the folder, and which files changed since.

Like ``CommitScheduler``, a file counts as unchanged while its size and mtime (and, here, its
inode: every write is an atomic rename, so a rewrite gets a new one) are those recorded when it
was pushed; then nothing is read. Unlike ``CommitScheduler``, the record survives a restart: it is
``.pushed.json`` in the folder, with each file's sha256. A file whose size, mtime or inode differ
(a restart on a copied disk, a ``touch``) is hashed once and counts as changed only if its content
differs from what was pushed; the hash is remembered for that size, mtime and inode.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from autocoder.store.layout import TMP_DIR, atomic_write

MANIFEST = ".pushed.json"


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes: the only place change detection reads a file."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """A file as it was when it was hashed."""

    size: int
    mtime_ns: int
    ino: int
    sha256: str

    def same_stat(self, stat: os.stat_result) -> bool:
        return (self.size, self.mtime_ns, self.ino) == _stat_key(stat)


def _stat_key(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _entry(value: object) -> Snapshot | None:
    """A manifest entry; one written before stats were kept (a bare sha256) has no stat."""
    if isinstance(value, str):
        return Snapshot(size=-1, mtime_ns=-1, ino=-1, sha256=value)
    if isinstance(value, dict):
        return Snapshot(**value)
    return None


class PushManifest:
    """The files of ``root`` as last pushed, and the files that differ from that."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._pushed: dict[str, Snapshot] | None = None  # read from MANIFEST on first use
        self._hashed: dict[str, Snapshot] = {}  # files hashed since, whatever their content

    def __repr__(self) -> str:
        return f"PushManifest({self.root / MANIFEST})"

    def _entries(self) -> dict[str, Snapshot]:
        if self._pushed is None:
            path = self.root / MANIFEST
            raw = json.loads(path.read_text()) if path.exists() else {}
            entries = {rel: _entry(value) for rel, value in dict(raw).items()}
            self._pushed = {rel: entry for rel, entry in entries.items() if entry is not None}
        return self._pushed

    def _files(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every file of the folder but the manifest and the temp folder, with its stat."""
        folders = [(self.root, "")]
        while folders:
            folder, prefix = folders.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if rel != TMP_DIR:
                            folders.append((Path(entry.path), rel + "/"))
                    elif rel != MANIFEST and entry.is_file():
                        yield rel, entry.stat()

    def snapshot(self, rel: str, stat: os.stat_result | None = None) -> Snapshot:
        """The file's stat and sha256, hashing it only if it changed since it was last hashed."""
        stat = stat or (self.root / rel).stat()  # taken before reading: a later write shows
        known = self._hashed.get(rel)
        if known is None or not known.same_stat(stat):
            size, mtime_ns, ino = _stat_key(stat)
            known = Snapshot(size, mtime_ns, ino, file_digest(self.root / rel))
            self._hashed[rel] = known
        return known

    def _differs(self, rel: str, stat: os.stat_result) -> bool:
        pushed = self._entries().get(rel)
        if pushed is None:
            return True
        if pushed.same_stat(stat):
            return False
        now = self.snapshot(rel, stat)
        if now.sha256 != pushed.sha256:
            return True
        with self._lock:  # same content under a new stat: trust the new stat from now on
            self._entries()[rel] = now
        return False

    def changed(self) -> list[str]:
        """Files whose content differs from what was pushed, in name order (card, data, state)."""
        changed = [rel for rel, stat in self._files() if self._differs(rel, stat)]
        return sorted(changed, key=lambda rel: rel.split("/"))

    def record(self, snapshots: dict[str, Snapshot]) -> None:
        """Note ``snapshots`` as pushed, in memory and (crash-safely) in the folder."""
        with self._lock:
            entries = self._entries()
            entries.update(snapshots)
            payload = {rel: asdict(entry) for rel, entry in entries.items()}
            atomic_write(self.root, MANIFEST, json.dumps(payload, sort_keys=True).encode())
