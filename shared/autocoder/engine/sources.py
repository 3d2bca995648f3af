"""The files of a target: which ones exist, which are Python, their content hashes and lines."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from autocoder.engine.modules import module_name, package_dirs

SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__",
        ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist",
        ".eggs", "site-packages", "autocoder-data", ".autocoder-cache",
    }
)  # fmt: skip


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files, or None when root is not a git work tree."""
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({p for p in out.decode("utf-8", "replace").split("\0") if p})


def _walk_files(root: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
        )
        base = Path(dirpath).relative_to(root)
        found.extend((base / name).as_posix() for name in filenames)
    return sorted(found)


def _skipped(path: str) -> bool:
    return any(part in SKIPPED_DIRS for part in path.split("/")[:-1])


@dataclass
class SourceFiles:
    """A snapshot of the target's files, relative to ``root`` with forward slashes."""

    root: Path
    files: list[str] = field(default_factory=list)

    @classmethod
    def discover(cls, root: Path, previous: SourceFiles | None = None) -> SourceFiles:
        """The files under ``root`` now. Content hashes of ``previous`` (the same root, an
        earlier iteration) are kept for files whose size and modification time did not change,
        so an unchanged tree is not read again."""
        listed = _git_files(root)
        found = cls(root=root)
        for rel in listed if listed is not None else _walk_files(root):
            try:
                info = os.stat(root / rel)
            except OSError:
                continue
            if not _skipped(rel) and stat.S_ISREG(info.st_mode):
                found.files.append(rel)
                found._stats[rel] = (info.st_size, info.st_mtime_ns)
        if previous is not None and previous.root == root:
            found._digests.update(
                (rel, digest)
                for rel, digest in previous._digests.items()
                if rel in found._stats and previous._stats.get(rel) == found._stats[rel]
            )
        return found

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
        return self.root / relative

    def digest(self, relative: str) -> str:
        return self._digests.setdefault(relative, _sha256(self.root / relative))

    def tree_digest(self, relatives: list[str] | None = None) -> str:
        """One hash over the names and contents of ``relatives`` (default: every file)."""
        h = hashlib.sha256()
        for rel in relatives if relatives is not None else self.files:
            h.update(rel.encode())
            h.update(self.digest(rel).encode())
        return h.hexdigest()

    def lines(self, relative: str) -> list[str]:
        if relative not in self._lines:
            try:
                text = (self.root / relative).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self._lines[relative] = text.splitlines()
        return self._lines[relative]

    def line_text(self, relative: str, line: int) -> str:
        lines = self.lines(relative)
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    @cached_property
    def _digests(self) -> dict[str, str]:
        return {}

    @cached_property
    def _stats(self) -> dict[str, tuple[int, int]]:
        """File -> (size, modification time in ns) when discovered."""
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
        return "unreadable"
    return h.hexdigest()
