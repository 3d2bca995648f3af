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
    assert "app.core, app.ui depend on each other" in layer.message
    assert layer.severity == "medium"  # sibling packages right under the top package


LAYERED = {
    "pyproject.toml": '[tool.importlinter]\nroot_package = "app"\n\n'
    '[[tool.importlinter.contracts]]\nname = "ui above core"\ntype = "layers"\n'
    'layers = ["app.ui", "app.core"]\n',
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/rules.py": "LIMIT = 3\n",
    "app/ui/__init__.py": "",
    "app/ui/widgets.py": "from app.core import rules\n",
}


def test_architecture_rates_an_import_against_the_declared_layers_high(tmp_path: Path) -> None:
    root = write(tmp_path / "declared", {
        **LAYERED, "app/core/model.py": "\n\ndef render():\n    from app.ui import widgets\n",
    })  # fmt: skip
    result = review(root, tmp_path / "cache.sqlite3")
    [broken] = by_rule(result, "layer-violation")
    assert (broken.file, broken.line, broken.severity) == ("app/core/model.py", 4, "high")
    assert "app.core imports the higher layer app.ui" in broken.message
    assert "'ui above core' in pyproject.toml" in broken.message


def test_architecture_keeps_imports_down_the_declared_layers_quiet(tmp_path: Path) -> None:
    result = review(write(tmp_path / "declared", LAYERED), tmp_path / "cache.sqlite3")
    assert by_rule(result, "layer-violation") == []
    assert result.findings == []


def test_architecture_leaves_cycles_closed_by_deferred_imports_out(tmp_path: Path) -> None:
    root = write(tmp_path / "lazy", {
        "lib/__init__.py": "",
        "lib/a.py": "from lib import b\n",
        "lib/b.py": "def late():\n    from lib import a\n    return a\n",
        "lib/c.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from lib import d\n",
        "lib/d.py": "from lib import c\n",
    })  # fmt: skip
    result = review(root, tmp_path / "cache.sqlite3")
    assert by_rule(result, "import-cycle") == []
    assert result.metrics["cycles"] == 0
    assert result.metrics["deferred_only_cycles"] == 2
    assert "2 more closed only by deferred imports" in result.summary


def _module(names: int, lines: int) -> str:
    defs = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(names))
    return defs + "# filler\n" * max(0, lines - 4 * names)


def test_architecture_reports_a_god_module_once(tmp_path: Path) -> None:
    root = write(tmp_path / "god", {
        "big/__init__.py": "",
        "big/everything.py": _module(names=77, lines=1238),
        "big/one_class.py": "class Engine:\n" + "    x = 1\n" * 2500,  # long, one name
        "big/catalogue.py": _module(names=90, lines=400),  # many names, short
        "big/tests/__init__.py": "",
        "big/tests/test_all.py": _module(names=80, lines=1500),  # tests grow by design
    })  # fmt: skip
    result = review(root, tmp_path / "cache.sqlite3")
    [god] = by_rule(result, "god-module")
    assert (god.file, god.line, god.severity) == ("big/everything.py", 1, "low")
    assert "big.everything has 1238 lines and 77 public names" in god.message
    assert result.metrics["largest_modules"][0] == {
        "module": "big.one_class", "lines": 2501, "public_names": 1,
    }  # fmt: skip


def test_architecture_leaves_a_package_that_re_exports_its_modules_alone(tmp_path: Path) -> None:
    parts = {f"hub/p{i}.py": f"VALUE = {i}\n" for i in range(21)}
    imports = "".join(f"from hub.p{i} import VALUE as V{i}\n" for i in range(21))
    root = write(tmp_path / "fan", {"hub/__init__.py": imports, **parts})
    result = review(root, tmp_path / "cache.sqlite3")
    assert by_rule(result, "high-fan-out") == []
    assert result.metrics["highest_fan_out"][0] == {"module": "hub", "imports": 21}


def test_architecture_flags_a_hub_that_many_import_and_that_imports_many(tmp_path: Path) -> None:
    leaves = {f"net/leaf{i}.py": f"X = {i}\n" for i in range(10)}
    hub = "".join(f"from net import leaf{i}\n" for i in range(10))
    users = {f"net/user{i}.py": "from net import hub\n" for i in range(20)}
    files = {"net/__init__.py": "", "net/hub.py": hub, **leaves, **users}
    [found] = by_rule(review(write(tmp_path / "n", files), tmp_path / "c.sqlite3"), "hub-module")
    assert (found.file, found.severity) == ("net/hub.py", "low")
    assert "imported by 20 modules and imports 10" in found.message
    del files["net/user19.py"]
    quiet = review(write(tmp_path / "m", files), tmp_path / "d.sqlite3")
    assert by_rule(quiet, "hub-module") == []


def test_architecture_flags_module_with_high_fan_out(tmp_path: Path) -> None:
    parts = {f"hub/parts/p{i}.py": f"VALUE = {i}\n" for i in range(21)}
    imports = "".join(f"from hub.parts import p{i}\n" for i in range(21))
    root = write(tmp_path / "fan", {
        "hub/__init__.py": "", "hub/parts/__init__.py": "", "hub/main.py": imports, **parts,
    })  # fmt: skip
    result = review(root, tmp_path / "cache.sqlite3")
    [fan] = by_rule(result, "high-fan-out")
    assert (fan.file, fan.line, fan.severity) == ("hub/main.py", 1, "low")
    assert "imports 21 modules" in fan.message
    assert result.metrics["highest_fan_out"][0] == {"module": "hub.main", "imports": 21}


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


def test_architecture_reports_siblings_tangled_through_one_package_once(tmp_path: Path) -> None:
    root = write(tmp_path / "tangle", {
        "app/__init__.py": "",
        "app/text/__init__.py": "from app.i18n import gettext\n",
        "app/dates/__init__.py": "from app.i18n import gettext\n",
        "app/i18n/__init__.py": "def gettext(s):\n    return s\n",
        "app/i18n/tags.py": "from app import dates, text\n",
        "app/solo/__init__.py": "",
    })  # fmt: skip
    result = review(root, tmp_path / "cache.sqlite3")
    [layer] = by_rule(result, "layer-cycle")
    assert "app.dates, app.i18n, app.text depend on each other" in layer.message
    assert "app.solo" not in layer.message


def test_architecture_reads_layers_with_containers_from_an_importlinter_file(
    tmp_path: Path,
) -> None:
    config = (
        "[importlinter]\nroot_package = app\n\n[importlinter:contract:layers]\nname = tiers\n"
        "type = layers\ncontainers =\n    app\nlayers =\n    ui\n    core\n"
    )
    files = {
        **LAYERED,
        ".importlinter": config,
        "app/core/model.py": "from app.ui import widgets\n",
    }
    del files["pyproject.toml"]
    result = review(write(tmp_path / "ini", files), tmp_path / "c.sqlite3")
    [broken] = by_rule(result, "layer-violation")
    assert (broken.file, broken.line) == ("app/core/model.py", 1)
    assert "against the contract 'tiers' in .importlinter" in broken.message
    assert by_rule(result, "layer-cycle") == []  # app.core <-> app.ui: the same fact


def test_architecture_reviews_a_package_under_a_source_folder_as_in_this_repo(
    tmp_path: Path,
) -> None:
    root = write(tmp_path / "repo", {
        "pyproject.toml": '[project]\nname = "lib"\n',
        "shared/lib/__init__.py": "",
        "shared/lib/low.py": "from lib import high\n",
        "shared/lib/high.py": "from lib import low\n",
        "tests/fixtures/demo/demo/__init__.py": "",
        "tests/test_low.py": "import lib.low\n",
    })  # fmt: skip
    result = review(root, tmp_path / "cache.sqlite3")
    assert result.metrics["packages"] == ["lib"]
    assert result.metrics["modules"] == 3
    [cycle] = by_rule(result, "import-cycle")
    assert {cycle.file} <= {"shared/lib/low.py", "shared/lib/high.py"}
