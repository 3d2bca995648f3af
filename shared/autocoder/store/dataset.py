"""One interface over a dataset repo, a local folder or a Hub repo, that every reader goes through.

The commands (``latest``, ``sarif``, ``gate``, ``tests``), a worker reading a peer's rows, and
the dashboard's incremental tail (:class:`autocoder.store.tail.DatasetTail`) all read through
:class:`Dataset`; :mod:`autocoder.store.locate` picks which one from the settings. Both classes
answer the same over the same files: shards come back as text (undecodable bytes replaced, so a
corrupt shard is reported by the parser, not by the decoder), a missing file is ``None``, a
missing folder is ``[]``.

On the Hub each call is a request, so :class:`HubDataset` keeps today's costs: the recursive
listing is fetched once and kept for the instance, :meth:`HubDataset.head` is one call (the
commit of ``main``, which then pins every later read to that commit), and :meth:`read_texts`
downloads in parallel.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from huggingface_hub import HfApi
from huggingface_hub.errors import RemoteEntryNotFoundError, RepositoryNotFoundError

from autocoder.errors import StoreError
from autocoder.store.hub_client import hub_api
from autocoder.store.hub_errors import NETWORK_ERRORS, read_failure

HUB_PREFIX = "hf://datasets/"
SHARD_SUFFIX = ".jsonl"


class Dataset(Protocol):
    """Lists and reads the files of one dataset repo, wherever it lives."""

    location: str  # a folder path, or hf://datasets/USER/NAME

    def head(self) -> str | None:
        """None when the dataset does not exist; else its version ("" = unknown: always list)."""

    def list_names(self, folder: str) -> list[str]:
        """Names of the entries directly in ``folder``; [] when it does not exist."""

    def read_texts(self, paths: list[str]) -> dict[str, str | None]:
        """Each file's text, None for a file that does not exist."""

    def list_files(self, folder: str) -> list[str]:
        """Repo paths of the JSON-lines shards under ``folder``, at any depth, sorted."""

    def read_text(self, path: str) -> str | None:
        """One file's text, None when it does not exist."""


class LocalDataset:
    """A dataset folder on this disk, laid out like the Hub repo (``LocalStore`` writes it)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def __repr__(self) -> str:
        return f"LocalDataset({self.location})"

    def head(self) -> str | None:
        return "" if self.root.is_dir() else None

    def list_names(self, folder: str) -> list[str]:
        try:
            with os.scandir(self.root / folder) as entries:
                return [entry.name for entry in entries]
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as e:
            raise StoreError(f"cannot list {self.root / folder}: {e}") from e

    def list_files(self, folder: str) -> list[str]:
        base = self.root / folder
        if not base.is_dir():
            return []
        found = base.rglob(f"*{SHARD_SUFFIX}")
        return sorted(p.relative_to(self.root).as_posix() for p in found)

    def read_texts(self, paths: list[str]) -> dict[str, str | None]:
        return {path: self.read_text(path) for path in paths}

    def read_text(self, path: str) -> str | None:
        try:
            return (self.root / path).read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StoreError(f"cannot read {self.root / path}: {e}") from e


class HubDataset:
    """A dataset repo on the Hub. After :meth:`head`, every read is at the commit it returned."""

    def __init__(
        self, repo_id: str, token: str | None = None, api: HfApi | None = None, threads: int = 8
    ) -> None:
        self.repo_id = repo_id
        self.location = f"{HUB_PREFIX}{repo_id}"
        self.api = api or hub_api(token)
        self.threads = threads
        self.revision = "main"
        self._listing: list[str] | None = None  # every file of the repo at ``revision``

    def __repr__(self) -> str:
        return f"HubDataset({self.location})"

    def head(self) -> str | None:
        try:
            refs = self.api.list_repo_refs(self.repo_id, repo_type="dataset")
        except RepositoryNotFoundError:
            return None
        except NETWORK_ERRORS as e:  # HfHubHTTPError is an OSError
            raise read_failure(e, self.repo_id) from e
        main = next((b for b in refs.branches if b.name == "main"), None)
        revision = main.target_commit if main else "main"
        if revision != self.revision:
            self.revision, self._listing = revision, None
        return revision

    def list_names(self, folder: str) -> list[str]:
        try:
            tree = self.api.list_repo_tree(
                self.repo_id, folder, revision=self.revision, repo_type="dataset"
            )
            return [entry.path.rsplit("/", 1)[-1] for entry in tree]
        except RemoteEntryNotFoundError:
            return []
        except NETWORK_ERRORS as e:
            raise read_failure(e, self.repo_id) from e

    def list_files(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        return sorted(p for p in self._files() if p.startswith(prefix) and p.endswith(SHARD_SUFFIX))

    def read_text(self, path: str) -> str | None:
        """Asks the listing first: a file the repo does not have costs no download."""
        return self._download(path) if path in self._files() else None

    def read_texts(self, paths: list[str]) -> dict[str, str | None]:
        if not paths:
            return {}
        with ThreadPoolExecutor(max_workers=min(self.threads, len(paths))) as pool:
            return dict(zip(paths, pool.map(self._download, paths), strict=True))

    def _files(self) -> list[str]:
        if self._listing is None:
            try:
                self._listing = self.api.list_repo_files(
                    self.repo_id, repo_type="dataset", revision=self.revision
                )
            except NETWORK_ERRORS as e:
                raise read_failure(e, self.repo_id) from e
        return self._listing

    def _download(self, path: str) -> str | None:
        try:
            local = self.api.hf_hub_download(
                self.repo_id, path, repo_type="dataset", revision=self.revision
            )
        except RemoteEntryNotFoundError:
            return None
        except NETWORK_ERRORS as e:
            raise read_failure(e, self.repo_id) from e
        return Path(local).read_bytes().decode("utf-8", errors="replace")
