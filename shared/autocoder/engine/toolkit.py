"""Helpers any worker's perspectives use: run a tool, know its version, cache its results per
file or per tree, and read the paths it reports.

Tools run as subprocesses of this interpreter (``python -I -m tool``, see :mod:`.sandbox`) with a
timeout and a memory limit, so a hung or crashing tool cannot take the worker down, memory goes
back to the OS when it exits, and nothing of the target is imported. Test suites run through
:mod:`.testrun`. What only the analysis worker makes of tools' output (fingerprinted findings,
their metrics and sentences) lives in :mod:`autocoder.workers.analysis.evidence`.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import importlib.util
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from autocoder.engine import sandbox
from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import RunContext
from autocoder.engine.sandbox import DEFAULT_MEMORY_MB
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped, ToolError, ToolMissing

ARGS_PER_CALL = 400  # files per tool call: stays far below the OS argument limit
NETWORK_ENV = sandbox.NETWORK_ENV  # the worker's variables a tool that goes online may see


def require_python(ctx: RunContext) -> None:
    """Raise PerspectiveSkipped when the target has no Python file to analyse."""
    if not ctx.sources.python:
        raise PerspectiveSkipped(f"no Python files in {ctx.root}")


def tool_version(distribution: str) -> str:
    """The installed version of a distribution, or raise ToolMissing naming the install command."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ToolMissing(distribution, f"pip install {distribution}") from None


def require_module(module: str, distribution: str) -> str:
    """Check that ``python -m module`` can run; return the distribution's version."""
    if importlib.util.find_spec(module) is None:
        raise ToolMissing(distribution, f"pip install {distribution}")
    return tool_version(distribution)


def run_tool(
    args: list[str],
    cwd: Path,
    timeout_s: float,
    ok_codes: Iterable[int] = (0, 1),
    env: dict[str, str] | None = None,
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    import_paths: list[Path] | None = None,
    pass_env: Iterable[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` (the first being a module run with this interpreter's ``-m``) in the
    :mod:`.sandbox` and return it.

    Nothing of ``cwd`` (the target) is importable unless ``import_paths`` names it (the opt-in
    test runs); the tool sees none of the worker's variables but ``env`` and ``pass_env``, and at
    most ``memory_mb`` MiB of address space. Exit codes outside ``ok_codes`` raise ToolError
    with the end of stderr; a timeout kills the tool and its children and raises ToolTimeout.
    """
    done = sandbox.run_python(
        args[0], args[1:], cwd=cwd, timeout_s=timeout_s, memory_mb=memory_mb,
        import_paths=import_paths, env=env, pass_env=pass_env,
    )  # fmt: skip
    if done.returncode not in set(ok_codes):
        tail = (done.stderr or done.stdout).strip()[-600:]
        raise ToolError(f"{args[0]} exited with {done.returncode}: {tail}")
    return done


def batched(items: list[str], size: int = ARGS_PER_CALL) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cached_per_file(
    cache: ResultCache,
    tool: str,
    version: str,
    sources: SourceFiles,
    files: list[str],
    analyse: Callable[[list[str]], dict[str, Any]],
    default: Any = None,
) -> dict[str, Any]:
    """Results for each of ``files``: from the cache when this file had this content, else
    ``analyse``.

    The key is the path and the content digest: some rules depend on the path (ruff's N999,
    detect-secrets' per-extension rules), so two identical files never share a result.
    ``analyse`` gets the files that missed, a batch at a time, and returns a result per file; a
    file it returns nothing for (a clean one) gets a copy of ``default`` (an empty list when
    None). Each batch is stored as soon as it is done, so a pass cut short by a timeout keeps
    what it finished and the next pass goes on from there.
    """
    keys = {f: hashlib.sha256(f"{f}\0{sources.digest(f)}".encode()).hexdigest() for f in files}
    hits = cache.get_many(tool, version, list(keys.values()))
    results = {f: hits[k] for f, k in keys.items() if k in hits}
    nothing = [] if default is None else default
    for batch in batched([f for f in files if f not in results]):
        fresh = analyse(batch)
        for f in batch:
            results[f] = fresh[f] if f in fresh else copy.deepcopy(nothing)
        cache.put_many(tool, version, {keys[f]: results[f] for f in batch})
    return results


def cached_whole_tree(
    cache: ResultCache,
    tool: str,
    version: str,
    sources: SourceFiles,
    files: list[str],
    analyse: Callable[[], Any],
) -> Any:
    """A whole-program result (an import graph, a dependency check) keyed by the files' contents."""
    key = sources.tree_digest(files)
    hit = cache.get(tool, version, key)
    if hit is not None:
        return hit
    result = analyse()
    cache.put(tool, version, key, result)
    return result


def relative(root: Path, path: str) -> str:
    """A tool's path (absolute or relative to root) as a repo-relative posix path."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.resolve().relative_to(root.resolve())
        except ValueError:
            return p.as_posix().lstrip("/")
    return p.as_posix().removeprefix("./")
