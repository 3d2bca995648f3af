"""Where things are in a Python tree: its package folders and its test files."""

from __future__ import annotations

from autocoder.engine.sources import SourceFiles


def package_dirs(sources: SourceFiles) -> set[str]:
    """The folders that hold an ``__init__.py`` ("" for the root itself)."""
    return {f.rpartition("/")[0] for f in sources.files if f.rpartition("/")[2] == "__init__.py"}


def is_test_file(path: str) -> bool:
    """test_*.py, *_test.py, conftest.py, or any Python file under a ``tests``/``test`` folder."""
    *dirs, name = path.split("/")
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(d in {"tests", "test"} for d in dirs)
    )
