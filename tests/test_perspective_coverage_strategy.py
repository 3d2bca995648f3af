"""Test Coverage Strategy: untested subjects ranked by risk, with the inputs each test must choose
and what makes it hard to call; no starter tests (one that only calls, or checks the result's
type, passes on broken code too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import PerspectiveResult
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.coverage_strategy import TestCoverageStrategy

from perspectivekit import context, write_target

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
        "inputs": ["order", "customer", "region", "season"],
        "hard_to_call": "indexes order: choose inputs that hold what it looks up",
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
    assert (result.metrics["untested_subjects"], specs) == (13, [])
    assert result.summary.startswith(
        "13 of 14 public subjects are named by no test, and 5 of 6 modules"
    )


def _hard(result: PerspectiveResult) -> dict[str, str]:
    return {o["subject"].split(":")[1]: o["hard_to_call"] for o in result.details["write_order"]}


def test_the_write_order_says_what_makes_a_subject_hard_to_call(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, result = _run(shop_dir, tmp_path)
    hard = _hard(result)
    assert hard["data_dir"] == ""  # plain values will do
    assert hard["save"].startswith("reaches open") and "subprocess.call" in hard["backup"]
    assert "through the functions it calls" in hard["total"]  # via load_order
    save = next(o for o in result.details["write_order"] if o["subject"] == "shop.storage:save")
    assert save["inputs"] == ["path", "data"] and specs == []


def test_no_starter_is_written_for_subjects_a_test_could_call(tmp_path: Path) -> None:
    root = write_target(tmp_path, CALC)
    specs, result = _run(root, tmp_path)
    hard = _hard(result)
    assert specs == [] and "starters_calling" not in result.metrics
    assert {hard[n] for n in ("scale", "double", "Meter", "Meter.show", "Meter.metric")} == {""}
    assert hard["spin"] == "loops forever (while True)"
    assert hard["where"] == "needs inputs its type hints and literal defaults do not give"


def test_hard_to_call_names_argv_parsing_and_decorators(ledger_dir: Path, tmp_path: Path) -> None:
    _specs, result = _run(ledger_dir, tmp_path)
    hard = _hard(result)
    assert "parse_args" in hard["main"]  # would read pytest's argv
    assert hard["show_account"] == "decorated with app.get('/accounts/{owner}')"
    assert "Account.withdraw" not in hard  # test_core.py names it


def test_everything_tested_means_no_starter(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"m/__init__.py": "", "m/a.py": "def one() -> int:\n    return 1\n",
                              "tests/test_a.py": "from m.a import one\n\n\ndef test_one():\n    assert one() == 1\n"})  # fmt: skip
    specs, result = _run(root, tmp_path)
    assert specs == []
    assert result.summary.startswith("Every one of the 1 public subjects is named by a test")


def test_target_without_python_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(write_target(tmp_path, {"README.md": "docs"}), tmp_path)
