"""Small perspectives and a worker spec for testing the engine itself (not the analysers)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, Registry, RunContext
from autocoder.engine.spec import WorkerInfo, WorkerSpec
from autocoder.engine.target import Target
from autocoder.engine.worker import Worker
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import FINDINGS, RECORDS
from autocoder.store.local import LocalStore
from autocoder.workers.analysis.evidence import finding
from autocoder.workers.analysis.insights import AnalysisInsights
from autocoder.workers.analysis.records import finding_rows, record_analysis


class LongLines:
    """Flags lines over 20 characters in Python files: real findings from the target's text."""

    id: ClassVar[str] = "long_lines"
    name: ClassVar[str] = "Long Lines"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        if not ctx.sources.python:
            raise PerspectiveSkipped(f"no Python files in {ctx.root}")
        found = [
            finding(ctx.sources, tool="test", rule="L1", severity="low", file=f, line=n,
                    message=f"line of {len(text)} chars")
            for f in ctx.sources.python
            for n, text in enumerate(ctx.sources.lines(f), 1)
            if len(text) > 20
        ]  # fmt: skip
        return PerspectiveResult(summary=f"{len(found)} long lines", findings=found,
                                 state={"runs": ctx.previous_state.get("runs", 0) + 1})  # fmt: skip


class Crashes:
    id: ClassVar[str] = "crashes"
    name: ClassVar[str] = "Crashes"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        raise ZeroDivisionError("division by zero in a perspective")


class Sleeps:
    id: ClassVar[str] = "sleeps"
    name: ClassVar[str] = "Sleeps"
    seconds: ClassVar[float] = 5.0

    def run(self, ctx: RunContext) -> PerspectiveResult:
        time.sleep(self.seconds)
        return PerspectiveResult(summary="slept")


def spec(*perspectives: Any, interval_s: float = 0.0) -> WorkerSpec:
    info = WorkerInfo(
        name="enginetest",
        title="Engine Test Worker",
        dataset="autocoder-enginetest-results",
        description="records of the engine tests",
        default_interval_s=interval_s,
        space="autocoder-enginetest",
        folder="9_enginetest_worker",
        configs=(RECORDS, FINDINGS),
    )
    return WorkerSpec(
        info=info,
        registry=Registry(perspectives or [LongLines()]),
        new_insights=AnalysisInsights,
        item_rows=finding_rows,
        record_analysis=record_analysis,
    )


def make_worker(target: Path, data: Path, *perspectives: Any, **kwargs: Any) -> Worker:
    s = spec(*perspectives)
    store = LocalStore(data / s.dataset, s.title, s.description, s.configs)
    return Worker(
        s, store, Target(str(target), data / ".cache" / "targets"),
        ResultCache(data / ".cache" / "results.sqlite3"), **kwargs,
    )  # fmt: skip
