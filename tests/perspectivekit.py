"""What every perspective test builds: a run context over a folder, and small target folders."""

from __future__ import annotations

from pathlib import Path

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import RunContext, RunOptions
from autocoder.engine.sources import SourceFiles


def context(root: Path, tmp_path: Path, **options: object) -> RunContext:
    """A context over ``root`` with a fresh cache in ``tmp_path`` and these run options."""
    return RunContext(
        root=root,
        commit=None,
        sources=SourceFiles.discover(root),
        cache=ResultCache(tmp_path / "cache.sqlite3"),
        options=RunOptions(**options),  # type: ignore[arg-type]
    )


def write_target(tmp_path: Path, files: dict[str, str]) -> Path:
    """A target folder ``tmp_path/target`` holding ``files`` (relative path -> text)."""
    root = tmp_path / "target"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root
