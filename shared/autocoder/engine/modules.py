"""Where things are in a Python tree: its packages, the dotted name of each file, its tests."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable
from typing import Any

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


# Folder names that hold documentation, examples and benchmarks rather than the product; each
# perspective composes what it leaves out of these.
DOCS_DIRS = frozenset({"docs", "doc"})
EXAMPLE_DIRS = frozenset({"examples", "example"})
BENCH_DIRS = frozenset({"bench", "benchmarks"})
# Folders whose packages are not the project's own code: test suites and their fixture trees,
# documentation and examples, build output and installed environments.
NOT_PROJECT_DIRS = (
    TEST_DIRS
    | DOCS_DIRS
    | EXAMPLE_DIRS
    | frozenset(
        {"fixtures", "build", "dist", "node_modules", "site-packages", "venv", ".venv", "env",
         "__pycache__"}
    )
)  # fmt: skip


def top_level_packages(files: Iterable[str], pyproject: str | None = None) -> dict[str, str]:
    """The project's top-level packages, name -> folder: what ``pyproject.toml`` declares when
    it declares any that exist, else every folder with ``__init__.py`` that is not inside
    another package (``shared/autocoder``, ``src/pkg``, ``pkg``), outside tests, fixtures,
    docs, examples, build output, environments and hidden folders. The shallowest folder wins
    when two packages share a name."""
    dirs = package_dirs(files)
    declared = _declared(dirs, pyproject) if pyproject else {}
    if declared:
        return declared
    found: dict[str, str] = {}
    for folder in sorted(dirs - {""}, key=lambda d: (d.count("/"), d)):
        parent, _, name = folder.rpartition("/")
        if parent in dirs or not name.isidentifier() or _outside_project(folder):
            continue
        found.setdefault(name, folder)
    return dict(sorted(found.items()))


def _outside_project(folder: str) -> bool:
    return any(p in NOT_PROJECT_DIRS or p.startswith(".") for p in folder.split("/"))


def _declared(dirs: set[str], pyproject: str) -> dict[str, str]:
    """The top-level packages ``pyproject.toml`` names that hold an ``__init__.py``."""
    try:
        tool = tomllib.loads(pyproject).get("tool", {})
    except tomllib.TOMLDecodeError:
        return {}
    roots, folders, include = _declarations(tool if isinstance(tool, dict) else {})
    for root in roots:
        prefix = f"{root.strip('/')}/" if root.strip("/.") else ""
        folders += [d for d in dirs if d.startswith(prefix) and "/" not in d[len(prefix) :]]
    found: dict[str, str] = {}
    for folder in sorted({f.strip("/") for f in folders}):
        name = folder.rpartition("/")[2]
        wanted = not include or any(fnmatch.fnmatch(name, p.split(".")[0]) for p in include)
        if folder in dirs and folder and name.isidentifier() and wanted:
            found.setdefault(name, folder)
    return dict(sorted(found.items()))


def _declarations(tool: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(folders to look for packages in, package folders named outright, include patterns)
    from setuptools (``packages.find`` where/include, ``package-dir``, ``packages``), hatch
    (wheel ``packages``), poetry (``packages`` include/from) and flit (``module.name``)."""
    setuptools = _table(tool, "setuptools")
    find = _table(setuptools, "packages", "find")
    package_dir = _table(setuptools, "package-dir")
    base = str(package_dir.get("", ""))
    roots = [str(w) for w in find.get("where", [])] + ([base] if base else [])
    folders = [str(v) for k, v in package_dir.items() if k and "." not in k]
    listed = setuptools.get("packages")
    if isinstance(listed, list):
        folders += [f"{base}/{p}" if base else str(p) for p in listed if "." not in str(p)]
    wheel = _table(tool, "hatch", "build", "targets", "wheel")
    folders += [str(p) for p in wheel.get("packages", []) if isinstance(p, str)]
    for entry in _table(tool, "poetry").get("packages", []):
        if isinstance(entry, dict) and "include" in entry:
            folders.append(f"{entry.get('from', '')}/{entry['include']}")
    if module := _table(tool, "flit", "module").get("name"):
        folders += [str(module), f"src/{module}"]
    return roots, folders, [str(p) for p in find.get("include", [])]


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        value = data.get(key, {})
        data = value if isinstance(value, dict) else {}
    return data
