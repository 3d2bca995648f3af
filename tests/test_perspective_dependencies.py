"""Dependency Analysis on the shop fixture and small made-up targets: real deptry and pip-audit."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.workers.analysis.perspectives.dependencies import DependencyAnalysis

SHOP = Path(__file__).parent / "fixtures" / "shop"


def analyse(
    root: Path, cache: ResultCache, network: bool = False, timeout_s: float = 600.0
) -> PerspectiveResult:
    ctx = RunContext(
        root=root, commit=None, sources=SourceFiles.discover(root), cache=cache,
        options=RunOptions(network=network, tool_timeout_s=timeout_s),
    )  # fmt: skip
    return DependencyAnalysis().run(ctx)


def where(result: PerspectiveResult, rule: str) -> list[tuple[str, int, str]]:
    return sorted((f.file, f.line, f.severity) for f in result.findings if f.rule == rule)


@pytest.fixture(scope="module")
def shop_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ResultCache]:
    base = tmp_path_factory.mktemp("dependencies")
    shutil.copytree(SHOP, base / "shop")
    return base / "shop", ResultCache(base / "cache.sqlite3")


@pytest.fixture(scope="module")
def shop_result(shop_copy: tuple[Path, ResultCache]) -> PerspectiveResult:
    return analyse(*shop_copy)


def test_dependency_analysis_reports_unused_click_at_its_declaration(
    shop_result: PerspectiveResult,
) -> None:
    assert where(shop_result, "DEP002") == [("pyproject.toml", 6, "low")]
    [click] = [f for f in shop_result.findings if f.rule == "DEP002"]
    assert "'click'" in click.message and click.tool == "deptry"
    assert not where(shop_result, "DEP001") and not where(shop_result, "DEP003")
    assert shop_result.tools["deptry"]


def test_dependency_analysis_reports_unpinned_requests_in_both_files(
    shop_result: PerspectiveResult,
) -> None:
    assert where(shop_result, "unpinned-requirement") == [
        ("pyproject.toml", 5, "low"),
        ("requirements.txt", 1, "low"),
    ]
    m = shop_result.metrics
    assert m["declaration_files"] == ["pyproject.toml", "requirements.txt"]
    assert (m["requirements_declared"], m["distinct_packages"], m["pinned_exactly"]) == (5, 3, 2)
    assert m["by_rule"] == {"unpinned-requirement": 2, "DEP002": 1}


def test_dependency_analysis_without_network_skips_pip_audit(
    shop_result: PerspectiveResult,
) -> None:
    assert shop_result.skipped == {"pip-audit": "skipped: no network"}
    assert "pip-audit" not in shop_result.tools
    assert not [f for f in shop_result.findings if f.tool == "pip-audit"]
    assert "skipped: no network" in shop_result.summary


def test_dependency_analysis_offline_pip_audit_is_skipped_not_invented(
    shop_copy: tuple[Path, ResultCache],
) -> None:
    started = time.monotonic()
    result = analyse(*shop_copy, network=True, timeout_s=30.0)
    assert time.monotonic() - started < 35
    assert result.skipped["pip-audit"].startswith("skipped: vulnerability service unreachable")
    assert not [f for f in result.findings if f.tool == "pip-audit"]


def test_dependency_analysis_warm_run_starts_no_analyser(
    shop_copy: tuple[Path, ResultCache],
    shop_result: PerspectiveResult,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    warm = analyse(*shop_copy)
    assert calls == []
    assert [f.model_dump() for f in warm.findings] == [f.model_dump() for f in shop_result.findings]


def test_dependency_analysis_fingerprints_survive_lines_inserted_above(
    shop_dir: Path, shop_result: PerspectiveResult, tmp_path: Path
) -> None:
    pyproject = shop_dir / "pyproject.toml"
    pyproject.write_text("# build settings\n# follow below\n" + pyproject.read_text())
    moved = analyse(shop_dir, ResultCache(tmp_path / "cache.sqlite3"))
    assert {f.fingerprint for f in moved.findings} == {f.fingerprint for f in shop_result.findings}
    assert where(moved, "DEP002") == [("pyproject.toml", 8, "low")]


def test_dependency_analysis_without_declaration_reports_it_and_undeclared_imports(
    tmp_path: Path,
) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    (root / "app.py").write_text("import os\n\nimport requests\nimport helpers\n")
    (root / "helpers.py").write_text("X = 1\n")
    result = analyse(root, ResultCache(tmp_path / "cache.sqlite3"))
    assert where(result, "no-dependency-declaration") == [("pyproject.toml", 0, "medium")]
    undeclared = [f for f in result.findings if f.rule in {"DEP001", "DEP003"}]
    assert [(f.file, f.line) for f in undeclared] == [("app.py", 3)]  # os and helpers are fine
    assert "'requests'" in undeclared[0].message
    assert result.metrics["requirements_declared"] == 0


def test_dependency_analysis_reads_setup_cfg_and_survives_a_broken_pyproject(
    tmp_path: Path,
) -> None:
    root = tmp_path / "legacy"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project\nname = 'broken'\n")
    (root / "setup.cfg").write_text(
        "[metadata]\nname = legacy\n\n[options]\ninstall_requires =\n"
        "    requests>=2,<3\n    click\n"
    )
    (root / "main.py").write_text("import requests\n")
    result = analyse(root, ResultCache(tmp_path / "cache.sqlite3"))
    assert where(result, "unreadable-declaration") == [("pyproject.toml", 1, "medium")]
    assert where(result, "unpinned-requirement") == [("setup.cfg", 7, "low")]
    assert where(result, "DEP002") == [("setup.cfg", 7, "low")]


def test_dependency_analysis_skips_a_target_without_python(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "requirements.txt").write_text("sphinx\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        analyse(tmp_path / "docs", ResultCache(tmp_path / "cache.sqlite3"))
