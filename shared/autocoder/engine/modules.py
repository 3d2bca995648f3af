"""Where things are in a Python tree: its packages, the dotted name of each file, its tests."""

from __future__ import annotations

from collections.abc import Iterable

TEST_DIRS = frozenset({"tests", "test", "testing"})


def package_dirs(files: Iterable[str]) -> set[str]:
    """The folders that hold an ``__init__.py`` ("" for the root itself)."""
    return {f.rpartition("/")[0] for f in files if f.rpartition("/")[2] == "__init__.py"}


def module_name(path: str, packages: set[str]) -> str:
    """The dotted name a file is imported by, walking up its ``__init__.py`` chain:
    ``shop/pricing.py`` -> ``shop.pricing``, ``src/pkg/__init__.py`` -> ``pkg``,
    ``shared/autocoder/cli.py`` -> ``autocoder.cli`` (``shared/`` is a source folder). A file
    outside any package is named from the root as a namespace package (``scripts/tool.py`` ->
    ``scripts.tool``; ``src/tool.py`` -> ``tool``)."""
    dirs = path.split("/")[:-1]
    start = len(dirs)
    while start > 0 and "/".join(dirs[:start]) in packages:
        start -= 1
    if start == len(dirs):  # not in a package
        start = 1 if dirs[:1] == ["src"] else 0
    parts = path.removesuffix(".py").split("/")[start:]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_test_file(path: str) -> bool:
    """test_*.py, *_test.py, conftest.py, or any Python file under a tests/test/testing folder."""
    *dirs, name = path.split("/")
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(d in TEST_DIRS for d in dirs)
    )
