"""Helpers every perspective uses: run an analyser, know its version, cache per file, fingerprint,
and the metrics and sentences that every perspective's result is made of.

Analysers run as subprocesses of this interpreter (``python -I -m tool``, see :mod:`.sandbox`)
with a timeout and a memory limit, so a hung or crashing tool cannot take the worker down, memory
goes back to the OS when it exits, and nothing of the target is imported.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import importlib.util
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from autocoder.engine import sandbox
from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import RunContext
from autocoder.engine.sandbox import DEFAULT_MEMORY_MB
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped, ToolError, ToolMissing
from autocoder.schema import Finding, Severity

ARGS_PER_CALL = 400  # files per analyser call: stays far below the OS argument limit
TOP = 10  # entries in a metric that lists the worst files, functions or modules
NETWORK_ENV = sandbox.NETWORK_ENV  # the worker's variables a tool that goes online may see
TARGET_TEST_ENV = sandbox.TARGET_TEST_ENV  # and those the target's tests may see (opt-in)


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


def finding(
    sources: SourceFiles,
    *,
    tool: str,
    rule: str,
    severity: Severity,
    file: str,
    line: int,
    message: str,
    anchor: str | None = None,
) -> Finding:
    """A Finding with a provisional fingerprint; call :func:`stable_fingerprints` on the list.

    The fingerprint hashes the tool, rule, file and the *text* of the flagged line (or ``anchor``,
    e.g. a qualified name), never the line number, so it survives unrelated lines moving.
    """
    text = anchor if anchor is not None else sources.line_text(file, line)
    base = hashlib.sha256(f"{tool}\0{rule}\0{file}\0{text}".encode()).hexdigest()[:16]
    return Finding(
        tool=tool, rule=rule, severity=severity, file=file, line=line, message=message,
        fingerprint=base,
    )  # fmt: skip


def stable_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Sort by file and line, and make repeated fingerprints unique by their order of occurrence."""
    ordered = sorted(findings, key=lambda f: (f.file, f.line, f.rule, f.message))
    seen: Counter[str] = Counter()
    out: list[Finding] = []
    for f in ordered:
        n = seen[f.fingerprint]
        seen[f.fingerprint] += 1
        out.append(f if n == 0 else f.model_copy(update={"fingerprint": f"{f.fingerprint}-{n}"}))
    return out


def count_by(
    findings: Iterable[Finding], attribute: str, most: int | None = None
) -> dict[str, int]:
    """Findings per value of ``attribute``, most frequent first (only the first ``most``)."""
    return dict(Counter(str(getattr(f, attribute)) for f in findings).most_common(most))


def kloc(sources: SourceFiles, files: list[str] | None = None) -> float:
    """Thousands of lines in ``files`` (default: the Python files)."""
    total = sum(len(sources.lines(f)) for f in (files if files is not None else sources.python))
    return total / 1000.0


def per_kloc(count: int, size_kloc: float) -> float:
    return round(count / size_kloc, 2) if size_kloc > 0 else 0.0


def files_with_errors(per_file: dict[str, dict[str, Any]], most: int) -> list[str]:
    """The first ``most`` files, by name, whose per-file result holds an ``error``."""
    return sorted(f for f, result in per_file.items() if result.get("error"))[:most]


def finding_metrics(sources: SourceFiles, findings: list[Finding]) -> dict[str, Any]:
    """What most perspectives report: size, counts, rates, most frequent rules, worst files."""
    size = kloc(sources)
    by_severity = count_by(findings, "severity")
    per_file = Counter(f.file for f in findings)
    return {
        "python_files": len(sources.python),
        "kloc": round(size, 3),
        "findings": len(findings),
        "findings_per_kloc": per_kloc(len(findings), size),
        "by_severity": by_severity,
        "per_kloc_by_severity": {s: per_kloc(n, size) for s, n in by_severity.items()},
        "by_rule": count_by(findings, "rule", most=15),
        "worst_files": [{"file": f, "findings": n} for f, n in per_file.most_common(TOP)],
    }


def counts_phrase(counts: dict[str, int], empty: str = "none") -> str:
    """``{"medium": 1, "low": 4}`` -> "1 medium, 4 low"; ``empty`` when there is nothing."""
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or empty


def counts_sentence(metrics: dict[str, Any], what: str) -> str:
    """E.g. "5 issues (1 medium, 4 low), 34.7 per KLOC, in 7 Python files (0.144 KLOC)." from
    :func:`finding_metrics`."""
    return (
        f"{metrics['findings']} {what} ({counts_phrase(metrics['by_severity'])}), "
        f"{metrics['findings_per_kloc']} per KLOC, "
        f"in {metrics['python_files']} Python files ({metrics['kloc']} KLOC)."
    )


def skipped_sentences(skipped: dict[str, str], *, capitalise: bool = False) -> str:
    """ " part: skipped: why." for each part of a result that was skipped, to end a summary."""
    return "".join(
        f" {part.capitalize() if capitalise else part}: {why}." for part, why in skipped.items()
    )
