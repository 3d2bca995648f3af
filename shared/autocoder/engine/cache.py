"""Results cached by (tool, tool version, content key) in one SQLite file, safe across threads.

Values are scrubbed of secrets before they are stored (:mod:`autocoder.redaction`), and deleted
rows are overwritten (``secure_delete``): the file never holds a secret of the target. A cache
written before values were scrubbed (``user_version`` 0) is emptied once when opened.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from autocoder.errors import StoreError
from autocoder.redaction import scrub_values_in_place

SCRUBBED_SINCE = 1  # PRAGMA user_version of a cache whose every value was scrubbed


class ResultCache:
    """A persistent key-value cache. Keys are content hashes, so a hit is always still true."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(path) if path is not None else ":memory:", check_same_thread=False
            )
            with self._lock, self._db:
                self._open()
        except (OSError, sqlite3.Error) as e:
            raise StoreError(
                f"cannot open the analysis cache {path} ({e}); free some disk space, or point "
                "AUTOCODER_CACHE_DIR (or --data-dir / AUTOCODER_DATA_DIR) at a writable folder"
            ) from e

    def _open(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS results (tool TEXT, version TEXT, key TEXT, "
            "value TEXT, PRIMARY KEY (tool, version, key))"
        )
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version < SCRUBBED_SINCE:
            self._db.execute("DELETE FROM results")
            self._db.execute(f"PRAGMA user_version={SCRUBBED_SINCE}")

    def __repr__(self) -> str:
        return f"ResultCache({str(self.path) if self.path else ':memory:'})"

    def get_many(self, tool: str, version: str, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, value FROM results WHERE tool=? AND version=? AND key IN ({marks})"  # noqa: S608, E501
                rows = self._db.execute(query, (tool, version, *chunk))
                found.update((key, json.loads(value)) for key, value in rows)
        return found

    def get(self, tool: str, version: str, key: str) -> Any | None:
        return self.get_many(tool, version, [key]).get(key)

    def put_many(self, tool: str, version: str, items: dict[str, Any]) -> None:
        """Store ``items`` scrubbed of secrets. A dict or list value is scrubbed in place, so the
        caller goes on with exactly what a later hit returns (a miss and a hit behave alike)."""
        scrub_values_in_place(items)
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
                [(tool, version, k, json.dumps(v)) for k, v in items.items()],
            )

    def put(self, tool: str, version: str, key: str, value: Any) -> None:
        self.put_many(tool, version, {key: value})

    def close(self) -> None:
        with self._lock:
            self._db.close()
