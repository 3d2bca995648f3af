"""One worker's records folded into compact aggregates, updated with each poll's new records.

The dashboard never re-scans a history: each poll's new records are added here, and what the
page needs (health, charts, the latest rows, skipped perspectives) is read off these aggregates.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from autocoder.apps.dashboard.health import DAY_S
from autocoder.apps.dashboard.model import FINDING_COLUMNS, SkippedRun, WorkerSource
from autocoder.apps.iteration_health import RECENT
from autocoder.engine.spec import REASON_KEY
from autocoder.errors import StoreError
from autocoder.redaction import redact_text
from autocoder.schema import severity_rank
from autocoder.store.dataset import HubDataset, LocalDataset
from autocoder.store.integrity import check_shard
from autocoder.store.tail import DatasetTail

HOUR_S = 3600.0
WEEK_S = 7 * DAY_S
ROWS_PER_PASS = 100  # latest findings kept per perspective (its newest pass), most severe first
COMMITS_SHOWN = 20


BAD_SHARDS_KEPT = 100
ERROR_CHARS = 2000  # an error message longer than this is cut (the page truncates it further)


def finding_row(row: dict[str, Any], config: str = "findings") -> dict[str, Any]:
    """A row of an extra config (``findings``, ``specs``) as a row of the latest findings table;
    ``config`` says which table of the page shows it."""
    named = {**row, "perspective": row["perspective_name"]}
    extra = {key: named[key] for key in ("priority",) if key in named}  # a spec's own priority
    return {**{key: named[key] for key in FINDING_COLUMNS}, **extra, "config": config}


def reason_of(record: dict[str, Any]) -> str:
    """Why an iteration was skipped or failed: the record's ``analysis.reason``, else its error."""
    analysis = record.get("analysis") or {}
    reason = analysis.get(REASON_KEY) or record.get("error") or "no reason recorded"
    return _redacted(str(reason)[:ERROR_CHARS])


@lru_cache(maxsize=256)
def _redacted(text: str) -> str:
    """Redacted once per distinct message: a failing worker repeats the same error."""
    return redact_text(text)[0]


def utc_now() -> datetime:
    return datetime.now(UTC)


def slim_record(record: dict[str, Any]) -> dict[str, Any]:
    """What the dashboard keeps of a record: no summaries, top findings, metrics or details."""
    analysis = record.get("analysis") or {}
    keep = {k: analysis[k] for k in ("findings_by_severity", REASON_KEY) if k in analysis}
    return {**record, "analysis": keep}


@dataclass
class WorkerHistory:
    """One worker's records folded into compact aggregates, updated with each poll's new records.

    Bounded: error statuses of the last 24 h, iterations per hour and spec counts of the last
    7 days, findings by severity of the newest pass per perspective for the newest 20 commits,
    and the rows of the newest pass of each perspective; the last ten outcomes, the newest error,
    the perspectives whose latest run was skipped, and the shards that could not be read.
    """

    source: WorkerSource
    tail: DatasetTail
    exists: bool | None = None  # None until a read succeeds
    read_at: datetime | None = None  # the last successful read
    error: str | None = None  # why the last read failed, None when it worked
    newest: dict[str, Any] | None = None
    recent: deque[tuple[float, str]] = field(default_factory=deque)  # (epoch, status), 24 h
    hours: Counter[int] = field(default_factory=Counter)  # epoch hour -> iterations
    by_commit: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    specs: deque[tuple[float, str, int, int]] = field(default_factory=deque)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # perspective -> rows
    problems: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    outcomes: deque[tuple[str, str | None]] = field(
        default_factory=lambda: deque(maxlen=RECENT)
    )  # (status, reason) of the last ten records, oldest first
    last_error: tuple[str, str] | None = None  # (timestamp, redacted message) of the newest error
    skipped: dict[str, SkippedRun] = field(default_factory=dict)  # perspective -> its latest skip
    bad_shards: list[str] = field(default_factory=list)  # paths of shards that could not be read
    checked: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # path -> stat read
    version: int = 0  # changes whenever the chart series change

    def poll(self, now: datetime) -> None:
        try:
            update = self.tail.poll()
        except StoreError as e:
            kind = "Hub error" if isinstance(self.tail.source, HubDataset) else "Read error"
            self.error = f"{kind} reading {self.source.name} ({self.source.location}): {e}"
            return
        self.error, self.read_at = None, now
        if self.exists and not update.exists:
            self._clear()
        self.exists = update.exists
        self.problems.extend(update.problems)
        self._note_bad_shards(update.unreadable)
        self._forget_repaired()
        for record in update.new_records:
            self._add(record)
        self._take_rows(update.new_records, update.new_rows)
        self.version += bool(update.new_records)
        self._prune(now.timestamp())

    def _clear(self) -> None:
        self.newest = None
        self.last_error = None
        boxes = (self.recent, self.hours, self.by_commit, self.specs, self.rows, self.outcomes,
                 self.skipped, self.bad_shards, self.checked)  # fmt: skip
        for box in boxes:
            box.clear()
        self.version += 1

    def _add(self, record: dict[str, Any]) -> None:
        moment = datetime.fromisoformat(record["timestamp"]).timestamp()
        self.newest = record
        self.recent.append((moment, record["status"]))
        self.hours[int(moment // HOUR_S)] += 1
        self._note_outcome(record)
        by_severity = (record.get("analysis") or {}).get("findings_by_severity")
        charts = self.source.worker.charts
        if "findings_by_commit" in charts and record["status"] == "ok" and by_severity:
            commit = record["target"]["commit"] or "unknown"
            self.by_commit.setdefault(commit, {})[record["perspective_name"]] = by_severity
            while len(self.by_commit) > COMMITS_SHOWN:
                del self.by_commit[next(iter(self.by_commit))]
        insights = record.get("cumulative_insights") or {}
        if "specs_over_time" in charts and "test_specs_total" in insights:
            counts = (insights["test_specs_total"], insights.get("test_specs_active", 0))
            self.specs.append((moment, record["timestamp"], *counts))

    def _note_outcome(self, record: dict[str, Any]) -> None:
        status, perspective = record["status"], record["perspective_name"]
        reason = reason_of(record) if status != "ok" else None
        self.outcomes.append((status, reason))
        if status == "error" and reason is not None:
            self.last_error = (record["timestamp"], reason)
        if status == "skipped" and reason is not None:
            title = self.source.title
            self.skipped[perspective] = SkippedRun(title, perspective, reason, record["timestamp"])
        else:
            self.skipped.pop(perspective, None)

    def _note_bad_shards(self, paths: list[str]) -> None:
        """The shards that failed the parse ``autocoder repair`` uses, each once."""
        for path in paths:
            if path not in self.bad_shards and len(self.bad_shards) < BAD_SHARDS_KEPT:
                self.bad_shards.append(path)

    def _forget_repaired(self) -> None:
        """Bad shards of a local dataset that ``autocoder repair`` fixed no longer count: a
        shard gone (moved to ``quarantine/``), or one that now passes the check repair uses
        (rewritten with its good lines). A shard is read again only when its size, mtime or
        inode changed since it was last checked. On the Hub they count until the dashboard
        restarts."""
        source = self.tail.source
        if not self.bad_shards or not isinstance(source, LocalDataset):
            return
        fixed = {path for path in self.bad_shards if self._repaired(source.root, path)}
        if fixed:
            self.bad_shards = [path for path in self.bad_shards if path not in fixed]
            kept = [p for p in self.problems if not any(path in p for path in fixed)]
            self.problems.clear()
            self.problems.extend(kept)
            for path in fixed:
                self.checked.pop(path, None)

    def _repaired(self, root: Path, path: str) -> bool:
        try:
            stat = (root / path).stat()  # before reading: a later rewrite is checked next time
            key = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
            if self.checked.get(path) == key:
                return False
            self.checked[path] = key
            return check_shard(root, path) is None
        except FileNotFoundError:
            return True
        except OSError:
            return False

    def _take_rows(
        self, records: list[dict[str, Any]], new_rows: dict[str, list[dict[str, Any]]]
    ) -> None:
        """The rows of a perspective's newest pass replace those of its previous pass."""
        if not new_rows:
            return
        passes = {r["perspective_name"] for r in records if r["status"] == "ok"}
        fresh: dict[str, list[dict[str, Any]]] = {p: [] for p in passes}
        as_finding = self.source.worker.table_rows
        for config, rows in new_rows.items():
            for row in rows:
                shown = finding_row(as_finding[config](row), config)
                fresh.setdefault(row["perspective_name"], []).append(shown)
        for perspective, rows in fresh.items():
            rows.sort(key=lambda r: (severity_rank(r["severity"]), r["file"], r["line"]))
            self.rows[perspective] = rows[:ROWS_PER_PASS]

    def _prune(self, now: float) -> None:
        while self.recent and self.recent[0][0] < now - DAY_S:
            self.recent.popleft()
        old = len(self.specs) + len(self.hours)
        while self.specs and self.specs[0][0] < now - WEEK_S:
            self.specs.popleft()
        for hour in [h for h in self.hours if h < (now - WEEK_S) // HOUR_S]:
            del self.hours[hour]
        self.version += old != len(self.specs) + len(self.hours)
