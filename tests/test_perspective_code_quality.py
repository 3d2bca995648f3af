"""Code Quality Analysis on the 'shop' fixture: real ruff and radon runs, no mocks."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import Finding
from autocoder.workers.analysis.perspectives._ruff import ruff_severity
from autocoder.workers.analysis.perspectives.code_quality import (
    CodeQualityAnalysis,
    complexity_severity,
)


def analyse(root: Path, cache: Path) -> PerspectiveResult:
    ctx = RunContext(
        root=root, commit=None, sources=SourceFiles.discover(root), cache=ResultCache(cache)
    )
    return CodeQualityAnalysis().run(ctx)


def only(result: PerspectiveResult, file: str, rule: str) -> Finding:
    [found] = [f for f in result.findings if f.file == file and f.rule == rule]
    return found


def test_code_quality_flags_complex_classify_function(shop_dir: Path, tmp_path: Path) -> None:
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    complexity = [f for f in result.findings if f.rule == "cyclomatic-complexity"]
    assert [(f.file, f.line) for f in complexity] == [("shop/orders.py", 17)]
    assert complexity[0].tool == "radon"
    assert complexity[0].severity == "low"  # 11..20 is low, above 20 medium: never high
    assert "classify has cyclomatic complexity" in complexity[0].message
    worst = result.metrics["most_complex_functions"][0]
    assert worst["function"] == "classify"
    assert 10 < worst["cc"] <= 20
    assert result.metrics["complex_functions"] == 1
    assert "classify in shop/orders.py" in result.summary


def test_code_quality_reports_ruff_rules_at_their_lines(shop_dir: Path, tmp_path: Path) -> None:
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    concat = only(result, "shop/orders.py", "RUF005")  # merged = merged + [order]
    assert concat.line == 57
    assert concat.tool == "ruff"
    assert concat.severity == "low"
    assert only(result, "shop/orders.py", "PLR0912").line == 17  # too many branches in classify
    assert only(result, "shop/orders.py", "RET505").line == 22
    assert set(result.tools) == {"ruff", "radon"}
    assert all(result.tools.values())
    assert not [f for f in result.findings if f.file.startswith("tests/")]


def test_code_quality_ignores_the_targets_own_ruff_config(shop_dir: Path, tmp_path: Path) -> None:
    config = shop_dir / "pyproject.toml"
    silenced = '\n[tool.ruff.lint.per-file-ignores]\n"shop/*" = ["RUF005", "PLR0912", "RET505"]\n'
    config.write_text(config.read_text() + silenced)
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    assert {"RUF005", "PLR0912", "RET505"} <= {f.rule for f in result.findings}


def test_code_quality_metrics_rank_modules_by_maintainability(
    shop_dir: Path, tmp_path: Path
) -> None:
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    metrics: dict[str, Any] = result.metrics
    modules = metrics["least_maintainable_modules"]
    assert modules[0]["file"] == "shop/orders.py"
    assert [m["mi"] for m in modules] == sorted(m["mi"] for m in modules)
    assert 0 < modules[0]["mi"] < metrics["mean_maintainability"]
    assert sum(metrics["by_severity"].values()) == len(result.findings) == metrics["findings"]
    assert metrics["worst_files"][0] == {"file": "shop/orders.py", "findings": len(result.findings)}
    lines = sum(len(p.read_text().splitlines()) for p in shop_dir.rglob("*.py"))
    assert metrics["kloc"] == round(lines / 1000, 3)
    assert metrics["findings_per_kloc"] == round(len(result.findings) / (lines / 1000), 2)
    assert f"{len(result.findings)} issues" in result.summary
    assert "shop/orders.py" in result.summary


def test_code_quality_fingerprints_survive_lines_inserted_above(
    shop_dir: Path, tmp_path: Path
) -> None:
    before = analyse(shop_dir, tmp_path / "before.sqlite3")
    orders = shop_dir / "shop" / "orders.py"
    orders.write_text("# a new header comment\n\n\n" + orders.read_text())
    after = analyse(shop_dir, tmp_path / "after.sqlite3")
    for rule in ("cyclomatic-complexity", "RUF005", "PLR0912"):
        old, new = only(before, "shop/orders.py", rule), only(after, "shop/orders.py", rule)
        assert new.line == old.line + 3
        assert new.fingerprint == old.fingerprint
    assert {f.fingerprint for f in before.findings} == {f.fingerprint for f in after.findings}


def test_code_quality_warm_run_starts_no_subprocess(
    shop_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache.sqlite3"
    cold = analyse(shop_repo, cache)
    sources = SourceFiles.discover(shop_repo)  # git ls-files runs before the trap is set

    def trap(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a warm run started a subprocess: {args}")

    monkeypatch.setattr(subprocess, "run", trap)
    ctx = RunContext(root=shop_repo, commit=None, sources=sources, cache=ResultCache(cache))
    warm = CodeQualityAnalysis().run(ctx)
    assert warm.findings == cold.findings
    assert warm.metrics == cold.metrics


def test_code_quality_reports_unparseable_file_and_goes_on(shop_dir: Path, tmp_path: Path) -> None:
    (shop_dir / "shop" / "broken.py").write_text("def broken(:\n    return 1\n")
    result = analyse(shop_dir, tmp_path / "cache.sqlite3")
    syntax = [f for f in result.findings if f.file == "shop/broken.py"]
    assert [(f.rule, f.severity, f.line) for f in syntax] == [("syntax-error", "high", 1)]
    assert result.metrics["unparsed_files"] == ["shop/broken.py"]
    assert only(result, "shop/orders.py", "cyclomatic-complexity").line == 17
    assert "1 files do not parse" in result.summary


def test_code_quality_skips_a_target_without_python(tmp_path: Path) -> None:
    root = tmp_path / "docs-only"
    root.mkdir()
    (root / "README.md").write_text("# nothing to lint\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        analyse(root, tmp_path / "cache.sqlite3")


def test_complexity_is_a_cost_of_change_never_high() -> None:
    assert [complexity_severity(cc) for cc in (11, 20, 21, 60)] == [
        "low",
        "low",
        "medium",
        "medium",
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("F821", "high"), ("syntax-error", "high"), ("F706", "high"), ("PLE0704", "medium"),
     ("F811", "medium"), ("F401", "medium"), ("N802", "info")],
)  # fmt: skip
def test_ruff_rates_only_code_that_always_fails_high(code: str, expected: str) -> None:
    assert ruff_severity(code) == expected
