"""Every worker's perspectives: the right names, in the right order, each with its own tests."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from autocoder.engine.perspective import PerspectiveResult, Registry, RunContext
from autocoder.errors import ConfigError
from autocoder.workers.catalog import WORKERS, worker_spec

TESTS = Path(__file__).parent


def test_analysis_rotation_has_the_six_perspectives_in_order() -> None:
    names = [p.name for p in worker_spec("analysis").registry]
    assert names == [
        "Code Quality Analysis",
        "Architecture Review",
        "Performance Analysis",
        "Security Audit",
        "Dependency Analysis",
        "Test Coverage Analysis",
    ]


@pytest.mark.parametrize("worker", sorted(WORKERS))
def test_every_perspective_has_its_own_test_module(worker: str) -> None:
    for perspective in worker_spec(worker).registry:
        module = TESTS / f"test_perspective_{perspective.id}.py"
        assert module.exists(), f"{perspective.name} has no {module.name}"
        assert "def test_" in module.read_text()


class _Named:
    id: ClassVar[str] = "a"
    name: ClassVar[str] = "A"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        return PerspectiveResult(summary="")


class _SameName(_Named):
    id: ClassVar[str] = "b"


def test_registry_refuses_a_duplicate_name_naming_both() -> None:
    with pytest.raises(
        ConfigError, match=r"'A' \('b'\) is registered twice; it clashes with 'A' \('a'\)"
    ):
        Registry([_Named(), _SameName()])


def test_unknown_worker_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="no worker named 'nope'; choose one of: analysis"):
        worker_spec("nope")


def test_no_perspective_module_imports_another_perspective_module() -> None:
    import ast

    package = Path(__file__).parent.parent / "shared" / "autocoder" / "workers"
    for module in package.glob("*/perspectives/[!_]*.py"):
        tree = ast.parse(module.read_text())
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        others = [
            name for name in imported
            if ".perspectives." in name and not name.rsplit(".", 1)[-1].startswith("_")
        ]  # fmt: skip
        assert not others, (
            f"{module.name} imports perspectives {others}: use a private helper module"
        )
