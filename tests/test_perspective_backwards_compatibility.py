"""Backwards Compatibility: a griffe snapshot of the public API kept in the perspective's state;
removed and changed signatures since then become tests that pin the old contract."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.backwards_compatibility import (
    BackwardsCompatibility,
)
from autocoder.workers.test_planning.verify import collect_generated_tests, run_generated_tests

SHOP = Path(__file__).parent / "fixtures" / "shop"


def _run(
    root: Path,
    tmp_path: Path,
    previous: dict[str, Any],
    commit: str | None = None,
    **options: object,
) -> PerspectiveResult:
    ctx = RunContext(
        root=root, commit=commit, sources=SourceFiles.discover(root), previous_state=previous,
        cache=ResultCache(tmp_path / "cache.sqlite3"), options=RunOptions(**options),  # type: ignore[arg-type]
    )  # fmt: skip
    return BackwardsCompatibility().run(ctx)


def _specs(result: PerspectiveResult) -> list[TestSpec]:
    return [s for s in result.items if isinstance(s, TestSpec)]


def _edit(path: Path, *pairs: tuple[str, str]) -> None:
    text = path.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)


def _break_the_shop(root: Path) -> None:
    _edit(
        root / "shop" / "pricing.py",
        ("coupon: str | None = None", "*, coupon: str | None = 'HALF'"),
    )
    _edit(
        root / "shop" / "orders.py",
        ("def merge_orders(orders, returns)", "def merge_orders(orders, refunds)"),
        ("for ret in returns", "for ret in refunds"),
        ("def total(order_id)", "def total(order_id, currency)"),
    )
    _edit(root / "shop" / "reports.py", ("def monthly_report(rows)", "def _monthly_report(rows)"))


@pytest.fixture(scope="module")
def broken(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, PerspectiveResult, PerspectiveResult]:
    """The shop snapshotted, then broken in four places and planned again, its tests run."""
    tmp = tmp_path_factory.mktemp("broken")
    shutil.copytree(SHOP, tmp / "shop")
    first = _run(tmp / "shop", tmp, {}, "c1")
    _break_the_shop(tmp / "shop")
    return tmp / "shop", first, _run(tmp / "shop", tmp, first.state, "c2", run_target_tests=True)


def test_first_run_saves_a_snapshot_and_reports_no_breakage(
    broken: tuple[Path, PerspectiveResult, PerspectiveResult],
) -> None:
    _root, first, _second = broken
    assert _specs(first) == []
    assert first.summary.startswith(
        "First run: no earlier API snapshot to compare with, so no compatibility specs; saved a snapshot of 18 public objects in 6 modules at commit c1"
    )
    api = first.state["api"]
    assert api["shop.pricing:compute_price"] == "(qty, unit, coupon=None)"
    assert (
        api["shop.orders:merge_orders"] == "(orders, returns)"
        and api["shop.settings:DEBUG"] == "attribute"
    )
    assert "shop.reports:_private_helper" not in api and first.state["commit"] == "c1"


def test_removed_and_changed_signatures_pin_the_old_contract_and_fail_today(
    broken: tuple[Path, PerspectiveResult, PerspectiveResult],
) -> None:
    _root, _first, second = broken
    got = {
        (s.subject, s.test_code.split("def test_")[1].split("(")[0]): (s.line, s.status)
        for s in _specs(second)
    }
    assert got == {
        ("shop.pricing:compute_price", "compute_price_keeps_the_kind_of_coupon"): (6, "failed"),
        ("shop.pricing:compute_price", "compute_price_keeps_the_default_of_coupon"): (6, "failed"),
        ("shop.orders:merge_orders", "merge_orders_keeps_parameter_returns"): (53, "failed"),
        ("shop.orders:merge_orders", "merge_orders_needs_no_new_argument_refunds"): (53, "failed"),
        ("shop.orders:total", "total_needs_no_new_argument_currency"): (64, "failed"),
        ("shop.reports:monthly_report", "monthly_report_is_still_available"): (1, "failed"),
    }
    kind = next(s for s in _specs(second) if "kind_of_coupon" in s.test_code)
    assert (
        "assert parameters['coupon'].kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,)"
        in kind.test_code
    )
    assert (
        kind.rationale
        == "coupon became keyword since commit c1: callers written against compute_price(qty, unit, coupon=None) break."
    )
    assert "importlib.import_module('shop.reports')" in next(
        s.test_code for s in _specs(second) if s.subject == "shop.reports:monthly_report"
    )
    assert second.metrics["removed"] == 1 and second.state["baseline_commit"] == "c1"
    assert second.state["baseline"]["shop.orders:total"] == "(order_id)"


def test_the_compatibility_tests_collect_and_pass_on_the_old_code(
    broken: tuple[Path, PerspectiveResult, PerspectiveResult], tmp_path: Path
) -> None:
    root, _first, second = broken
    collection = collect_generated_tests(root, _specs(second))
    assert collection.items == len(_specs(second)) == 6, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
    shutil.copytree(SHOP, tmp_path / "old")
    assert {s.status for s in run_generated_tests(tmp_path / "old", _specs(second), 120)} == {
        "passed"
    }


def test_breaks_are_reported_until_the_commit_moves_on(
    broken: tuple[Path, PerspectiveResult, PerspectiveResult], tmp_path: Path
) -> None:
    root, _first, second = broken
    again = _run(root, tmp_path, second.state, "c2")
    assert {s.id for s in _specs(again)} == {s.id for s in _specs(second)}
    assert again.summary.startswith("6 breaking changes since commit c1")
    moved = _run(root, tmp_path, again.state, "c3")
    assert (
        _specs(moved) == []
        and moved.summary == "No breaking change to the 17 public objects since commit c2."
    )


def test_methods_constructors_and_removed_classes_of_the_ledger(
    ledger_dir: Path, tmp_path: Path
) -> None:
    first = _run(ledger_dir, tmp_path, {})
    assert first.state["api"]["ledger.core:Account.withdraw"] == "(self, amount)"
    assert first.state["api"]["ledger.core:Account.__init__"] == "(self, owner, balance=0)"
    core = ledger_dir / "ledger" / "core.py"
    _edit(
        core,
        ("balance: int = 0) -> None", "balance: int = 100) -> None"),
        ("def withdraw(self, amount: int)", "def withdraw(self, amount: int, note: str)"),
    )
    _edit(
        core,
        ("class InsufficientFunds(Exception):\n    pass\n", ""),
        ("raise InsufficientFunds(self.owner)", "raise ValueError(self.owner)"),
    )
    specs = _specs(_run(ledger_dir, tmp_path, first.state))
    assert {(s.subject, s.line) for s in specs} == {
        ("ledger.core:Account.__init__", 9),
        ("ledger.core:Account.withdraw", 13),
        ("ledger.core:InsufficientFunds", 1),
    }
    default = next(s for s in specs if s.subject == "ledger.core:Account.__init__")
    assert (
        "parameters = inspect.signature(Account.__init__).parameters\n    assert parameters['balance'].default == 0"
        in default.test_code
    )
    collection = collect_generated_tests(ledger_dir, specs)
    assert collection.items == 3, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    first = _run(shop_dir, tmp_path, {})
    _break_the_shop(shop_dir)
    before = {s.id for s in _specs(_run(shop_dir, tmp_path, first.state))}
    orders = shop_dir / "shop" / "orders.py"
    orders.write_text("# moved\n\n" + orders.read_text())
    after = _specs(_run(shop_dir, tmp_path, first.state))
    assert {s.id for s in after} == before and len(before) == 6
    assert next(s for s in after if s.subject == "shop.orders:total").line == 66


def test_target_without_python_files_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "README.md").write_text("nothing here\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(tmp_path / "t", tmp_path, {})
