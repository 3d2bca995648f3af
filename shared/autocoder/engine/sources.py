"""The files of a target: which ones exist, which are Python, their content hashes and lines.

Only files that are safe to hand to a tool or a parser are listed (:attr:`SourceFiles.files`);
the others are in :attr:`SourceFiles.skipped` with the reason, and nothing reads them:

- a path whose real location (every symlink on the way resolved, folders included) is outside
  the target, such as ``pkg/creds.py -> ~/.aws/credentials`` or a linked folder; a symlink loop;
- a file larger than ``max_file_bytes`` (``AUTOCODER_MAX_FILE_BYTES``, 1 MB by default);
- a Python file that cannot be parsed safely (see :mod:`.parsing`: binary, not UTF-8, nested too
  deep for the parsers). A Python file with a plain syntax error is kept: ruff reports it, and
  :meth:`SourceFiles.parse` gives the in-process parsers None for it.

Links that stay inside the target are followed. Folders the tools never look at (``.git``,
virtual environments, build output) and non-regular files are left out without a reason.
Verdicts are kept for the next snapshot while a file's real path, size and modification time
stay the same (like the content hashes), and in the result cache by content across restarts, so
an unchanged tree is not read again. Reads go to the real path found at discovery.
"""

from __future__ import annotations

import ast
import errno
import hashlib
import os
import stat
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from autocoder.engine.cache import ResultCache
from autocoder.engine.modules import module_name, package_dirs
from autocoder.engine.parsing import UNREADABLE_DIGEST, parse_module, python_verdicts, read_at_most

MAX_FILE_BYTES = 1_000_000  # the default of AUTOCODER_MAX_FILE_BYTES
OUTSIDE = "symlink outside the target"
LOOP = "symlink loop"
SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__",
        ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist",
        ".eggs", "site-packages", "autocoder-data", ".autocoder-cache",
    }
)  # fmt: skip


def too_large(limit: int) -> str:
    """The reason given for a file above the size limit."""
    return f"larger than {limit} bytes (AUTOCODER_MAX_FILE_BYTES)"


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files, or None when root is not a git work tree."""
    from autocoder.engine import sandbox  # the target's own config runs nothing (no fsmonitor)
    from autocoder.errors import AutocoderError

    if not (root / ".git").exists():
        return None
    try:
        done = sandbox.run_git(
            ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
            timeout_s=60, env={"GIT_WORK_TREE": str(root)},  # not a core.worktree elsewhere
        )  # fmt: skip
    except (AutocoderError, OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return sorted({p for p in done.stdout.split("\0") if p})


def _walk_files(root: Path) -> list[str]:
    """Every file below ``root``, and the symlinks to folders (which ``os.walk`` does not enter)
    so that a link leaving the target is seen and counted."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
        )
        base = Path(dirpath).relative_to(root)
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        found.extend((base / name).as_posix() for name in [*filenames, *links])
    return sorted(found)


def _skipped(path: str) -> bool:
    return any(part in SKIPPED_DIRS for part in path.split("/")[:-1])


@dataclass(frozen=True)
class _Entry:
    """Where a listed path really is, and the size and modification time found there."""

    real: str
    size: int
    mtime_ns: int


def _locate(real_root: str, relative: str) -> _Entry | str | None:
    """The real file behind ``relative``, why it is skipped, or None to leave it out silently
    (a folder, a dangling link inside the target, a FIFO or a device)."""
    real = os.path.realpath(os.path.join(real_root, relative))
    if os.path.commonpath([real_root, real]) != real_root:
        return OUTSIDE
    try:
        info = os.stat(real)
    except OSError as e:
        return LOOP if e.errno == errno.ELOOP else None
    return _Entry(real, info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None


@dataclass
class SourceFiles:
    """A snapshot of the target's files, relative to ``root`` with forward slashes."""

    root: Path
    files: list[str] = field(default_factory=list)
    max_file_bytes: int = MAX_FILE_BYTES
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why nothing reads it

    @classmethod
    def discover(
        cls,
        root: Path,
        previous: SourceFiles | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        cache: ResultCache | None = None,
    ) -> SourceFiles:
        """The files under ``root`` now, without those nothing may read (see the module).

        Hashes and verdicts of ``previous`` (the same root, an earlier iteration) are kept for
        files whose real path, size and modification time did not change; ``cache`` keeps the
        verdicts by content across restarts."""
        listed = _git_files(root)
        found = cls(root=root, max_file_bytes=max_file_bytes)
        real_root = os.path.realpath(root)
        for rel in listed if listed is not None else _walk_files(root):
            place = None if _skipped(rel) else _locate(real_root, rel)
            if isinstance(place, str):
                found.skipped[rel] = place
            elif place is not None and place.size > max_file_bytes:
                found.skipped[rel] = too_large(max_file_bytes)
            elif place is not None:
                found._entries[rel] = place
        if previous is not None and previous.root == root:
            found._inherit(previous)
        found._judge(cache)
        found.files = sorted(rel for rel in found._entries if not found._verdicts.get(rel))
        found.skipped.update((rel, why) for rel, why in found._verdicts.items() if why)
        found.skipped = dict(sorted(found.skipped.items()))
        return found

    def _inherit(self, previous: SourceFiles) -> None:
        for rel, entry in self._entries.items():
            if previous._entries.get(rel) == entry:
                if rel in previous._digests:
                    self._digests[rel] = previous._digests[rel]
                if rel in previous._verdicts:
                    self._verdicts[rel] = previous._verdicts[rel]

    def _judge(self, cache: ResultCache | None) -> None:
        """A verdict for each Python file without one (see :func:`.parsing.python_verdicts`)."""
        todo = {
            rel: (Path(e.real), self._digests.setdefault(rel, _sha256(Path(e.real))))
            for rel, e in self._entries.items()
            if rel.endswith(".py") and rel not in self._verdicts
        }
        self._verdicts.update(python_verdicts(todo, self.max_file_bytes, cache))

    def __contains__(self, relative: object) -> bool:
        """Whether ``relative`` is one of the listed files (safe to read)."""
        return relative in self._listed

    def skipped_counts(self) -> dict[str, int]:
        """Skipped files per reason, the most frequent first."""
        counts = Counter(self.skipped.values())
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def skipped_summary(self) -> str:
        """E.g. "2 skipped: 1 symlink outside the target, 1 symlink loop" ("" when none)."""
        if not self.skipped:
            return ""
        reasons = ", ".join(f"{n} {why}" for why, n in self.skipped_counts().items())
        return f"{len(self.skipped)} skipped: {reasons}"

    @cached_property
    def python(self) -> list[str]:
        return [f for f in self.files if f.endswith(".py")]

    @cached_property
    def packages(self) -> set[str]:
        """The folders that hold an ``__init__.py``."""
        return package_dirs(self.python)

    def module(self, relative: str) -> str:
        """The dotted name a Python file is imported by (see :func:`.modules.module_name`)."""
        return module_name(relative, self.packages)

    def path(self, relative: str) -> Path:
        """Where a listed file really is (found at discovery); ``root / relative`` otherwise."""
        entry = self._entries.get(relative)
        return Path(entry.real) if entry is not None else self.root / relative

    def mirror(self, folder: Path, files: Iterable[str]) -> None:
        """Symlink each listed one of ``files`` into ``folder`` (same relative path) to its real
        path: a tree for tools that take a folder, without what was skipped."""
        for rel in files:
            if rel in self:
                link = folder / rel
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(self.path(rel))

    def read_bytes(self, relative: str) -> bytes:
        """A listed file's content; OSError for any other path or a file grown past the limit."""
        if relative not in self:
            raise FileNotFoundError(f"{relative!r} is not a listed file of {self.root}")
        return read_at_most(self.path(relative), self.max_file_bytes)

    def parse(self, relative: str) -> ast.Module | None:
        """The syntax tree of a listed Python file, or None (the reason in :attr:`unparsed`);
        never raises, whatever the file holds. Trees are not kept: callers may change them."""
        if relative in self.unparsed:
            return None
        try:
            tree, error = parse_module(self.read_bytes(relative), relative)
        except OSError as e:
            tree, error = None, f"{type(e).__name__}: {e}"
        if error is not None:
            self.unparsed[relative] = error
        return tree

    def digest(self, relative: str) -> str:
        if relative not in self._digests:
            known = relative in self
            self._digests[relative] = _sha256(self.path(relative)) if known else UNREADABLE_DIGEST
        return self._digests[relative]

    def tree_digest(self, relatives: list[str] | None = None) -> str:
        """One hash over the names and contents of ``relatives`` (default: every file)."""
        h = hashlib.sha256()
        for rel in relatives if relatives is not None else self.files:
            h.update(rel.encode())
            h.update(self.digest(rel).encode())
        return h.hexdigest()

    def lines(self, relative: str) -> list[str]:
        """A listed file's lines ([] for any other path, or when it cannot be read)."""
        if relative not in self._lines:
            try:
                text = self.read_bytes(relative).decode("utf-8", errors="replace")
            except OSError:
                text = ""
            self._lines[relative] = text.splitlines()
        return self._lines[relative]

    def line_text(self, relative: str, line: int) -> str:
        lines = self.lines(relative)
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    @cached_property
    def unparsed(self) -> dict[str, str]:
        """Python file -> why :meth:`parse` gave None for it (a syntax error, mostly)."""
        return {}

    @cached_property
    def _listed(self) -> frozenset[str]:
        return frozenset(self.files)

    @cached_property
    def _entries(self) -> dict[str, _Entry]:
        return {}

    @cached_property
    def _verdicts(self) -> dict[str, str | None]:
        """Python file -> why it cannot be parsed safely, or None when it can."""
        return {}

    @cached_property
    def _digests(self) -> dict[str, str]:
        return {}

    @cached_property
    def _lines(self) -> dict[str, list[str]]:
        return {}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return UNREADABLE_DIGEST
    return h.hexdigest()
