"""The tasks of a worker that takes them, read cheaply at every refresh of the dashboard.

A task is written again at each change of its state, and its state is its newest row
(:func:`autocoder.store.tasklog.latest_tasks` decides which: this module only feeds it). Reading
every task file at every refresh would download the whole ``tasks`` config from the Hub every
few seconds, so a :class:`TaskBoard`:

- lists the config's folder (``data/tasks`` and its sub-folders, one listing each) only when the
  dataset moved: on the Hub when the commit of ``main`` the tail saw is a new one, so a refresh
  with nothing new costs no request at all; a local folder is listed at every refresh (cheap);
- reads only the files it has not read yet: a file is known by its path (on the Hub) or by its
  path, size and modification time (locally, so a shard rewritten after a crash is read again);
- parses nothing when the listing is the one it already read.

A shard rewritten under the same name on the Hub is read again only after a restart of the
dashboard (task files are written once; an iteration re-run after a crash rewrites its own).
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from autocoder.errors import StoreError
from autocoder.redaction import redact_text
from autocoder.schema import TASKS, TaskRow
from autocoder.store.dataset import SHARD_SUFFIX, Dataset, LocalDataset
from autocoder.store.reader import parse_rows
from autocoder.store.tasklog import latest_tasks

log = logging.getLogger("autocoder.dashboard")
TASKS_KEPT = 500  # tasks the snapshot carries (the newest); the counts cover them all
STATUSES = ("pending", "running", "completed", "failed")
REDACTED = ("description", "issue", "goal", "context", "error_detail")  # free text of a task
FileKey = tuple[str, int, int]  # (path, size, mtime_ns); size and mtime 0 on the Hub


class _Remembered:
    """The dataset as :func:`latest_tasks` reads it: the board's listing, and texts it already
    read served from memory. A shard that does not parse is skipped and named in ``problems``
    (one bad file must not hide every task)."""

    def __init__(self, board: TaskBoard, keys: dict[str, FileKey]) -> None:
        self.board, self.keys = board, keys
        self.location = board.dataset.location
        self.problems: list[str] = []

    def head(self) -> str | None:
        return self.board.dataset.head()

    def list_names(self, folder: str) -> list[str]:
        return self.board.dataset.list_names(folder)

    def list_files(self, folder: str) -> list[str]:
        return sorted(self.keys) if folder == TASKS.folder else []

    def read_text(self, path: str) -> str | None:
        return self.read_texts([path])[path]

    def read_texts(self, paths: list[str]) -> dict[str, str | None]:
        memory = self.board.texts
        missing = [path for path in paths if self.keys[path] not in memory]
        for path, text in self.board.dataset.read_texts(missing).items():
            memory[self.keys[path]] = self._readable(path, text)
        return {path: memory[self.keys[path]] for path in paths}

    def _readable(self, path: str, text: str | None) -> str | None:
        try:
            parse_rows(text or "", path)
        except StoreError as e:
            self.problems.append(f"tasks shard skipped: {e}")
            return None
        return text


class TaskBoard:
    """Every task of one dataset, newest state each; see the module for what a read costs."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.texts: dict[FileKey, str | None] = {}  # what each file read held (None: skipped)
        self.tasks: list[TaskRow] = []  # newest first
        self.problems: list[str] = []  # the shards skipped at the last read that read any
        self.error: str | None = None  # why the last read failed (the tasks are the last good)
        self._head: str | None = None
        self._listing: tuple[FileKey, ...] | None = None

    def __repr__(self) -> str:
        return f"TaskBoard({self.dataset.location}, {len(self.tasks)} tasks)"

    def read(self, head: str | None) -> list[TaskRow]:
        """The tasks at dataset version ``head`` (the tail's; None: no dataset, so no task)."""
        if head is None:
            self.tasks, self.texts, self._head, self._listing = [], {}, None, None
            return self.tasks
        if head and head == self._head and self.error is None:
            return self.tasks  # a Hub repo whose main did not move: nothing to ask
        try:
            self._read(self._keys())
        except (StoreError, OSError, ValidationError, ValueError) as e:
            self.error = f"the tasks of {self.dataset.location} could not be read: {e}"
            log.warning("%s", self.error)
            return self.tasks
        self.error, self._head = None, head
        return self.tasks

    def _read(self, keys: dict[str, FileKey]) -> None:
        listing = tuple(keys[path] for path in sorted(keys))
        if listing == self._listing:
            return
        remembered = _Remembered(self, keys)
        newest = latest_tasks(remembered).values()
        self.tasks = sorted(newest, key=lambda t: (t.updated_at, t.id), reverse=True)
        self.problems, self._listing = remembered.problems, listing
        kept = set(listing)
        self.texts = {key: text for key, text in self.texts.items() if key in kept}

    def _keys(self) -> dict[str, FileKey]:
        """Every task shard of the dataset with what identifies its content."""
        paths = []
        for folder in self.dataset.list_names(TASKS.folder):
            inside = f"{TASKS.folder}/{folder}"
            names = self.dataset.list_names(inside)
            paths += [f"{inside}/{name}" for name in names if name.endswith(SHARD_SUFFIX)]
        if not isinstance(self.dataset, LocalDataset):
            return {path: (path, 0, 0) for path in paths}
        keys = {}
        for path in paths:
            try:
                stat = (self.dataset.root / path).stat()
            except FileNotFoundError:
                continue  # gone between the listing and now
            keys[path] = (path, stat.st_size, stat.st_mtime_ns)
        return keys


@lru_cache(maxsize=1024)
def _redacted(text: str) -> str:
    """Scrubbed again on the way to the page (the writers scrub too), once per distinct text."""
    return redact_text(text)[0]


def task_dict(task: TaskRow, worker_title: str) -> dict[str, Any]:
    """A task as the snapshot carries it: its fields (the free texts redacted) and the title of
    its worker."""
    fields = task.model_dump(mode="json")
    texts = {key: _redacted(fields[key]) for key in REDACTED if fields.get(key)}
    return {**fields, **texts, "worker_title": worker_title}


def task_counts(tasks: list[TaskRow]) -> dict[str, int]:
    """How many tasks there are, and how many in each status."""
    by_status = Counter(str(task.status) for task in tasks)
    return {"total": len(tasks), **{status: by_status[status] for status in STATUSES}}
