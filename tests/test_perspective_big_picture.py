"""Big Picture Review: a synthesis read from a real test planning dataset built by the engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import Registry, RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.engine.spec import WorkerSpec
from autocoder.engine.target import Target
from autocoder.engine.worker import Worker
from autocoder.schema import RECORDS, SPECS, Record, TestSpec
from autocoder.store.local import LocalStore
from autocoder.store.reader import rows_of_iteration
from autocoder.workers.test_planning.info import TEST_PLANNING
from autocoder.workers.test_planning.insights import TestPlanningInsights
from autocoder.workers.test_planning.perspectives.big_picture import BigPictureReview
from autocoder.workers.test_planning.perspectives.edge_cases import EdgeCaseDiscovery
from autocoder.workers.test_planning.perspectives.failure_modes import FailureModeAnalysis
from autocoder.workers.test_planning.perspectives.performance_impact import PerformanceImpact
from autocoder.workers.test_planning.results import record_analysis, spec_rows
from autocoder.workers.test_planning.verify import collect_generated_tests


def _worker(target: Path, data: Path, *perspectives: Any, **options: Any) -> Worker:
    info = replace(TEST_PLANNING, description="records of the big picture tests",
                   default_interval_s=0.0)  # fmt: skip
    spec = WorkerSpec(
        info=info, registry=Registry(perspectives), new_insights=TestPlanningInsights,
        item_rows=spec_rows, record_analysis=record_analysis,
    )  # fmt: skip
    store = LocalStore(data / spec.dataset, spec.title, spec.description, spec.configs)
    return Worker(spec, store, Target(str(target), data / ".cache" / "targets"),
                  ResultCache(data / ".cache" / "results.sqlite3"), options=RunOptions(**options))  # fmt: skip


async def _round(worker: Worker) -> Record:
    """One iteration per perspective; the last is the Big Picture Review."""
    for _ in range(len(worker.spec.registry)):
        record = await worker.run_iteration()
        assert record.status == "ok", record.error
    return record


def _specs(worker: Worker, record: Record) -> list[dict[str, Any]]:
    return rows_of_iteration(worker.store.reader, SPECS, record.iteration)


def test_no_dataset_yet_means_nothing_to_review(shop_dir: Path, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "empty", "t", "d", (RECORDS, SPECS))
    for reader in (None, store.reader):
        ctx = RunContext(root=shop_dir, commit=None, sources=SourceFiles.discover(shop_dir),
                         cache=ResultCache(tmp_path / "c.sqlite3"), reader=reader,
                         previous_state={"counts": {"x": 1}})  # fmt: skip
        result = BigPictureReview().run(ctx)
        assert result.items == [] and result.summary.startswith("No dataset yet")
        assert result.state == {"counts": {"x": 1}}  # the last real review stays the baseline


async def test_review_ranks_risks_and_picks_five_tests_to_write_first(
    shop_dir: Path, tmp_path: Path
) -> None:
    worker = _worker(shop_dir, tmp_path / "data", FailureModeAnalysis(), PerformanceImpact(),
                     EdgeCaseDiscovery(), BigPictureReview())  # fmt: skip
    record = await _round(worker)
    details = record.analysis["details"]
    assert details["reviewed"] == {
        "Edge Case Discovery": 3,
        "Failure Mode Analysis": 1,
        "Performance Impact": 2,
    }
    risk = details["top_risks"][0]
    assert (risk["subject"], risk["priority"], risk["evidence"]) == (
        "shop.orders:classify",
        1,
        "shop/orders.py:18",
    )
    assert risk["perspectives"] == ["Failure Mode Analysis"]
    assert details["write_first"][0].startswith("shop.orders:classify (")
    assert (
        details["write_first"][1]
        == "shop.orders:merge_orders (performance, from Performance Impact)"
    )
    first = _specs(worker, record)
    assert len(first) == 5 and len({r["subject"] for r in first}) == 5
    assert all(r["perspective"] == "Big Picture Review" for r in first)
    merge = next(r for r in first if r["subject"] == "shop.orders:merge_orders")
    assert merge["kind"] == "performance" and merge["line"] == 56
    assert merge["rationale"].startswith("Write first #2: from Performance Impact (spec ")
    assert details["trend"] == {"first_review": True}
    assert record.analysis["summary"].startswith("Reviewed 3 perspectives: ")
    assert (
        "Write first: shop.orders:classify, shop.orders:merge_orders" in record.analysis["summary"]
    )
    assert (await worker.run_iteration()).perspective_name == "Failure Mode Analysis"  # goes on


async def test_trend_counts_retired_specs_and_drops_vanished_subjects(
    shop_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = await _round(
        _worker(shop_dir, data, FailureModeAnalysis(), EdgeCaseDiscovery(), BigPictureReview())
    )
    assert first.analysis["metrics"]["specs_reviewed"] == 11  # 9 failure modes + 2 edge cases
    (shop_dir / "shop" / "pricing.py").write_text("")  # compute_price disappears
    review = await _worker(shop_dir, data, BigPictureReview()).run_iteration()
    assert review.status == "ok", review.error
    assert review.analysis["metrics"]["specs_reviewed"] == 8
    trend = review.analysis["details"]["trend"]
    assert trend == {
        "first_review": False, "new_specs": 0, "retired_specs": 3, "failing_before": 0,
        "by_perspective": {"Edge Case Discovery": {"before": 2, "now": 0},
                           "Failure Mode Analysis": {"before": 9, "now": 8}},
    }  # fmt: skip
    assert "Since the previous review: 0 new and 3 retired specs" in review.analysis["summary"]


async def test_a_failing_test_is_a_top_risk_and_written_first(
    shop_dir: Path, tmp_path: Path
) -> None:
    worker = _worker(shop_dir, tmp_path / "data", PerformanceImpact(), BigPictureReview(),
                     run_target_tests=True, tool_timeout_s=120)  # fmt: skip
    record = await _round(worker)
    risk = record.analysis["details"]["top_risks"][0]
    assert (risk["subject"], risk["failing"]) == ("shop.orders:merge_orders", 1)
    rows = _specs(worker, record)
    merge = next(r for r in rows if r["subject"] == "shop.orders:merge_orders")
    assert merge["rationale"].startswith("Write first #1: from Performance Impact")
    assert "its test fails today (possible bug)" in merge["rationale"]
    assert {r["subject"]: r["status"] for r in rows} == {"shop.orders:merge_orders": "failed"}
    insights = record.cumulative_insights
    assert (insights["specs_passing"], insights["specs_failing"], insights["specs_blocked"]) == (
        0,
        2,
        0,
    )  # the failing test and its copy in the review
    specs = [TestSpec.model_validate({k: r[k] for k in TestSpec.model_fields}) for r in rows]
    collection = collect_generated_tests(shop_dir, specs)
    assert collection.items == 1, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
