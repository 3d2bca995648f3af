"""Architecture Review on the 'shop' fixture and small generated packages: real grimp, no mocks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import Finding
from autocoder.workers.analysis.perspectives.architecture import ArchitectureReview


def review(root: Path, cache: Path) -> PerspectiveResult:
    ctx = RunContext(
        root=root, commit=None, sources=SourceFiles.discover(root), cache=ResultCache(cache)
    )
    return ArchitectureReview().run(ctx)


def by_rule(result: PerspectiveResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_architecture_reports_pricing_orders_import_cycle(shop_dir: Path, tmp_path: Path) -> None:
    result = review(shop_dir, tmp_path / "cache.sqlite3")
    [cycle] = by_rule(result, "import-cycle")
    assert (cycle.file, cycle.line) == ("shop/orders.py", 9)  # from shop import pricing
    assert "shop.orders -> shop.pricing -> shop.orders" in cycle.message
    assert (cycle.tool, cycle.severity) == ("grimp", "medium")
    assert result.metrics["import_cycles"] == ["shop.orders -> shop.pricing -> shop.orders"]
    assert result.metrics["modules_in_cycles"] == 2
    assert "1 import cycles" in result.summary
    assert result.tools == {"grimp": grimp.__version__}


def test_architecture_measures_coupling_and_package_size(shop_dir: Path, tmp_path: Path) -> None:
    result = review(shop_dir, tmp_path / "cache.sqlite3")
    metrics = result.metrics
    assert metrics["packages"] == ["shop"]
    assert metrics["modules"] == 6  # shop and its five modules; tests/ is no package
    assert metrics["internal_imports"] == 2
    assert {m["module"] for m in metrics["highest_fan_in"]} == {"shop.orders", "shop.pricing"}
    lines = sum(len(p.read_text().splitlines()) for p in (shop_dir / "shop").glob("*.py"))
    assert metrics["package_sizes"] == [{"package": "shop", "modules": 6, "lines": lines}]
    assert f"6 modules, {lines} lines" in result.summary


def test_architecture_flags_sibling_packages_that_import_each_other(tmp_path: Path) -> None:
    root = write(tmp_path / "layered", {
        "src/app/__init__.py": "",
        "src/app/core/__init__.py": "",
        "src/app/core/model.py": "from app.ui import widgets\n",
        "src/app/core/rules.py": "LIMIT = 3\n",
        "src/app/ui/__init__.py": "",
        "src/app/ui/widgets.py": '"""Widgets."""\n\nfrom app.core import rules\n',
    })  # fmt: skip
    result = review(root, tmp_path / "cache.sqlite3")
    assert by_rule(result, "import-cycle") == []  # no module imports itself back
    [layer] = by_rule(result, "layer-cycle")
    assert layer.file in {"src/app/core/model.py", "src/app/ui/widgets.py"}
    assert layer.line == (1 if layer.file.endswith("model.py") else 3)
    assert "app.core and app.ui depend on each other" in layer.message


def test_architecture_flags_module_with_high_fan_out(tmp_path: Path) -> None:
    parts = {f"hub/parts/p{i}.py": f"VALUE = {i}\n" for i in range(16)}
    imports = "".join(f"from hub.parts import p{i}\n" for i in range(16))
    root = write(tmp_path / "fan", {
        "hub/__init__.py": "", "hub/parts/__init__.py": "", "hub/main.py": imports, **parts,
    })  # fmt: skip
    result = review(root, tmp_path / "cache.sqlite3")
    [fan] = by_rule(result, "high-fan-out")
    assert (fan.file, fan.line, fan.severity) == ("hub/main.py", 1, "low")
    assert "imports 16 modules" in fan.message
    assert result.metrics["highest_fan_out"][0] == {"module": "hub.main", "imports": 16}


def test_architecture_fingerprints_survive_lines_inserted_above(
    shop_dir: Path, tmp_path: Path
) -> None:
    [before] = by_rule(review(shop_dir, tmp_path / "before.sqlite3"), "import-cycle")
    orders = shop_dir / "shop" / "orders.py"
    orders.write_text("# a new header comment\n\n\n" + orders.read_text())
    [after] = by_rule(review(shop_dir, tmp_path / "after.sqlite3"), "import-cycle")
    assert after.line == before.line + 3
    assert after.fingerprint == before.fingerprint


def test_architecture_warm_run_does_not_rebuild_the_graph(
    shop_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache.sqlite3"
    cold = review(shop_repo, cache)
    sources = SourceFiles.discover(shop_repo)  # git ls-files runs before the traps are set

    def trap(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a warm run analysed again: {args}")

    monkeypatch.setattr(subprocess, "run", trap)
    monkeypatch.setattr(grimp, "build_graph", trap)
    ctx = RunContext(root=shop_repo, commit=None, sources=sources, cache=ResultCache(cache))
    warm = ArchitectureReview().run(ctx)
    assert warm.findings == cold.findings
    assert warm.metrics == cold.metrics


def test_architecture_leaves_sys_path_and_modules_alone(shop_dir: Path, tmp_path: Path) -> None:
    path_before, modules_before = list(sys.path), set(sys.modules)
    review(shop_dir, tmp_path / "cache.sqlite3")
    assert sys.path == path_before
    assert not {m for m in set(sys.modules) - modules_before if m.split(".")[0] == "shop"}


def test_architecture_reports_unparseable_file_and_goes_on(shop_dir: Path, tmp_path: Path) -> None:
    write(shop_dir / "shop", {
        "broken.py": "from shop import orders\ndef broken(:\n",
        "torn.py": "from shop import reports\nclass (\n",
        "modern.py": "from shop import settings\n\ntype Price = float\n",  # 3.12 syntax parses
    })  # fmt: skip
    result = review(shop_dir, tmp_path / "cache.sqlite3")
    assert result.metrics["unparsed_files"] == ["shop/broken.py", "shop/torn.py"]
    assert result.metrics["modules"] == 9
    assert result.metrics["internal_imports"] == 3  # the cycle's two and modern -> settings
    assert len(by_rule(result, "import-cycle")) == 1
    assert "2 files do not parse" in result.summary


def test_architecture_skips_targets_without_packages(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        review(empty, tmp_path / "cache.sqlite3")
    scripts = write(tmp_path / "scripts", {"tool.py": "print('hi')\n"})
    with pytest.raises(PerspectiveSkipped, match="no Python package"):
        review(scripts, tmp_path / "cache.sqlite3")
