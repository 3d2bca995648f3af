"""Test Coverage Analysis on the shop fixture: static test-to-code mapping and real line coverage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.workers.analysis.perspectives.test_coverage import TestCoverageAnalysis


def analyse(root: Path, cache: ResultCache, run_target_tests: bool = False) -> PerspectiveResult:
    ctx = RunContext(
        root=root, commit=None, sources=SourceFiles.discover(root), cache=cache,
        options=RunOptions(network=False, run_target_tests=run_target_tests, tool_timeout_s=120),
    )  # fmt: skip
    return TestCoverageAnalysis().run(ctx)


def where(result: PerspectiveResult, rule: str) -> dict[str, tuple[str, int, str]]:
    """Finding message subject (module or qualified name) -> (file, line, severity)."""
    return {
        f.message.split()[2 if rule == "unreferenced-public" else 1]: (f.file, f.line, f.severity)
        for f in result.findings
        if f.rule == rule
    }


@pytest.fixture
def cache(tmp_path: Path) -> ResultCache:
    return ResultCache(tmp_path / "cache.sqlite3")


def test_test_coverage_reports_modules_no_test_imports(shop_dir: Path, cache: ResultCache) -> None:
    result = analyse(shop_dir, cache)
    untested = where(result, "untested-module")
    assert untested["shop.reports"] == ("shop/reports.py", 1, "medium")
    assert untested["shop.settings"] == ("shop/settings.py", 1, "low")  # no public functions
    assert set(untested) == {"shop.reports", "shop.orders", "shop.storage", "shop.settings"}
    m = result.metrics
    assert (m["modules_total"], m["modules_tested"], m["test_files"]) == (5, 1, 1)
    assert m["largest_untested_modules"][0] == {
        "module": "shop.orders", "file": "shop/orders.py", "lines": 69,
    }  # fmt: skip


def test_test_coverage_maps_compute_price_to_its_test(shop_dir: Path, cache: ResultCache) -> None:
    result = analyse(shop_dir, cache)
    unreferenced = where(result, "unreferenced-public")
    assert "shop.pricing.compute_price" not in unreferenced
    assert unreferenced["shop.pricing.order_total"] == ("shop/pricing.py", 17, "low")
    assert unreferenced["shop.reports.monthly_report"] == ("shop/reports.py", 4, "info")
    assert not [name for name in unreferenced if "_private_helper" in name]
    assert (result.metrics["public_total"], result.metrics["public_referenced"]) == (14, 1)
    assert result.skipped == {"line coverage": "skipped: AUTOCODER_RUN_TARGET_TESTS is not 1"}


def test_test_coverage_follows_module_aliases_attributes_and_star_imports(
    shop_dir: Path, cache: ResultCache
) -> None:
    (shop_dir / "tests" / "test_more.py").write_text(
        "import shop.storage as st\n"
        "from shop import orders\n"
        "from shop.reports import *\n\n\n"
        "def test_more():\n"
        "    orders.load_order(1)\n"
        "    st.save('x', 'y')\n"
        "    assert monthly_report([]) == ''\n"
    )
    result = analyse(shop_dir, cache)
    assert set(where(result, "untested-module")) == {"shop.settings"}
    unreferenced = where(result, "unreferenced-public")
    for used in ("shop.orders.load_order", "shop.storage.save", "shop.reports.monthly_report"):
        assert used not in unreferenced
    assert unreferenced["shop.orders.classify"] == ("shop/orders.py", 17, "low")


def test_test_coverage_fingerprints_survive_lines_inserted_above(
    shop_dir: Path, cache: ResultCache
) -> None:
    before = {f.fingerprint: f.line for f in analyse(shop_dir, cache).findings}
    reports = shop_dir / "shop" / "reports.py"
    reports.write_text("# one\n# two\n" + reports.read_text())
    after = analyse(shop_dir, cache).findings
    assert {f.fingerprint for f in after} == set(before)
    [monthly] = [f for f in after if f.message.startswith("public function shop.reports.")]
    assert monthly.line == before[monthly.fingerprint] + 2 == 6


def test_test_coverage_survives_a_file_that_does_not_parse(
    shop_dir: Path, cache: ResultCache
) -> None:
    (shop_dir / "shop" / "broken.py").write_text("def broken(:\n    pass\n")
    result = analyse(shop_dir, cache)
    assert result.metrics["unparsed_files"] == ["shop/broken.py"]
    assert result.metrics["modules_total"] == 5
    assert "did not parse" in result.summary


def test_line_coverage_runs_the_shop_tests_and_is_cached(
    shop_dir: Path, cache: ResultCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = analyse(shop_dir, cache, run_target_tests=True)
    cov = result.metrics["line_coverage"]
    assert cov["pytest_exit_code"] == 0 and "2 passed" in cov["pytest_outcome"]
    percent = {row["file"]: row["percent"] for row in cov["least_covered"]}
    assert percent["shop/pricing.py"] > 50.0
    assert percent["shop/storage.py"] == 0.0
    assert 0.0 < cov["percent"] < 100.0
    assert "line coverage" not in result.skipped and result.tools["coverage"]
    assert not (shop_dir / ".coverage").exists()  # the checkout stays as it was
    assert not list(shop_dir.rglob("__pycache__")) and not list(shop_dir.rglob(".pytest_cache"))

    calls: list[object] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    warm = analyse(shop_dir, cache, run_target_tests=True)
    assert calls == []
    assert warm.metrics == result.metrics


def test_test_coverage_skips_a_target_without_python(tmp_path: Path, cache: ResultCache) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("# nothing to test\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        analyse(tmp_path / "empty", cache)
