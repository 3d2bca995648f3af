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
    """Module the finding is about -> (file, line, severity)."""
    return {
        f.message.split()[1].rstrip(":"): (f.file, f.line, f.severity)
        for f in result.findings
        if f.rule == rule
    }


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def functions(count: int, lines: int) -> str:
    body = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(count))
    return body + "# more\n" * max(0, lines - 4 * count)


@pytest.fixture
def cache(tmp_path: Path) -> ResultCache:
    return ResultCache(tmp_path / "cache.sqlite3")


def test_test_coverage_reports_each_untested_module_once(
    shop_dir: Path, cache: ResultCache
) -> None:
    result = analyse(shop_dir, cache)
    untested = where(result, "untested-module")
    # shop.settings (5 lines of constants) has nothing to test and is left out
    assert set(untested) == {"shop.reports", "shop.orders", "shop.storage"}
    assert untested["shop.reports"] == ("shop/reports.py", 1, "low")
    [orders] = [f for f in result.findings if f.file == "shop/orders.py"]
    assert "tests reach it only through shop.pricing" in orders.message
    assert orders.severity == "low"  # public, but the tests of shop.pricing run it
    m = result.metrics
    assert (m["modules_total"], m["modules_tested"], m["test_files"]) == (5, 1, 1)
    assert m["largest_untested_modules"][0] == {
        "module": "shop.orders", "file": "shop/orders.py", "lines": 69,
    }  # fmt: skip
    assert m["most_exposed_untested"][0]["module"] == "shop.orders"


USES_SAVE = "import shop.storage as st\n\n\ndef test_save():\n    st.save('x', 'y')\n"


def test_test_coverage_reports_a_tested_modules_missed_names_in_one_finding(
    shop_dir: Path, cache: ResultCache
) -> None:
    (shop_dir / "tests" / "test_storage.py").write_text(USES_SAVE)
    result = analyse(shop_dir, cache)
    [storage] = [f for f in result.findings if f.rule == "unreferenced-public"]
    assert (storage.file, storage.line, storage.severity) == ("shop/storage.py", 11, "low")
    assert "module shop.storage: 4 of 5 public functions and classes" in storage.message
    assert "(load_blob, backup, evaluate, read_config)" in storage.message
    # shop.pricing: 1 of 2 names missed (order_total), most likely run through compute_price
    assert not [f for f in result.findings if f.file == "shop/pricing.py"]
    assert (result.metrics["public_total"], result.metrics["public_referenced"]) == (14, 2)
    assert result.skipped == {"line coverage": "skipped: AUTOCODER_RUN_TARGET_TESTS is not 1"}


def test_test_coverage_rates_an_exposed_large_untested_module_medium(
    tmp_path: Path, cache: ResultCache
) -> None:
    root = write(tmp_path / "lib", {
        "lib/__init__.py": "from lib.engine import Engine\n\n\ndef load():\n"
        "    from lib import loader\n\n    return loader\n",
        "lib/engine.py": "class Engine:\n    pass\n",
        "lib/loader.py": functions(3, 200),
        "lib/api.py": functions(3, 200),
        "lib/_internal.py": functions(3, 200),
        "docs/conf.py": functions(2, 60),
        "tests/test_engine.py": "from lib import Engine\n\n\ndef test_engine():\n"
        "    assert Engine()\n",
    })  # fmt: skip
    untested = where(analyse(root, cache), "untested-module")
    assert untested == {
        "lib.api": ("lib/api.py", 1, "medium"),  # public, 200 lines, no test
        "lib._internal": ("lib/_internal.py", 1, "low"),  # private and re-exported by nobody
        "lib.loader": ("lib/loader.py", 1, "low"),  # the tests of lib run it through lib.load
    }  # lib.engine is reached through the name lib re-exports; docs are not the product


def test_test_coverage_gives_a_repository_without_tests_one_finding(
    tmp_path: Path, cache: ResultCache
) -> None:
    files = {"app/__init__.py": "", "app/a.py": functions(2, 50), "app/b.py": functions(1, 40)}
    [small] = analyse(write(tmp_path / "small", files), cache).findings
    assert (small.rule, small.severity, small.file) == ("no-tests", "medium", "app/a.py")
    assert "2 modules, 90 lines and 3 public functions and classes are untested" in small.message
    files["app/c.py"] = functions(10, 1000)
    [large] = analyse(write(tmp_path / "large", files), cache).findings
    assert (large.rule, large.severity, large.file) == ("no-tests", "high", "app/c.py")


def test_test_coverage_counts_a_module_named_in_a_test_string_as_reached(
    tmp_path: Path, cache: ResultCache
) -> None:
    root = write(tmp_path / "site", {
        "site/__init__.py": "",
        "site/backends/__init__.py": "",
        "site/backends/db.py": functions(2, 40),
        "site/backends/cache.py": functions(2, 40),
        "tests/test_backends.py": "SETTINGS = {'BACKEND': 'site.backends.db.Store'}\n",
    })  # fmt: skip
    assert set(where(analyse(root, cache), "untested-module")) == {"site.backends.cache"}


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
    assert where(result, "untested-module") == {}
    [orders] = [f for f in result.findings if f.file == "shop/orders.py"]
    assert orders.rule == "unreferenced-public" and orders.line == 17  # classify, first missed
    assert "load_order" not in orders.message and "classify" in orders.message
    assert not [f for f in result.findings if f.file == "shop/reports.py"]
    [storage] = [f for f in result.findings if f.file == "shop/storage.py"]
    assert "save" not in storage.message.split("(")[-1].split(", ")


def test_test_coverage_fingerprints_survive_lines_inserted_above(
    shop_dir: Path, cache: ResultCache
) -> None:
    (shop_dir / "tests" / "test_storage.py").write_text(USES_SAVE)
    before = {f.fingerprint: f.line for f in analyse(shop_dir, cache).findings}
    storage = shop_dir / "shop" / "storage.py"
    storage.write_text("# one\n# two\n" + storage.read_text())
    after = analyse(shop_dir, cache).findings
    assert {f.fingerprint for f in after} == set(before)
    [missed] = [f for f in after if f.file == "shop/storage.py"]
    assert missed.line == before[missed.fingerprint] + 2 == 13


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
