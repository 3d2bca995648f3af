"""Test Coverage Strategy: untested subjects ranked by risk, with starter tests in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import PerspectiveResult
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.coverage_strategy import TestCoverageStrategy
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import context, ids_before_and_after_two_lines_are_added, write_target

CALC = {
    "calc/__init__.py": "",
    "calc/ops.py": """from pathlib import Path


def scale(value: float, *, factor: int = 2, label: str | None = None) -> float:
    return value * factor


def first_word(text: str) -> str:
    return text.split()[1]


async def double(n: int) -> int:
    return n * 2


class Meter:
    def __init__(self, unit: str) -> None:
        self.unit = unit

    def show(self, value: int) -> str:
        return f"{value} {self.unit}"

    @classmethod
    def metric(cls, unit: str = "m") -> "Meter":
        return cls(unit)


def where(root: Path) -> Path:
    return root / "x"


def spin() -> None:
    while True:
        pass
""",
}


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], PerspectiveResult]:
    ctx = context(root, tmp_path, **options)
    result = TestCoverageStrategy().run(ctx)
    return [s for s in result.items if isinstance(s, TestSpec)], result


def test_untested_subjects_and_modules_are_ranked_by_risk(shop_dir: Path, tmp_path: Path) -> None:
    specs, result = _run(shop_dir, tmp_path)
    order = result.details["write_order"]
    assert order[0] == {
        "rank": 1,
        "subject": "shop.orders:classify",
        "risk": 9,
        "file": "shop/orders.py",
        "line": 17,
    }
    assert [o["subject"] for o in order[1:3]] == [
        "shop.orders:fetch_rates",
        "shop.orders:merge_orders",
    ]
    assert "shop.pricing:compute_price" not in {o["subject"] for o in order}  # named by a test
    modules = result.details["untested_modules"]
    assert modules[0] == {
        "module": "shop.orders",
        "file": "shop/orders.py",
        "untested_subjects": 6,
        "max_risk": 9,
    }
    assert {m["module"] for m in modules} == {
        "shop",
        "shop.orders",
        "shop.reports",
        "shop.settings",
        "shop.storage",
    }
    assert (result.metrics["untested_subjects"], len(specs)) == (13, 13)
    assert specs[0].subject == "shop.orders:classify" and specs[0].priority == 1
    assert result.summary.startswith(
        "13 of 14 public subjects are named by no test, and 5 of 6 modules"
    )


def test_starters_call_safe_subjects_and_pin_the_others(shop_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(shop_dir, tmp_path, run_target_tests=True, tool_timeout_s=120)
    by_subject = {s.subject: s for s in specs}
    assert "data_dir()" in by_subject["shop.orders:data_dir"].test_code
    assert "not called: reaches open" in by_subject["shop.storage:save"].rationale
    assert "not called: reaches subprocess.call" in by_subject["shop.storage:backup"].rationale
    assert (
        "through the functions it calls" in by_subject["shop.orders:total"].rationale
    )  # via load_order
    assert (
        "assert list(inspect.signature(save).parameters) == ['path', 'data']"
        in by_subject["shop.storage:save"].test_code
    )
    assert by_subject["shop.storage:save"].inputs == "path: str, data: str"
    assert {s.status for s in specs} == {"passed"}
    collection = collect_generated_tests(shop_dir, specs)
    assert collection.items == len(specs), collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_values_come_from_type_hints_and_a_failing_starter_is_kept(tmp_path: Path) -> None:
    root = write_target(tmp_path, CALC)
    specs, result = _run(root, tmp_path, run_target_tests=True, tool_timeout_s=120)
    code = {s.subject.split(":")[1]: s.test_code for s in specs}
    status = {s.subject.split(":")[1]: s.status for s in specs}
    assert "result = scale(1.0)\n    assert isinstance(result, (int, float,))" in code["scale"]
    assert "result = asyncio.run(double(1))" in code["double"]
    assert "result = Meter('unit').show(1)" in code["Meter.show"]
    assert "result = Meter.metric()" in code["Meter.metric"]
    assert "inspect.signature(where)" in code["where"] and "inspect.signature(spin)" in code["spin"]
    assert "loops forever" in next(s.rationale for s in specs if s.subject.endswith(":spin"))
    assert status == {
        "scale": "passed",
        "double": "passed",
        "Meter": "passed",
        "Meter.show": "passed",
        "Meter.metric": "passed",
        "where": "passed",
        "spin": "passed",
        "first_word": "failed",
    }  # 'text'.split()[1] raises IndexError: kept as a finding
    assert (result.metrics["starters_calling"], result.metrics["starters_pinning"]) == (6, 2)


def test_cli_parser_is_checked_by_its_return_type(ledger_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(ledger_dir, tmp_path)
    by_subject = {s.subject: s for s in specs}
    parser = by_subject["ledger.cli:build_parser"].test_code
    assert (
        "import argparse" in parser
        and "assert isinstance(result, (argparse.ArgumentParser,))" in parser
    )
    assert "parse_args" in by_subject["ledger.cli:main"].rationale  # would read pytest's argv
    assert (
        "decorated with app.get('/accounts/{owner}')"
        in by_subject["ledger.core:show_account"].rationale
    )
    assert "ledger.core:Account.withdraw" not in by_subject  # test_core.py names it


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before, after = ids_before_and_after_two_lines_are_added(
        _run, shop_dir, tmp_path, "shop/orders.py"
    )
    assert {s.subject: s.id for s in after} == before
    assert next(s for s in after if s.subject == "shop.orders:classify").line == 19


def test_everything_tested_means_no_starter(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"m/__init__.py": "", "m/a.py": "def one() -> int:\n    return 1\n",
                              "tests/test_a.py": "from m.a import one\n\n\ndef test_one():\n    assert one() == 1\n"})  # fmt: skip
    specs, result = _run(root, tmp_path)
    assert specs == []
    assert result.summary.startswith("Every one of the 1 public subjects is named by a test")


def test_target_without_python_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(write_target(tmp_path, {"README.md": "docs"}), tmp_path)
