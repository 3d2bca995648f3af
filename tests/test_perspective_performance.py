"""Performance Analysis on the 'shop' fixture: the AST scanner and real ruff runs, no mocks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import Finding
from autocoder.workers.analysis.perspectives.performance import PerformanceAnalysis

SAFE = '''"""Idioms that look like the quadratic ones but are not."""
import asyncio
import time


def area(grid):
    total = 0
    for row in grid:
        for cell in row.cells:
            total += cell.width * cell.height
    return total


def dedupe(items):
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def drain(queue: list[int]) -> None:
    while queue:
        queue.pop()


def cells(table, groups, classes, handlers, code):
    for row in table:
        for cell in row:
            yield cell
    for key in groups:
        for member in groups[key]:
            yield member
    for cls in classes:
        bases = cls.__mro__
        for base in bases:
            for name in vars(base):
                yield name
    for c in (code, None):
        for handler in handlers:
            if handler.code == c:
                yield handler


def grid(width, height):
    for x in range(width):
        for y in range(height):
            yield (x, y)


def fixed_lists(words):
    order = ["low", "medium", "high"]
    for word in words:
        if word in order:
            print(order.index(word))


async def poll():
    await asyncio.sleep(1)

    def in_a_thread():
        time.sleep(1)

    return await asyncio.to_thread(in_a_thread)
'''


def analyse(root: Path, cache: Path) -> PerspectiveResult:
    ctx = RunContext(
        root=root, commit=None, sources=SourceFiles.discover(root), cache=ResultCache(cache)
    )
    return PerformanceAnalysis().run(ctx)


def where(result: PerspectiveResult, file: str) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in result.findings if f.file == file]


def only(result: PerspectiveResult, rule: str) -> Finding:
    [found] = [f for f in result.findings if f.rule == rule]
    return found


def test_performance_flags_blocking_calls_in_async_fetch_rates(
    shop_dir: Path, tmp_path: Path
) -> None:
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    blocking = [f for f in result.findings if f.rule == "blocking-call-in-async"]
    assert [(f.file, f.line) for f in blocking] == [("shop/orders.py", 48), ("shop/orders.py", 49)]
    assert all(f.severity == "high" and "async fetch_rates" in f.message for f in blocking)
    assert "time.sleep()" in blocking[0].message and "asyncio.sleep" in blocking[0].message
    assert "requests.get()" in blocking[1].message
    # ruff's ASYNC251/ASYNC210 say the same on the same lines: reported once, not twice
    assert not [f for f in result.findings if f.rule.startswith("ASYNC")]


def test_performance_flags_quadratic_idioms_in_merge_orders(shop_dir: Path, tmp_path: Path) -> None:
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    hits = [(f.rule, f.line) for f in result.findings if "merge_orders" in f.message]
    assert hits == [
        ("nested-loop-join", 55),  # for order in orders: for ret in returns: if ret.id == order.id
        ("list-membership-in-loop", 56),  # order not in merged, merged grows in the loop
        ("list-concat-in-loop", 57),  # merged = merged + [order]
        ("list-linear-op-in-loop", 60),  # merged.remove(order)
    ]
    assert only(result, "nested-loop-join").severity == "medium"
    assert only(result, "list-membership-in-loop").severity == "medium"
    assert only(result, "list-concat-in-loop").severity == "medium"
    assert result.metrics["hot_functions"][0] == {
        "function": "shop/orders.py:merge_orders", "findings": 4,
    }  # fmt: skip


def test_performance_names_the_function_of_ruff_perf_findings(
    shop_dir: Path, tmp_path: Path
) -> None:
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    perf = only(result, "PERF401")  # lines.append in a for loop
    assert (perf.file, perf.line, perf.tool) == ("shop/reports.py", 7, "ruff")
    assert "(in monthly_report)" in perf.message
    assert where(result, "shop/pricing.py") == []
    assert [(f.rule, f.line) for f in result.findings if "classify" in f.message] == []
    assert set(result.tools) == {"autocoder-ast", "ruff"}
    assert result.metrics["async_functions"] == 1
    assert result.metrics["findings"] == len(result.findings) == 7
    assert "merge_orders (4)" in result.summary


def test_performance_keeps_linear_idioms_quiet(shop_dir: Path, tmp_path: Path) -> None:
    (shop_dir / "shop" / "safe.py").write_text(SAFE)
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    assert where(result, "shop/safe.py") == []


def test_performance_fingerprints_survive_lines_inserted_above(
    shop_dir: Path, tmp_path: Path
) -> None:
    before = analyse(shop_dir, tmp_path / "before.sqlite3")
    orders = shop_dir / "shop" / "orders.py"
    orders.write_text("# a new header comment\n\n\n" + orders.read_text())
    after = analyse(shop_dir, tmp_path / "after.sqlite3")
    old = {f.fingerprint: f.line for f in before.findings if f.file == "shop/orders.py"}
    new = {f.fingerprint: f.line for f in after.findings if f.file == "shop/orders.py"}
    assert len(old) == 6
    assert new == {fingerprint: line + 3 for fingerprint, line in old.items()}


def test_performance_warm_run_starts_no_subprocess(
    shop_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache.sqlite3"
    cold = analyse(shop_repo, cache)
    sources = SourceFiles.discover(shop_repo)  # git ls-files runs before the trap is set

    def trap(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a warm run started a subprocess: {args}")

    monkeypatch.setattr(subprocess, "run", trap)
    ctx = RunContext(root=shop_repo, commit=None, sources=sources, cache=ResultCache(cache))
    warm = PerformanceAnalysis().run(ctx)
    assert warm.findings == cold.findings
    assert warm.metrics == cold.metrics


def test_performance_reports_unparseable_file_and_goes_on(shop_dir: Path, tmp_path: Path) -> None:
    (shop_dir / "shop" / "broken.py").write_text("async def broken(:\n    time.sleep(1)\n")
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    assert result.metrics["unparsed_files"] == ["shop/broken.py"]
    assert where(result, "shop/broken.py") == []
    assert len([f for f in result.findings if f.rule == "blocking-call-in-async"]) == 2
    assert "1 files do not parse" in result.summary


def test_performance_skips_a_target_without_python(tmp_path: Path) -> None:
    root = tmp_path / "docs-only"
    root.mkdir()
    (root / "README.md").write_text("# nothing to scan\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        analyse(root, tmp_path / "cache.sqlite3")


QUADRATIC = '''"""Quadratic loops that the scanner must see."""


def strip_tags(text):
    words = text.split()
    for word in list(words):
        if word.startswith("#"):
            words.remove(word)
    return words


def shift(line):
    parts = line.split(",")
    while parts:
        print(parts.pop(0))


def known_loop(fields, wanted):
    names = [f.name for f in fields]
    for w in wanted:
        if w in names:
            print(w)


def duplicates(values):
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] == values[j]:
                return True
    return False


def voxels(xs, ys, zs):
    for x in xs:
        for y in ys:
            for z in zs:
                print(x, y, z)
'''


def test_performance_flags_quadratic_list_ops_on_split_results_and_joins(
    shop_dir: Path, tmp_path: Path
) -> None:
    (shop_dir / "shop" / "quadratic.py").write_text(QUADRATIC)
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    found = {(f.rule, f.line, f.severity) for f in result.findings if f.file == "shop/quadratic.py"}
    assert found == {
        ("list-linear-op-in-loop", 8, "medium"),  # words.remove(...) over text.split()
        ("list-linear-op-in-loop", 15, "medium"),  # parts.pop(0) on line.split(",")
        ("list-membership-in-loop", 21, "low"),  # `in names`, a comprehension's list, per item
        ("nested-loop-join", 26, "medium"),  # values[i] == values[j] for every pair
        ("nested-loop", 34, "low"),  # three independent levels
    }
