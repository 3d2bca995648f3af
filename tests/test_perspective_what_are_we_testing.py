"""What Are We Testing?: the public surface ranked by risk, and no tests of its own (a test that
only pins a signature passes on broken code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.what_are_we_testing import WhatAreWeTesting

from perspectivekit import run_specs


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], dict]:
    return run_specs(WhatAreWeTesting(), root, tmp_path, **options)


def test_inventory_ranks_the_complex_untested_classify_first(
    shop_dir: Path, tmp_path: Path
) -> None:
    _specs, info = _run(shop_dir, tmp_path)
    first = info["riskiest"][0]
    assert (first["subject"], first["file"], first["line"], first["tested"]) == (
        "shop.orders:classify", "shop/orders.py", 17, False
    )  # fmt: skip
    assert first["risk"] == 9 and first["complexity"] == 17
    assert "shop.reports:_private_helper" not in {r["subject"] for r in info["riskiest"]}
    assert info["public_subjects"] == 14 and info["untested_subjects"] == 13
    assert info["summary"].startswith("14 public subjects in 6 modules, 13 named by no test")


def test_no_signature_tests_are_written(shop_dir: Path, tmp_path: Path) -> None:
    specs, info = _run(shop_dir, tmp_path)
    assert specs == [] and info["specs"] == 0
    assert "No tests of its own" in info["summary"]


def test_routes_and_cli_entry_points_are_listed(ledger_dir: Path, tmp_path: Path) -> None:
    _specs, info = _run(ledger_dir, tmp_path)
    assert info["cli_entry_points"] == {"ledger": "ledger.cli:main"}
    assert any(
        r.startswith("ledger.core:show_account app.get('/accounts/{owner}')")
        for r in info["routes"]
    )


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
    _specs, info = _run(shop_dir, tmp_path)
    assert info["riskiest"] and not any("migrations" in r["subject"] for r in info["riskiest"])
