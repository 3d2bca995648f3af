"""What every perspective test builds: a run context over a folder, and small target folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import Perspective, RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.schema import TestSpec


def context(root: Path, tmp_path: Path, **options: object) -> RunContext:
    """A context over ``root`` with a fresh cache in ``tmp_path`` and these run options."""
    return RunContext(
        root=root,
        commit=None,
        sources=SourceFiles.discover(root),
        cache=ResultCache(tmp_path / "cache.sqlite3"),
        options=RunOptions(**options),  # type: ignore[arg-type]
    )


def run_specs(
    perspective: Perspective, root: Path, tmp_path: Path, **options: object
) -> tuple[list[TestSpec], dict[str, Any]]:
    """A test planning perspective's specs on ``root``, and its summary, details and metrics."""
    result = perspective.run(context(root, tmp_path, **options))
    specs = [s for s in result.items if isinstance(s, TestSpec)]
    return specs, {"summary": result.summary, **result.details, **result.metrics}


def write_files(root: Path, files: dict[str, str]) -> Path:
    """``files`` (relative path -> text) written under ``root``, which is returned."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def write_target(tmp_path: Path, files: dict[str, str]) -> Path:
    """A target folder ``tmp_path/target`` holding ``files`` (relative path -> text)."""
    return write_files(tmp_path / "target", files)


def ids_before_and_after_two_lines_are_added(
    run: Callable[[Path, Path], tuple[list[TestSpec], Any]], root: Path, tmp_path: Path, file: str
) -> tuple[dict[str, str], list[TestSpec]]:
    """Subject -> spec id from ``run`` on ``root``, then the specs once two comment lines are
    put at the top of ``file``: what a test of stable ids compares."""
    before = {s.subject: s.id for s in run(root, tmp_path)[0]}
    path = root / file
    path.write_text("# a comment\n\n" + path.read_text())
    return before, run(root, tmp_path)[0]
