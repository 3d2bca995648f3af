"""Performance Impact: subjects whose cost grows with their input, with benchmark-style tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import PerspectiveResult
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.performance_impact import PerformanceImpact
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import context, ids_before_and_after_two_lines_are_added, write_target

STATS = {
    "stats/__init__.py": "",
    "stats/tally.py": """import urllib.request


def unique(names: list[str]) -> list[str]:
    seen = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def bucket(values: list[int], limit: int = 10) -> dict:
    out = {"neg": 0, "zero": 0, "small": 0, "big": 0, "odd": 0}
    for v in values:
        if v < 0:
            out["neg"] += 1
        elif v == 0:
            out["zero"] += 1
        elif v < limit:
            out["small"] += 1
        else:
            out["big"] += 1
        if v % 2 and v > 0 and v != limit:
            out["odd"] += 1
        if v > 1000 or v < -1000:
            out["big"] += 0
        elif v == limit:
            out["small"] += 0
    return out


class Pairs:
    def __init__(self, scale: int = 1) -> None:
        self.scale = scale

    def total(self, items: list[int]) -> int:
        result = 0
        for a in items:
            for b in items:
                result += a * b * self.scale
        return result


def fetch_all(urls: list[str]) -> list[bytes]:
    return [urllib.request.urlopen(url).read() for url in urls]
""",
}


LINEAR = """def total(rows: list[list[int]]) -> int:
    out = 0
    for row in rows:
        for cell in row:
            out += cell
    return out


def widths(rows: list[str]) -> dict[str, int]:
    return {row: len(row) for row in rows if row}
"""


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], PerspectiveResult]:
    ctx = context(root, tmp_path, **options)
    result = PerformanceImpact().run(ctx)
    return [s for s in result.items if isinstance(s, TestSpec)], result


def test_merge_orders_is_quadratic_and_its_benchmark_fails_today(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, result = _run(shop_dir, tmp_path, run_target_tests=True, tool_timeout_s=120)
    merge = next(s for s in specs if s.subject == "shop.orders:merge_orders")
    assert (merge.kind, merge.file, merge.line, merge.priority) == (
        "performance",
        "shop/orders.py",
        56,
        1,
    )
    for evidence in (
        "`order not in merged` scans a list (line 56)",
        "`merged = merged + [order]`",
        "loop over `returns` inside a loop (line 58)",
        "`merged.remove(order)`",
    ):
        assert evidence in merge.rationale
    assert "[{'id': i} for i in range(n)]" in merge.test_code and "perf_counter" in merge.test_code
    assert merge.status == "failed"  # 8x the orders costs ~64x the time: kept as a finding
    # classify (complexity 17, no input to scale): no test; one pinning its parameters passed
    # on quadratic code too. It stays in the details for a hand-written benchmark.
    assert {s.subject for s in specs} == {"shop.orders:merge_orders"}
    assert "shop.orders:classify" in {d["subject"] for d in result.details["subjects"]}
    assert result.metrics["by_rule"] == {
        "list-membership": 1,
        "list-concat": 1,
        "nested-loop": 1,
        "list-shift": 1,
    }
    assert result.summary.startswith("2 of 14 public functions and methods have a cost that grows")


def test_linear_code_passes_its_benchmark_and_quadratic_code_fails(tmp_path: Path) -> None:
    root = write_target(tmp_path, STATS)
    specs, result = _run(root, tmp_path, run_target_tests=True, tool_timeout_s=120)
    by_subject = {s.subject: s for s in specs}
    assert set(by_subject) == {
        "stats.tally:unique",
        "stats.tally:bucket",
        "stats.tally:Pairs.total",
    }  # fetch_all reaches the network: no benchmark, and no test pinning its parameters
    assert by_subject["stats.tally:unique"].status == "failed"  # `name not in seen` on a list
    assert by_subject["stats.tally:Pairs.total"].status == "failed"  # nested loop over items
    assert "Pairs(scale=1).total" not in by_subject["stats.tally:Pairs.total"].test_code
    assert "Pairs().total" in by_subject["stats.tally:Pairs.total"].test_code
    assert by_subject["stats.tally:bucket"].status == "passed"  # complex, but linear
    assert "complexity" in by_subject["stats.tally:bucket"].rationale
    assert result.metrics["benchmarks"] == 3 and result.metrics["hand_written"] == 1


def test_generated_benchmarks_collect(shop_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(shop_dir, tmp_path)
    collection = collect_generated_tests(shop_dir, specs)
    assert collection.items == len(specs) == 1, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
    assert {s.status for s in specs} == {"not_run"}


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before, after = ids_before_and_after_two_lines_are_added(
        _run, shop_dir, tmp_path, "shop/orders.py"
    )
    assert {s.subject: s.id for s in after} == before
    assert next(s for s in after if s.subject == "shop.orders:merge_orders").line == 58


def test_linear_loops_leave_nothing_to_say(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"grid/__init__.py": "", "grid/sums.py": LINEAR})
    specs, result = _run(root, tmp_path)
    assert specs == []  # the inner loop walks what the outer one yields: linear in the cells
    assert result.summary == (
        "None of 2 public functions and methods loops in a way that grows faster than its "
        "input: no benchmark to write."
    )


def test_target_without_python_is_skipped(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"README.md": "no code"})
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(root, tmp_path)
