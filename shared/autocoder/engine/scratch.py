"""A scratch copy of the target that a worker may write to (apply a patch, run the tests in it),
never the user's checkout. It lives in a fresh folder under ``into_dir`` and is removed when the
``with`` block ends, whatever happened in it.

- At a commit (a git target): exactly that commit's tracked files, as committed. They are read
  from git's object store (``git ls-tree`` then ``git cat-file --batch``, in the
  :mod:`.sandbox`), so no filter, attribute (``export-ignore``, ``export-subst``, line endings)
  or hook of the target's runs, and nothing is written into its ``.git``: no index, no worktree,
  no lock. Executable bits are kept. A path that could land outside the copy (``..``, an
  absolute path, a ``.git`` part) is refused, as are submodules (a commit, not files) and
  symlinks whose target is absolute or resolves outside the copy.
- Without a commit (a plain folder): the files :class:`.sources.SourceFiles` would read, so
  symlinks out of the tree are dropped and files over ``max_file_bytes`` are left out.

What was left out is logged. The copy has no ``.git``: git commands run in it find no
repository of the target's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from autocoder.engine import sandbox
from autocoder.engine.git import git
from autocoder.engine.sources import MAX_FILE_BYTES, SourceFiles
from autocoder.engine.target import GIT_TIMEOUT_S, Checkout
from autocoder.errors import TargetError

log = logging.getLogger("autocoder.scratch")
_COMMIT = re.compile(r"^[0-9a-fA-F]{4,64}$")
_CHUNK = 1 << 20
REGULAR, EXECUTABLE, SYMLINK, SUBMODULE = "100644", "100755", "120000", "160000"


@contextlib.contextmanager
def scratch_copy(
    source: Checkout | Path,
    commit: str | None,
    into_dir: Path,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    timeout_s: float = GIT_TIMEOUT_S,
    memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
) -> Iterator[Path]:
    """Yield a writable copy of ``source`` (a checkout or its root) at ``commit`` (None: the
    folder as it is), made in a new folder under ``into_dir`` and removed afterwards.

    Raises TargetError when ``into_dir`` is inside the source (the copy would be the user's
    checkout), when ``commit`` is not a commit of the source, or when git fails."""
    root = (source.root if isinstance(source, Checkout) else source).resolve()
    into = into_dir.resolve()
    if into == root or root in into.parents:
        raise TargetError(
            f"scratch folder {into_dir} is inside the target {root}; a worker never writes into "
            "the user's checkout: give a folder outside it (the data or cache folder)"
        )
    into.mkdir(parents=True, exist_ok=True)
    holder = Path(tempfile.mkdtemp(prefix="autocoder-scratch-", dir=into))
    try:
        tree = holder / "tree"
        tree.mkdir()
        if commit is None:
            _copy_listed(root, tree, max_file_bytes)
        else:
            _Materialiser(root, tree, holder, timeout_s, memory_mb).run(commit)
        yield tree
    finally:
        _remove(holder)


def _copy_listed(root: Path, tree: Path, max_file_bytes: int) -> None:
    """The files SourceFiles lists under ``root``, their contents read through it (links that
    stay inside are followed, so each becomes a plain file)."""
    sources = SourceFiles.discover(root, max_file_bytes=max_file_bytes)
    for rel in sources.files:
        try:
            data = sources.read_bytes(rel)
            executable = os.stat(sources.path(rel)).st_mode & stat.S_IXUSR
        except OSError as e:  # changed since it was listed (grown past the limit, removed)
            sources.skipped[rel] = f"{type(e).__name__}: {e}"
            continue
        dest = tree / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        dest.chmod(0o755 if executable else 0o644)
    if sources.skipped:
        log.info("scratch copy of %s: %s", root, sources.skipped_summary())


def safe_parts(path: str) -> tuple[str, ...] | None:
    """The parts of a tree path that stays inside the copy, or None (``..``, ``.git``, empty
    or absolute)."""
    parts = tuple(path.split("/"))
    bad = any(p in ("", ".", "..") or p.lower() == ".git" or "\\" in p for p in parts)
    return None if bad else parts


class _Materialiser:
    """Writes one commit's tracked files from git's objects into ``tree``."""

    def __init__(self, root: Path, tree: Path, work: Path, timeout_s: float, memory_mb: int):
        self.root, self.tree, self.work = root, tree, work
        self.timeout_s, self.memory_mb = timeout_s, memory_mb
        self.skipped: dict[str, str] = {}

    def run(self, commit: str) -> None:
        if not _COMMIT.match(commit):
            raise TargetError(f"commit {commit!r} of {self.root} is not a commit id (hex digits)")
        prefix = self._git(["rev-parse", "--show-prefix"], "it is not a git work tree")
        sha = self._git(["rev-parse", "--verify", "-q", f"{commit}^{{commit}}"],
                        f"{commit} is not a commit of it").strip()  # fmt: skip
        prefix = prefix.strip().rstrip("/")
        listing = self._git(["ls-tree", "-r", "-z", "--full-tree", f"{sha}:{prefix}"],
                            f"{prefix or 'its root'} is not a folder at {sha}")  # fmt: skip
        blobs = [e for e in map(self._entry, filter(None, listing.split("\0"))) if e]
        wanted, batch_out = self.work / "objects.in", self.work / "objects.out"
        wanted.write_text("".join(f"{obj}\n" for _mode, obj, _parts in blobs))
        self._git(["cat-file", "--batch"], "its objects cannot be read", wanted, batch_out)
        links: list[tuple[tuple[str, ...], str]] = []
        with batch_out.open("rb") as batch:
            for mode, obj, parts in blobs:
                size = _header(batch, obj)
                if mode == SYMLINK:
                    links.append((parts, _read(batch, size).decode("utf-8", "surrogateescape")))
                else:
                    self._write(parts, mode, batch, size)
                batch.read(1)  # the newline after each object
        wanted.unlink()
        batch_out.unlink()
        for parts, target in links:  # last, so that no file is written through one
            self._link(parts, target)
        self._drop_escaping_links([self.tree.joinpath(*parts) for parts, _ in links])
        if self.skipped:
            log.info("scratch copy of %s at %s left out %s", self.root, sha, self.skipped)

    def _entry(self, line: str) -> tuple[str, str, tuple[str, ...]] | None:
        """(mode, object, parts) of one ``ls-tree`` line that becomes a file, else None."""
        meta, _, path = line.partition("\t")
        mode, _kind, obj = meta.split(" ")
        parts = safe_parts(path)
        if parts is None:
            self.skipped[path] = "path outside the copy"
        elif mode == SUBMODULE:
            self.skipped[path] = "submodule (not materialised)"
        elif mode not in (REGULAR, EXECUTABLE, SYMLINK):
            self.skipped[path] = f"mode {mode}"
        else:
            return mode, obj, parts
        return None

    def _write(self, parts: tuple[str, ...], mode: str, batch: IO[bytes], size: int) -> None:
        """One file from the batch; a path that clashes with another is skipped (and its
        content read past, so the batch stays in step)."""
        dest = self.tree.joinpath(*parts)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = dest.open("xb")
        except OSError:
            self.skipped["/".join(parts)] = "clashes with another path"
            _read(batch, size, keep=False)
            return
        with out:
            _read(batch, size, out)
        dest.chmod(0o755 if mode == EXECUTABLE else 0o644)

    def _link(self, parts: tuple[str, ...], target: str) -> None:
        where = self.tree.joinpath(*parts)
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            if target.startswith("/") or os.path.realpath(where.parent) != str(where.parent):
                raise FileExistsError(where)  # absolute, or its folder is itself a link
            where.symlink_to(target)
        except OSError:
            self.skipped["/".join(parts)] = "symlink outside the copy"

    def _drop_escaping_links(self, links: list[Path]) -> None:
        """A link through another (``a -> x/..`` with ``x -> .``) can still lead out of the
        copy once all are made: drop those until none does."""
        while escaping := [w for w in links if w.is_symlink() and not self._inside(w)]:
            for where in escaping:
                where.unlink()
                self.skipped[where.relative_to(self.tree).as_posix()] = "symlink outside the copy"

    def _inside(self, path: Path) -> bool:
        real = os.path.realpath(path)
        return os.path.commonpath([str(self.tree), real]) == str(self.tree)

    def _git(
        self, args: list[str], why: str, stdin: Path | None = None, stdout: Path | None = None
    ) -> str:
        """git's output, or TargetError saying ``why`` it failed (and git's own words)."""
        done = git(
            args, cwd=self.root, where=f"in {self.root}", timeout_s=self.timeout_s,
            memory_mb=self.memory_mb, stdin_path=stdin, stdout_path=stdout,
        )  # fmt: skip
        if done.returncode != 0:
            said = done.stderr.strip()[-400:]
            raise TargetError(
                f"cannot make a scratch copy of {self.root}: {why}"
                + (f" (git {args[0]}: {said})" if said else "")
            )
        return done.stdout


def _header(batch: IO[bytes], obj: str) -> int:
    """The size in the ``<object> <type> <size>`` line that starts each object of the batch."""
    header = batch.readline().split()
    if len(header) != 3 or header[0].decode() != obj:
        raise TargetError(f"git cat-file gave {header!r} where object {obj} was expected")
    return int(header[2])


def _read(batch: IO[bytes], size: int, out: IO[bytes] | None = None, keep: bool = True) -> bytes:
    """The next ``size`` bytes of the batch: written to ``out`` when given, else returned (or,
    without ``keep``, read past)."""
    kept = bytearray()
    while size:
        chunk = batch.read(min(size, _CHUNK))
        if not chunk:
            raise TargetError("git cat-file output ended inside an object")
        size -= len(chunk)
        if out is not None:
            out.write(chunk)
        elif keep:
            kept += chunk
    return bytes(kept)


def _remove(holder: Path) -> None:
    """Remove the copy, also where the worker made folders in it read-only (links are not
    followed: what they point to is never touched)."""
    with contextlib.suppress(OSError):
        holder.chmod(0o700)
    for dirpath, dirnames, _files in os.walk(holder):
        for name in dirnames:
            folder = os.path.join(dirpath, name)
            if not os.path.islink(folder):
                with contextlib.suppress(OSError):
                    os.chmod(folder, 0o700)
    shutil.rmtree(holder, ignore_errors=True)
