"""Where a project's top-level packages are: found anywhere in the tree (``shared/autocoder``, as
in this repository) outside tests, fixtures, docs and environments, or as pyproject.toml says."""

from __future__ import annotations

import pytest

from autocoder.engine.modules import top_level_packages

THIS_REPO_LAYOUT = [
    "shared/autocoder/__init__.py",
    "shared/autocoder/cli.py",
    "shared/autocoder/engine/__init__.py",
    "shared/autocoder/engine/worker.py",
    "tests/fixtures/shop/shop/__init__.py",
    "tests/enginekit.py",
    "docs/ext/__init__.py",
    "examples/demo/__init__.py",
    ".venv/lib/site-packages/click/__init__.py",
    "build/lib/autocoder/__init__.py",
    ".hidden/pkg/__init__.py",
    "1_analysis_worker/app.py",
]


def test_a_package_under_a_source_folder_is_found_and_nothing_outside_the_project() -> None:
    assert top_level_packages(THIS_REPO_LAYOUT) == {"autocoder": "shared/autocoder"}


def test_top_level_and_src_packages_are_found_as_before() -> None:
    files = ["pkg/__init__.py", "pkg/sub/__init__.py", "src/other/__init__.py", "setup.py"]
    assert top_level_packages(files) == {"other": "src/other", "pkg": "pkg"}


def test_a_folder_without_init_is_not_a_package() -> None:
    assert top_level_packages(["scripts/tool.py", "shared/notes.py"]) == {}


def test_setuptools_find_where_and_include_choose_the_declared_packages() -> None:
    files = ["lib/core/__init__.py", "lib/extra/__init__.py", "tools/helper/__init__.py"]
    pyproject = '[tool.setuptools.packages.find]\nwhere = ["lib"]\ninclude = ["core*"]\n'
    assert top_level_packages(files, pyproject) == {"core": "lib/core"}
    assert top_level_packages(files) == {
        "core": "lib/core", "extra": "lib/extra", "helper": "tools/helper"
    }  # fmt: skip


@pytest.mark.parametrize(
    "pyproject",
    [
        '[tool.setuptools]\npackage-dir = {"" = "code"}\n',
        '[tool.setuptools]\npackages = ["app"]\npackage-dir = {"" = "code"}\n',
        '[tool.hatch.build.targets.wheel]\npackages = ["code/app"]\n',
        '[[tool.poetry.packages]]\ninclude = "app"\nfrom = "code"\n',
    ],
)
def test_packages_declared_by_setuptools_hatch_or_poetry(pyproject: str) -> None:
    files = ["code/app/__init__.py", "vendor/lib/__init__.py"]
    assert top_level_packages(files, pyproject) == {"app": "code/app"}


def test_flit_module_name_is_looked_for_at_the_top_and_under_src() -> None:
    files = ["src/tool/__init__.py", "helpers/__init__.py"]
    assert top_level_packages(files, '[tool.flit.module]\nname = "tool"\n') == {"tool": "src/tool"}


def test_a_declaration_that_names_no_existing_package_falls_back_to_discovery() -> None:
    files = ["pkg/__init__.py"]
    assert top_level_packages(files, '[tool.setuptools.packages.find]\nwhere = ["src"]\n') == {
        "pkg": "pkg"
    }
    assert top_level_packages(files, "not [valid toml") == {"pkg": "pkg"}
