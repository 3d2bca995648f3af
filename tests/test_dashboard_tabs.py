"""The "Latest findings" tabs come from the catalog, and the implementation worker is shown whole.

The implementation worker's dataset here is written by the real engine (``Worker`` and
``LocalStore``) under the real ``IMPLEMENTATION`` description, with the worker's own insights
and row builders, and two tiny stages that make patches from the target's real files.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from autocoder.apps.dashboard import views
from autocoder.apps.dashboard.data import DashboardData
from autocoder.apps.dashboard.model import Snapshot
from autocoder.apps.dashboard.page import metric_slots, tables
from autocoder.apps.dashboard.tabs import TableTab, table_tabs
from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, Registry, RunContext
from autocoder.engine.spec import WorkerInfo, WorkerSpec
from autocoder.engine.target import Target
from autocoder.engine.worker import Worker
from autocoder.schema import FINDINGS, RECORDS, DatasetConfig, FindingRow, PatchFields
from autocoder.settings import Settings
from autocoder.store.local import LocalStore
from autocoder.workers.implementation.info import IMPLEMENTATION
from autocoder.workers.implementation.insights import ImplementationInsights
from autocoder.workers.implementation.results import patch_rows, record_analysis

NOW = datetime(2026, 11, 21, 13, 20, tzinfo=UTC)


def test_the_tabs_are_the_catalogs_extra_configs_in_order_with_the_ids_the_page_had() -> None:
    """The tasks config (one row per state of a task) is not a findings tab."""
    tabs = table_tabs()
    assert [(t.config, t.title) for t in tabs] == [
        ("findings", "Analysis findings"), ("specs", "Test specs"), ("patches", "Patches"),
    ]  # fmt: skip
    assert [(t.tab_id, t.elem_id) for t in tabs[:2]] == [
        ("findings-tab", "findings"), ("specs-tab", "specs"),
    ]  # fmt: skip
    assert tabs[0].headers == views.FINDING_HEADERS and tabs[1].headers == views.SPEC_HEADERS
    assert tabs[2].headers == views.PATCH_HEADERS


def _worker_info(name: str, *configs: DatasetConfig, titles: dict[str, str]) -> WorkerInfo:
    return WorkerInfo(name, name.title(), f"autocoder-{name}-results", "", 60.0, name, name,
                      (RECORDS, *configs), table_titles=titles,
                      table_rows={c.name: dict for c in configs})  # fmt: skip


def test_a_config_two_workers_write_is_one_tab_titled_by_the_first_that_names_it() -> None:
    docs = DatasetConfig("docs", "data/docs", FindingRow)
    quiet = _worker_info("quiet", FINDINGS, titles={})
    named = _worker_info("named", FINDINGS, docs, titles={"findings": "All findings"})
    shared, own = TableTab("findings", "All findings"), TableTab("docs", "Docs")
    assert table_tabs([quiet, named]) == (shared, own)
    assert table_tabs([quiet]) == (TableTab("findings", "Findings"),)  # its own name, untitled
    assert table_tabs([_worker_info("bare", titles={})]) == ()  # records only: no tab
    untabled = WorkerInfo("other", "Other", "autocoder-other-results", "", 60.0, "o", "o",
                          (RECORDS, docs))  # fmt: skip
    assert table_tabs([untabled]) == ()  # rows the dashboard cannot show as findings


class DeepUnderstanding:
    """Takes the target's first Python file as the item (the real stage's id and name)."""

    id: ClassVar[str] = "deep_understanding"
    name: ClassVar[str] = "Deep Understanding"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        file = ctx.sources.python[0]
        return PerspectiveResult(summary=f"took {file}", metrics={"items_retired": 0},
                                 details={"item_id": f"item-{file}"})  # fmt: skip


class ImplementationPlan:
    """Two patches of the target's real files: one that passed the static checks, one that
    failed to apply."""

    id: ClassVar[str] = "implementation_plan"
    name: ClassVar[str] = "Implementation Plan"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        first, second = ctx.sources.python[:2]
        patches = [
            self._patch(ctx, first, "checked", ""),
            self._patch(ctx, second, "failed", "apply"),
        ]
        return PerspectiveResult(summary=f"{len(patches)} patches", items=list(patches),
                                 details={"item_id": f"item-{ctx.sources.python[0]}"})  # fmt: skip

    @staticmethod
    def _patch(ctx: RunContext, file: str, status: str, step: str) -> PatchFields:
        old = ctx.sources.lines(file)
        new = [f'"""{file}."""', *old]
        diff = "\n".join(difflib.unified_diff(old, new, f"a/{file}", f"b/{file}", lineterm=""))
        return PatchFields(
            id="patch-" + hashlib.sha256(diff.encode()).hexdigest()[:16], item_id=f"item-{file}",
            fingerprints=[], spec_ids=[], base_commit=ctx.commit, fixer="libcst:module-docstring",
            files=[file], diff=diff, status=status, failed_step=step,
            evidence={"apply": "ok" if not step else "does not apply"},
        )  # fmt: skip


def implementation_data(target: Path, data: Path, iterations: int) -> None:
    """``iterations`` of the engine under the real IMPLEMENTATION description, in ``data``."""
    spec = WorkerSpec(IMPLEMENTATION, Registry([DeepUnderstanding(), ImplementationPlan()]),
                      ImplementationInsights, patch_rows, record_analysis)  # fmt: skip
    store = LocalStore(data / spec.dataset, spec.title, spec.description, spec.configs)
    cache = ResultCache(data / ".cache" / "results.sqlite3")
    checkout = Target(str(target), data / ".cache" / "targets")
    worker = Worker(spec, store, checkout, cache, interval_s=0.0)
    asyncio.run(worker.run(iterations=iterations))
    worker.close()


def _snapshot(data: Path) -> Snapshot:
    return DashboardData.from_settings(Settings(data_dir=data), worker_urls="").refresh()


def test_the_implementation_worker_shows_health_metrics_and_its_patches_in_their_own_tab(
    shop_repo: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    implementation_data(shop_repo, data, iterations=2)
    snapshot = _snapshot(data)
    view = next(w for w in snapshot.workers if w.name == "implementation")
    assert (view.status, view.iterations) == ("online", 2)
    assert view.current_perspective == "Implementation Plan"
    counts = snapshot.summary()["implementation"]
    assert counts["items_taken"] == counts["items_finished"] == 1
    labels = ("patches_total", "patches_checked", "patches_failed", "patches_verified")
    assert [counts[key] for key in labels] == [2, 1, 1, 0]
    boxes = views.metrics_markdown(snapshot, metric_slots())
    assert boxes[-1].startswith("**Implementation (cumulative)**")  # its own box, not shared
    assert "| patches total | 2 |" in boxes[-1]

    patches = snapshot.rows_of("patches")
    assert sorted(r["severity"] for r in patches) == ["high", "low"]  # failed, checked
    assert snapshot.latest_specs == [] and snapshot.latest_findings == []  # not under specs
    cells = tables(snapshot, ("All", "All", "All"), (), NOW)
    assert [len(cells[i]) for i in (0, 2, 4)] == [0, 0, 2]  # findings, specs, patches
    failed = next(row for row in cells[4] if row[3] == "high")
    assert failed[2] == "Implementation Plan" and failed[5] == "libcst:module-docstring"
    assert failed[6].endswith("failed at apply") and ":" not in failed[4]  # a file, no line 0
    assert cells[5] == "rows 1-2 of 2 · page 1 of 1"


def test_without_an_implementation_dataset_its_row_is_not_deployed_and_its_tab_empty(
    tmp_path: Path,
) -> None:
    snapshot = _snapshot(tmp_path / "data")
    view = next(w for w in snapshot.workers if w.name == "implementation")
    assert view.status == "not deployed" and snapshot.counts("implementation") == {}
    assert tables(snapshot, ("All", "All", "All"), (), NOW)[4:] == ([], "no rows")


def test_a_page_number_applies_to_its_own_tab_only() -> None:
    row: dict[str, Any] = {
        "timestamp": "2026-11-21T13:15:00+00:00", "worker": "implementation",
        "perspective": "Implementation Plan", "severity": "low", "file": "a.py", "line": 0,
        "rule": "ruff", "message": "patch-1 checked", "commit": "c0ffee", "config": "patches",
    }  # fmt: skip
    findings = [{**row, "worker": "analysis", "config": "findings", "line": n} for n in range(30)]
    snapshot = Snapshot("Degraded", "", 0, 3, None, [], [], [], [], [], findings, None,
                        latest={"findings": findings, "patches": [row] * 25})  # fmt: skip
    cells = tables(snapshot, ("All", "All", "All"), (2, 1, 2), NOW)
    assert cells[1] == "rows 21-30 of 30 · page 2 of 2" and cells[3] == "no rows"
    assert cells[5] == "rows 21-25 of 25 · page 2 of 2"
    assert tables(snapshot, ("analysis", "All", "All"), (1, 1, 1), NOW)[4:] == ([], "no rows")
