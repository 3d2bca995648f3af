"""The Hub side of a store: push the local folder in batches, restore it on a fresh disk, read it.

Writes never go to the Hub directly. The worker appends to the local folder; :class:`HubSync`
commits every file that changed since the last successful push, in one commit, every
``every_s`` seconds from a background thread (one commit at a time, like ``CommitScheduler``).
What was pushed is kept in the folder (:mod:`autocoder.store.manifest`); a file is read again
only when its size or mtime changed, so :meth:`HubSync.status` costs a directory walk.
A Hub outage or rate limit leaves the files in the folder: they go with the next push that works,
and the wait honours ``Retry-After``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import httpx2
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError

from autocoder.errors import HubUnavailable, StoreError
from autocoder.store.layout import STATE_PATH, atomic_write
from autocoder.store.local import LocalStore
from autocoder.store.manifest import PushManifest

log = logging.getLogger("autocoder.hub")
MIN_BACKOFF_S = 5.0
# What a Hub call raises when the Hub answers badly or not at all. huggingface_hub 2.x speaks
# httpx2 (its ConnectError is neither an httpx error nor an OSError); httpx is for other clients.
NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx2.HTTPError, httpx.HTTPError, OSError)


def _http_failure(error: HfHubHTTPError, repo_id: str) -> StoreError:
    assert error.response is not None
    status = error.response.status_code
    if status in (401, 403):
        return StoreError(
            f"the Hub refused access to {repo_id!r} (HTTP {status}); give HF_TOKEN write "
            "access to it"
        )
    retry = error.response.headers.get("Retry-After")
    retry_s = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
    if status == 429 or status >= 500:
        return HubUnavailable(f"the Hub answered HTTP {status} for {repo_id!r}", retry_s)
    return StoreError(f"the Hub answered HTTP {status} for {repo_id!r}")


def hub_failure(error: Exception, repo_id: str) -> StoreError:
    """Turn a client error into HubUnavailable (try again later) or StoreError (fix something)."""
    if isinstance(error, RepositoryNotFoundError):
        return StoreError(
            f"dataset repo {repo_id!r} was not found or the token cannot see it; check HF_USERNAME "
            "or AUTOCODER_HUB_REPO, and that HF_TOKEN has write access"
        )
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        return _http_failure(error, repo_id)
    if isinstance(error, OSError) and error.filename:  # a local file, e.g. a full disk: not the Hub
        return StoreError(
            f"{error.filename} could not be written while syncing {repo_id!r}: "
            f"{error.strerror or error}; free space or fix the folder (AUTOCODER_DATA_DIR)"
        )
    if isinstance(error, NETWORK_ERRORS):
        return HubUnavailable(
            f"the Hub could not be reached for {repo_id!r} ({type(error).__name__}: {error})"
        )
    return StoreError(
        f"unexpected error talking to the Hub about {repo_id!r}: {type(error).__name__}"
    )


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
        self.api = api or HfApi(token=token)
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
            if self.local.last_iteration() == 0:
                self._restore()
        except NETWORK_ERRORS as e:
            raise hub_failure(e, self.repo_id) from e

    def _restore(self) -> None:
        remote = self.api.list_repo_files(self.repo_id, repo_type="dataset")
        wanted = [STATE_PATH] if STATE_PATH in remote else []
        records = sorted(
            p for p in remote if p.startswith("data/records/") and p.endswith(".jsonl")
        )
        wanted += records[-1:]
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
        """Push now, retrying Hub outages until ``deadline_s`` has passed; return files pushed."""
        give_up_at = time.monotonic() + deadline_s
        backoff = self.min_backoff_s
        while True:
            try:
                return self.push_once()
            except HubUnavailable as e:
                self.last_error = str(e)
                wait = max(e.retry_after_s or 0.0, backoff)
                if time.monotonic() + wait > give_up_at:
                    raise
                log.warning("%s; retrying in %.0fs", e, wait)
                time.sleep(wait)
                backoff = min(backoff * 2, self.every_s)

    # -- background thread ----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="autocoder-hub-sync", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        wait = self.every_s
        while not self._stop.wait(wait):
            wait = self.every_s
            try:
                pushed = self.push_once()
                if pushed:
                    log.info("pushed %d files to %s", pushed, self.repo_id)
            except HubUnavailable as e:
                self.last_error = str(e)
                wait = max(e.retry_after_s or 0.0, self.min_backoff_s)
                log.warning("%s; the data stays in %s, next try in %.0fs", e, self.local.root, wait)
            except StoreError as e:
                self.last_error = str(e)
                log.error("%s", e)

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


class HubReader:
    """Reads a dataset repo on the Hub (for ``latest``, ``sarif``, ``gate`` and the dashboard)."""

    def __init__(self, repo_id: str, token: str | None = None, api: HfApi | None = None) -> None:
        self.repo_id = repo_id
        self.location = f"hf://datasets/{repo_id}"
        self.api = api or HfApi(token=token)
        self._listing: list[str] | None = None

    def __repr__(self) -> str:
        return f"HubReader({self.location})"

    def _files(self) -> list[str]:
        if self._listing is None:
            try:
                self._listing = self.api.list_repo_files(self.repo_id, repo_type="dataset")
            except NETWORK_ERRORS as e:
                raise hub_failure(e, self.repo_id) from e
        return self._listing

    def list_files(self, folder: str) -> list[str]:
        return sorted(p for p in self._files() if p.startswith(folder.rstrip("/") + "/"))

    def read_text(self, path: str) -> str | None:
        if path not in self._files():
            return None
        try:
            local = self.api.hf_hub_download(self.repo_id, path, repo_type="dataset")
        except EntryNotFoundError:
            return None
        except NETWORK_ERRORS as e:
            raise hub_failure(e, self.repo_id) from e
        return Path(local).read_text(encoding="utf-8")
