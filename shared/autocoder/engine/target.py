"""The repository under analysis: a local folder, or a git URL cloned shallowly and kept fresh.

git runs in the :mod:`.sandbox`: no hook, fsmonitor or filter of the target's or the worker's
config runs, and no token but the header for the token's own host reaches it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from autocoder.engine import sandbox
from autocoder.engine.git import git
from autocoder.errors import (
    AutocoderError,
    TargetError,
    redact,
)
from autocoder.settings import as_given

log = logging.getLogger("autocoder.target")
GIT_TIMEOUT_S = 300


@dataclass(frozen=True)
class Checkout:
    """A ready-to-read tree: where it is, what it is called in records, which commit."""

    root: Path
    repo: str
    commit: str | None


def is_url(spec: str) -> bool:
    return spec.startswith(("https://", "http://", "file://", "ssh://", "git@"))


def public_url(url: str) -> str:
    """The URL without user name or password, fit for records and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def auth_header(url: str, github_token: str | None, hf_token: str | None) -> str | None:
    """The Authorization header for a private clone, sent only to the host the token belongs to."""
    host = (urlsplit(url).hostname or "").lower()
    if github_token and (host == "github.com" or host.endswith(".github.com")):
        basic = base64.b64encode(f"x-access-token:{github_token}".encode()).decode()
        return f"Authorization: Basic {basic}"
    if hf_token and (host == "huggingface.co" or host.endswith(".huggingface.co")):
        return f"Authorization: Bearer {hf_token}"
    return None


@contextlib.contextmanager
def clone_lock(clone: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``<clone>.lock``, between threads and processes alike (each
    holder opens the file itself), released when the block ends or the process dies."""
    with clone.with_name(clone.name + ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def local_root(spec: str, given_as: str = "AUTOCODER_TARGET") -> Path:
    """The folder a local ``spec`` names, or a TargetError quoting it as given (``--target`` or
    the variable). Reads only: a command calls it before it writes anything."""
    root = Path(spec).expanduser().resolve()
    if not root.exists():
        raise TargetError(
            f"{as_given(given_as, spec)} does not exist; give a directory or a git URL (https://...)"
        )
    if not root.is_dir():
        raise TargetError(f"{as_given(given_as, spec)} is a file, not a directory or a git URL")
    return root


class Target:
    """Resolves ``AUTOCODER_TARGET`` to a :class:`Checkout`; call :meth:`prepare` each iteration."""

    def __init__(
        self,
        spec: str,
        clone_dir: Path,
        fetch_interval_s: float = 600.0,
        github_token: str | None = None,
        hf_token: str | None = None,
        memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
        given_as: str = "AUTOCODER_TARGET",
    ) -> None:
        self.spec = spec.strip() or "."
        self.given_as = given_as  # how the user gave it, named in errors: --target or the env var
        self.memory_mb = memory_mb  # address-space limit of each git process
        self.fetch_interval_s = fetch_interval_s
        self._tokens = [github_token, hf_token, urlsplit(self.spec).password]
        self._header = auth_header(self.spec, github_token, hf_token) if is_url(self.spec) else None
        key = hashlib.sha256(public_url(self.spec).encode()).hexdigest()[:12]
        self._clone = clone_dir / f"{Path(urlsplit(self.spec).path).stem or 'repo'}-{key}"

    def __repr__(self) -> str:
        return f"Target({self.display})"

    @property
    def display(self) -> str:
        return public_url(self.spec) if is_url(self.spec) else str(Path(self.spec).resolve())

    def prepare(self) -> Checkout:
        if is_url(self.spec):
            return self._prepare_clone()
        root = local_root(self.spec, self.given_as)
        return Checkout(root=root, repo=str(root), commit=head_commit(root))

    def current(self) -> Checkout:
        """The checkout as the worker last prepared it, without fetching (what a reader beside
        the worker, such as the task API, may look at without moving the worker's files); the
        first one is made when there is none yet."""
        if is_url(self.spec) and (self._clone / ".git").exists():
            return Checkout(root=self._clone, repo=self.display, commit=head_commit(self._clone))
        return self.prepare()

    def _prepare_clone(self) -> Checkout:
        """Clone once, fetch when due, under a file lock on the clone: two processes given the
        same clone folder never clone or fetch into it at once. Each worker has its own folder
        (:class:`autocoder.apps.service.WorkerService`), so a fetch never resets files another
        worker is reading."""
        self._clone.parent.mkdir(parents=True, exist_ok=True)
        with clone_lock(self._clone):
            if not (self._clone / ".git").exists():
                self._fresh_clone()
            elif self._fetch_due():
                self._git(["fetch", "--depth", "1", "--no-tags", "origin", "HEAD"], cwd=self._clone)
                self._git(["reset", "--hard", "--quiet", "FETCH_HEAD"], cwd=self._clone)
                self._stamp().touch()
                log.info("fetched %s", self.display)
        return Checkout(root=self._clone, repo=self.display, commit=head_commit(self._clone))

    def _stamp(self) -> Path:
        """Touched at each clone and fetch: the time of the last one, whichever worker did it."""
        return self._clone.with_name(self._clone.name + ".fetched")

    def _fetch_due(self) -> bool:
        try:
            age = time.time() - self._stamp().stat().st_mtime
        except FileNotFoundError:
            return True
        return age >= self.fetch_interval_s

    def _fresh_clone(self) -> None:
        """Clone into a temporary folder, then rename it into place: a clone cut short (a
        kill, a timeout) leaves no half folder that the next ``git clone`` refuses."""
        partial = self._clone.with_name(self._clone.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(self._clone, ignore_errors=True)  # a folder without .git is no clone
        self._git(["clone", "--depth", "1", "--no-tags", self.spec, str(partial)], cwd=None)
        os.replace(partial, self._clone)
        self._stamp().touch()

    def _git(self, args: list[str], cwd: Path | None) -> None:
        """Run git in the sandbox; only a clone or fetch gets the network variables and the
        token's header (in the environment, never on the command line or in a URL)."""
        network = args[0] in {"clone", "fetch"}
        env = {}
        if self._header and network:
            env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                   "GIT_CONFIG_VALUE_0": self._header}  # fmt: skip
        done = git(
            args, cwd=cwd, where=f"of {self.display}", timeout_s=GIT_TIMEOUT_S,
            memory_mb=self.memory_mb, env=env, pass_env=sandbox.NETWORK_ENV if network else (),
        )  # fmt: skip
        if done.returncode != 0:
            detail = redact(done.stderr.strip()[-400:], [*self._tokens, self._header])
            raise TargetError(
                f"git {args[0]} of {self.display} failed: {detail}; check the URL, and for a "
                "private repo set GITHUB_TOKEN (GitHub) or HF_TOKEN (Hugging Face)"
            )


def head_commit(root: Path) -> str | None:
    """The commit checked out in ``root``, or None when it is not a git work tree."""
    try:
        done = sandbox.run_git(["rev-parse", "--verify", "-q", "HEAD"], cwd=root, timeout_s=30)
    except (AutocoderError, OSError):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and len(sha) == 40 else None
