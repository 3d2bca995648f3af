"""What Are We Testing?: the public surface ranked by risk, with signature contract tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.what_are_we_testing import WhatAreWeTesting
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import ids_before_and_after_two_lines_are_added, run_specs, write_target


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], dict]:
    return run_specs(WhatAreWeTesting(), root, tmp_path, **options)


def test_inventory_ranks_the_complex_untested_classify_first(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, info = _run(shop_dir, tmp_path)
    assert specs[0].subject == "shop.orders:classify"
    assert specs[0].priority == 1 and specs[0].file == "shop/orders.py" and specs[0].line == 17
    assert "shop.reports:_private_helper" not in {s.subject for s in specs}
    assert info["public_subjects"] == 14 and info["untested_subjects"] == 13
    assert info["summary"].startswith("14 public subjects in 6 modules, 13 named by no test")


def test_routes_and_cli_entry_points_are_listed(ledger_dir: Path, tmp_path: Path) -> None:
    _specs, info = _run(ledger_dir, tmp_path)
    assert info["cli_entry_points"] == {"ledger": "ledger.cli:main"}
    assert any(
        r.startswith("ledger.core:show_account app.get('/accounts/{owner}')")
        for r in info["routes"]
    )


def test_generated_contract_tests_collect_and_pass_on_the_unmodified_code(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(shop_dir, tmp_path, run_target_tests=True)
    collection = collect_generated_tests(shop_dir, specs)
    assert collection.items == len(specs), collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
    assert {s.status for s in specs} == {"passed"}


def test_contract_tests_read_properties_cached_properties_and_classmethods(
    tmp_path: Path,
) -> None:
    root = write_target(tmp_path, {"box.py": (
        "import functools\n\n\nclass Box:\n    def __init__(self, size: int) -> None:\n"
        "        self._size = size\n\n    @property\n    def size(self) -> int:\n"
        "        return self._size\n\n    @size.setter\n    def size(self, value: int) -> None:\n"
        "        self._size = value\n\n    @functools.cached_property\n"
        "    def volume(self) -> int:\n        return self._size**3\n\n    @classmethod\n"
        "    def cube(cls, size: int) -> 'Box':\n        return cls(size)\n\n    @staticmethod\n"
        "    def unit() -> int:\n        return 1\n"
    )})  # fmt: skip
    specs, _ = _run(root, tmp_path, run_target_tests=True)
    assert {s.status for s in specs} == {"passed"}, [s.status_detail for s in specs]
    codes = "\n".join(s.test_code for s in specs)
    assert "inspect.signature(Box.size.fset)" in codes
    assert "inspect.signature(Box.volume.func)" in codes
    assert "[('size', 'POSITIONAL_OR_KEYWORD')]" in codes  # Box.cube is bound: no cls


def test_subjects_named_like_tests_or_like_the_test_s_variables_are_tested_not_collected(
    tmp_path: Path,
) -> None:
    root = write_target(tmp_path, {"naming.py": (
        "def test_name(subject: str) -> str:\n    return f'test_{subject}'\n\n\n"
        "class TestPlan:\n    def run(self, n: int) -> int:\n        return n\n\n\n"
        "def parameters(signature: str) -> list:\n    return signature.split(',')\n"
    )})  # fmt: skip
    specs, _ = _run(root, tmp_path, run_target_tests=True)
    assert {(s.subject, s.status, s.status_detail) for s in specs} == {
        (subject, "passed", "")
        for subject in ("naming:test_name", "naming:TestPlan", "naming:TestPlan.run",
                        "naming:parameters")
    }  # fmt: skip
    assert "test_name.__test__ = False" in next(
        s.test_code for s in specs if s.subject == "naming:test_name"
    )


def test_changed_signature_makes_the_contract_test_fail(shop_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(shop_dir, tmp_path)
    pricing = shop_dir / "shop" / "pricing.py"
    pricing.write_text(
        pricing.read_text().replace("coupon: str | None = None", "*, coupon: str | None = None")
    )
    from autocoder.workers.test_planning.verify import run_generated_tests

    ran = {s.subject: s.status for s in run_generated_tests(shop_dir, specs, 120)}
    assert ran["shop.pricing:compute_price"] == "failed"
    assert ran["shop.orders:classify"] == "passed"


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before, after = ids_before_and_after_two_lines_are_added(
        _run, shop_dir, tmp_path, "shop/orders.py"
    )
    assert {s.subject: s.id for s in after} == before
    assert next(s for s in after if s.subject == "shop.orders:classify").line == 19


def test_target_without_public_code_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "x.py").write_text("def _hidden():\n    return 1\n")
    with pytest.raises(PerspectiveSkipped, match="no public functions or classes"):
        _run(tmp_path / "t", tmp_path)


def test_modules_that_cannot_be_imported_by_name_are_left_out(
    shop_dir: Path, tmp_path: Path
) -> None:
    migrations = shop_dir / "shop" / "migrations"
    migrations.mkdir()
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_initial.py").write_text("def forwards(apps):\n    return apps\n")
    specs, _ = _run(shop_dir, tmp_path)
    assert specs and not any("migrations" in s.subject for s in specs)
    collection = collect_generated_tests(shop_dir, specs)
    assert collection.items == len(specs), collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
