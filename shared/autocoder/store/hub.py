"""The Hub side of a store: push the local folder in batches, restore it on a fresh disk.

Writes never go to the Hub directly. The worker appends to the local folder; :class:`HubSync`
commits every file that changed since the last successful push, in one commit, every
``every_s`` seconds from a background thread (one commit at a time, like ``CommitScheduler``).
What was pushed is kept in the folder (:mod:`autocoder.store.manifest`); a file is read again
only when its size or mtime changed, so :meth:`HubSync.status` costs a directory walk.
A Hub outage or rate limit leaves the files in the folder: they go with the next push that works,
and the wait honours ``Retry-After`` (:mod:`autocoder.store.retry`). Reading a Hub repo is
:class:`~autocoder.store.dataset.HubDataset`; ``HubReader`` is its old name, kept here.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from pathlib import Path
from typing import Any

from huggingface_hub import CommitOperationAdd, HfApi
from tenacity import RetryCallState, Retrying

from autocoder.errors import StoreError
from autocoder.schema import TASKS
from autocoder.store.dataset import HubDataset
from autocoder.store.hub_client import hub_api
from autocoder.store.hub_errors import NETWORK_ERRORS, hub_failure
from autocoder.store.layout import STATE_PATH, atomic_write, is_record_shard, iteration_of
from autocoder.store.local import LocalStore
from autocoder.store.manifest import PushManifest
from autocoder.store.retry import RetryAfterOrBackoff, StopBeforeDeadline, failure, retry_outages

log = logging.getLogger("autocoder.hub")
MIN_BACKOFF_S = 5.0
HubReader = HubDataset  # the old name of the Hub repo's reader
__all__ = ["MIN_BACKOFF_S", "NETWORK_ERRORS", "HubReader", "HubSync", "hub_failure"]


class _Stopping(Exception):
    """Raised from the background thread's wait when :meth:`HubSync.stop` was called."""


class HubSync:
    """Keeps a Hub dataset repo in step with a :class:`LocalStore` folder."""

    def __init__(
        self,
        local: LocalStore,
        repo_id: str,
        token: str,
        private: bool = True,
        every_s: float = 300.0,
        api: HfApi | None = None,
        min_backoff_s: float = MIN_BACKOFF_S,
    ) -> None:
        if every_s <= 0:
            raise StoreError(f"push interval {every_s!r} must be positive (AUTOCODER_PUSH_EVERY_S)")
        if "/" not in repo_id:
            raise StoreError(f"repo id {repo_id!r} must look like USER/NAME (AUTOCODER_HUB_REPO)")
        self.local = local
        self.repo_id = repo_id
        self.private = private
        self.every_s = every_s
        self.min_backoff_s = min_backoff_s
        self.api = api or hub_api(token)
        self.manifest = PushManifest(local.root)
        self._lock = threading.Lock()  # one commit at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_push_at: float | None = None
        self.last_error: str | None = None

    def __repr__(self) -> str:
        return (
            f"HubSync({self.local.root} -> hf://datasets/{self.repo_id}, every {self.every_s:g}s)"
        )

    # -- start-up -------------------------------------------------------------------------------
    def open(self) -> None:
        """Create the repo if needed and, on an empty local folder, restore the latest state."""
        try:
            self.api.create_repo(
                self.repo_id, repo_type="dataset", private=self.private, exist_ok=True
            )
            remote = self.api.list_repo_files(self.repo_id, repo_type="dataset")
            local = self.local.last_iteration()
            if local == 0 or local < _last_iteration(remote):
                self._restore(remote)
        except NETWORK_ERRORS as e:
            raise hub_failure(e, self.repo_id) from e

    def _restore(self, remote: list[str]) -> None:
        """Bring the Hub's state, newest records shard and tasks into a folder that is behind
        it: an empty disk (a restarted Space) or a stale copy (an old CI cache). The folder's
        own copies of older shards are marked pushed, never pushed over the Hub's."""
        wanted = [STATE_PATH] if STATE_PATH in remote else []
        records = sorted(
            p for p in remote if p.startswith("data/records/") and p.endswith(".jsonl")
        )
        wanted += records[-1:]
        # Tasks are read from the local folder (the worker, its task API, the requeue at start):
        # every state of every task comes back, not only the newest shard.
        tasks = f"{TASKS.folder}/"
        wanted += sorted(p for p in remote if p.startswith(tasks) and p.endswith(".jsonl"))
        for path in wanted:
            local_copy = self.api.hf_hub_download(self.repo_id, path, repo_type="dataset")
            atomic_write(self.local.root, path, Path(local_copy).read_bytes())
        self._mark_pushed([*wanted, *[p for p in remote if (self.local.root / p).exists()]])
        if wanted:
            log.info("restored %s from %s", ", ".join(wanted), self.repo_id)

    # -- pushing --------------------------------------------------------------------------------
    def _mark_pushed(self, paths: list[str]) -> None:
        existing = [rel for rel in paths if (self.local.root / rel).exists()]
        self.manifest.record({rel: self.manifest.snapshot(rel) for rel in existing})

    def pending(self) -> list[str]:
        """Files that differ from what the Hub has, in name order (card, data, state)."""
        return self.manifest.changed()

    def push_once(self) -> int:
        """Commit every pending file in one commit; return how many went. Raises on failure."""
        with self._lock:
            files = self.pending()
            if not files:
                return 0
            # hashed before the upload reads them: a file rewritten meanwhile is pushed again
            snapshots = {rel: self.manifest.snapshot(rel) for rel in files}
            newest = [p for p in files if p.startswith("data/records/")]
            title = f"autocoder: {len(files)} files" + (f" up to {newest[-1]}" if newest else "")
            operations = [
                CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(self.local.root / p))
                for p in files
            ]
            try:
                self.api.create_commit(
                    self.repo_id, operations, commit_message=title, repo_type="dataset"
                )
            except NETWORK_ERRORS as e:
                raise hub_failure(e, self.repo_id) from e
            self.manifest.record(snapshots)
            self.last_push_at = time.time()
            self.last_error = None
            return len(files)

    def flush(self, deadline_s: float = 120.0) -> int:
        """Push now, retrying Hub outages until ``deadline_s`` has passed; return files pushed.

        Each wait is ``max(Retry-After, backoff)``, the backoff doubling from ``min_backoff_s``
        up to ``every_s``; the last HubUnavailable is raised when the next wait would end past
        the deadline.
        """
        retrying = Retrying(
            retry=retry_outages,
            wait=self._backoff(),
            stop=StopBeforeDeadline(time.monotonic() + deadline_s),
            before_sleep=lambda state: log.warning(
                "%s; retrying in %.0fs", failure(state), state.upcoming_sleep
            ),
            reraise=True,
        )
        pushed: int = retrying(self._attempt_push)
        return pushed

    def _backoff(self) -> RetryAfterOrBackoff:
        return RetryAfterOrBackoff(self.min_backoff_s, self.every_s)

    def _attempt_push(self) -> int:
        """:meth:`push_once`, keeping why it failed for :meth:`status`."""
        try:
            return self.push_once()
        except StoreError as e:
            self.last_error = str(e)
            raise

    # -- background thread ----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            context = contextvars.copy_context()  # its log lines keep the worker they belong to
            self._thread = threading.Thread(
                target=context.run, args=(self._run,), name="autocoder-hub-sync", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        """Every ``every_s``: push, retrying outages (with Retry-After) until it works or stops."""
        retrying = Retrying(
            retry=retry_outages,
            wait=self._backoff(),
            before_sleep=self._log_outage,
            sleep=self._sleep_unless_stopped,
            reraise=True,
        )
        while not self._stop.wait(self.every_s):
            try:
                pushed: int = retrying(self._attempt_push)
            except _Stopping:
                return  # stop() pushes what is left
            except StoreError as e:  # not an outage: tried again at the next tick
                log.error("%s", e)
            else:
                if pushed:
                    log.info("pushed %d files to %s", pushed, self.repo_id)

    def _log_outage(self, state: RetryCallState) -> None:
        log.warning(
            "%s; the data stays in %s, next try in %.0fs",
            failure(state),
            self.local.root,
            state.upcoming_sleep,
        )

    def _sleep_unless_stopped(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopping

    def stop(self, final_flush_s: float = 30.0) -> None:
        """Stop the thread, then push what is left (bounded by ``final_flush_s``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            self.flush(final_flush_s)
        except StoreError as e:
            log.error(
                "final push failed, %d files stay in %s: %s",
                len(self.pending()),
                self.local.root,
                e,
            )

    def status(self) -> dict[str, Any]:
        return {
            "repo": self.repo_id,
            "pending_files": len(self.pending()),
            "last_push_at": self.last_push_at,
            "last_error": self.last_error,
        }


def _last_iteration(remote: list[str]) -> int:
    """The newest iteration of the records shards in a repo listing (0 for none)."""
    return max((iteration_of(p) for p in remote if is_record_shard(p)), default=0)
