"""Line coverage: the target's own test suite run under coverage.py.

That executes the target's code, so it runs only when ``run_target_tests`` is on. The suite runs
through :mod:`autocoder.engine.testrun` (the target's own configuration, stopping at the first
failure) in the target's throwaway environment, kept next to the analysis cache, from a
temporary working folder; what is analysis's own is the report: covered lines per file.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path
from typing import Any

from autocoder.engine import testrun, toolkit
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import ToolError
from autocoder.workers.analysis import evidence

TOP = evidence.TOP
RAN = (0, 1, 2)  # pytest exit codes of a suite that ran: passed, tests failed, interrupted


def add_line_coverage(ctx: RunContext, result: PerspectiveResult) -> None:
    """Put ``line_coverage`` into the result's metrics, or say in ``skipped`` why not."""
    if not ctx.options.run_target_tests:
        result.skipped["line coverage"] = "skipped: AUTOCODER_RUN_TARGET_TESTS is not 1"
        return
    if importlib.util.find_spec("pytest") is None:
        result.skipped["line coverage"] = "skipped: pytest is not installed; pip install pytest"
        return
    try:
        version = toolkit.require_module("coverage", "coverage")
        raw = toolkit.cached_whole_tree(
            ctx.cache, "coverage-pytest", version, ctx.sources, ctx.sources.files,
            lambda: _measure(ctx),
        )  # fmt: skip
    except ToolError as exc:
        result.skipped["line coverage"] = f"skipped: {exc}"
        return
    result.tools["coverage"] = version
    if "error" in raw:
        result.skipped["line coverage"] = f"skipped: {raw['error']}"
    else:
        result.metrics["line_coverage"] = _coverage_metrics(raw)


def _measure(ctx: RunContext) -> dict[str, Any]:
    """Run the target's tests under coverage.py: {file: [covered, statements]} and the outcome."""
    timeout = ctx.options.tool_timeout_s
    with tempfile.TemporaryDirectory(prefix="autocoder-cov-") as tmp:
        data, out = str(Path(tmp) / "coverage.data"), str(Path(tmp) / "coverage.json")
        run = testrun.run_tests(
            [], source_root=ctx.root, timeout_s=timeout, memory_mb=ctx.options.tool_memory_mb,
            coverage_data=Path(data), per_test_timeout_s=None, extra_args=["-x"],
            cache_dir=test_env_cache(ctx),
        )  # fmt: skip
        if run.exit_code == testrun.NO_TESTS_COLLECTED:
            return {"error": "pytest collected no tests in the target"}
        if run.exit_code not in RAN:
            said = (run.stderr or run.stdout).strip()[-600:]
            raise ToolError(f"coverage exited with {run.exit_code}: {said}")
        toolkit.run_tool(["coverage", "json", "--data-file", data, "-o", out], cwd=ctx.root,
                         timeout_s=timeout, ok_codes=(0,), memory_mb=ctx.options.tool_memory_mb,
                         import_paths=[ctx.root])  # fmt: skip
        report = json.loads(Path(out).read_text(encoding="utf-8"))
    tail = [line.strip() for line in run.stdout.splitlines() if line.strip()]
    return {"exit_code": run.exit_code, "outcome": tail[-1][:200] if tail else "",
            "files": _covered_per_file(ctx, report)}  # fmt: skip


def test_env_cache(ctx: RunContext) -> Path | None:
    """Where the target's throwaway test environment is kept: next to the analysis cache (none
    for an in-memory cache: a temporary environment per run)."""
    return ctx.cache.path.parent if ctx.cache.path is not None else None


def _covered_per_file(ctx: RunContext, report: dict[str, Any]) -> dict[str, list[int]]:
    """coverage.py's JSON report as repo file -> [covered lines, statements], for the listed
    files only (not what the tests reached through a link out of the target)."""
    measured = {
        toolkit.relative(ctx.root, name): [e["summary"]["covered_lines"],
                                           e["summary"]["num_statements"]]
        for name, e in report.get("files", {}).items()
    }  # fmt: skip
    return {file: counts for file, counts in measured.items() if file in ctx.sources}


def _coverage_metrics(raw: dict[str, Any]) -> dict[str, Any]:
    """Totals over the measured non-test files, and the least covered of them."""
    rows = [(f, c, n) for f, (c, n) in raw["files"].items() if not is_test_file(f) and n > 0]
    covered, statements = sum(r[1] for r in rows), sum(r[2] for r in rows)
    least = sorted(rows, key=lambda r: (r[1] / r[2], -r[2], r[0]))[:TOP]
    return {
        "percent": round(100.0 * covered / statements, 1) if statements else 0.0,
        "covered_lines": covered, "statements": statements, "files_measured": len(rows),
        "pytest_exit_code": raw["exit_code"], "pytest_outcome": raw["outcome"],
        "least_covered": [{"file": f, "percent": round(100.0 * c / n, 1), "statements": n}
                          for f, c, n in least],
    }  # fmt: skip
