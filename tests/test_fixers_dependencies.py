"""The dependency fixer family: deptry findings turned into edits of pyproject.toml (comments
and layout kept) or requirements files, and refused where the declaration cannot be edited."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import RunOptions
from autocoder.errors import FixerError
from autocoder.workers.implementation.fixers import dependencies
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.workitem import WorkItem, item_id

PYPROJECT = """\
[project]
name = "demo"
# what the package needs at run time
dependencies = [
    "click>=8",  # the command line
    "requests",
]

[project.optional-dependencies]
dev = [
    "pytest>=7",
    "tomlkit>=0.13",
]
"""
IMPORTED = ": imported but not declared (DEP001)"


def _item(rule: str, message: str, file: str = "pkg/mod.py", line: int = 3) -> WorkItem:
    return WorkItem(
        id=item_id("finding", f"deptry{rule}{message}"), kind="finding",
        source="Dependency Analysis", tool="deptry", rule=rule, severity="medium",
        file=file, line=line, message=message,
    )  # fmt: skip


def _target(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _only(root: Path, item: WorkItem) -> Fix:
    [fix] = dependencies.fixes(item, root, RunOptions())
    return fix


def test_dep001_adds_the_distribution_to_project_dependencies_keeping_comments(
    tmp_path: Path,
) -> None:
    root = _target(tmp_path, {"pyproject.toml": PYPROJECT})
    fix = _only(root, _item("DEP001", f"'yaml' is imported here{IMPORTED}"))
    assert fix.safe and "PyYAML" in fix.title
    assert "worker's own environment" in fix.rationale  # where the name came from
    assert fix.apply(root) == ["pyproject.toml"]
    text = (root / "pyproject.toml").read_text()
    assert '    "requests",\n    "PyYAML",\n]' in text
    assert "# what the package needs at run time" in text and "# the command line" in text


def test_dep001_falls_back_to_the_module_name_and_says_so(tmp_path: Path) -> None:
    root = _target(tmp_path, {"requirements.txt": "click>=8\n"})
    fix = _only(root, _item("DEP001", f"'nosuchmodule_xyz' is imported here{IMPORTED}"))
    assert "module name is taken as the distribution name" in fix.rationale
    assert fix.apply(root) == ["requirements.txt"]
    assert (root / "requirements.txt").read_text() == "click>=8\nnosuchmodule_xyz\n"


def test_dep001_refuses_dynamic_dependencies_and_a_target_without_declarations(
    tmp_path: Path,
) -> None:
    dynamic = '[project]\nname = "d"\ndynamic = ["dependencies"]\n'
    root = _target(tmp_path / "a", {"pyproject.toml": dynamic})
    with pytest.raises(FixerError, match="dynamic"):
        dependencies.fixes(_item("DEP001", f"'yaml'{IMPORTED}"), root, RunOptions())
    bare = _target(tmp_path / "b", {"setup.py": "from setuptools import setup\nsetup()\n"})
    with pytest.raises(FixerError, match="no runtime dependency declaration"):
        dependencies.fixes(_item("DEP001", f"'yaml'{IMPORTED}"), bare, RunOptions())


def test_dep001_follows_setuptools_dynamic_dependencies_to_their_file(tmp_path: Path) -> None:
    dynamic = ('[project]\nname = "d"\ndynamic = ["dependencies"]\n\n[tool.setuptools.dynamic]\n'
               'dependencies = {file = ["reqs/base.txt"]}\n')  # fmt: skip
    root = _target(tmp_path, {"pyproject.toml": dynamic, "reqs/base.txt": "click\n"})
    assert _only(root, _item("DEP001", f"'tomlkit'{IMPORTED}")).apply(root) == ["reqs/base.txt"]
    assert (root / "reqs/base.txt").read_text() == "click\ntomlkit\n"


def test_dep001_refuses_a_name_declared_already(tmp_path: Path) -> None:
    root = _target(tmp_path, {"pyproject.toml": PYPROJECT})
    with pytest.raises(FixerError, match=r"declared in pyproject\.toml"):
        dependencies.fixes(_item("DEP001", f"'requests'{IMPORTED}"), root, RunOptions())


def test_dep002_removes_only_the_named_requirement_from_pyproject(tmp_path: Path) -> None:
    root = _target(tmp_path, {"pyproject.toml": PYPROJECT})
    item = _item("DEP002", "'requests' is declared but no code imports it (DEP002)",
                 file="pyproject.toml", line=6)  # fmt: skip
    fix = _only(root, item)
    assert not fix.safe  # users relying on it being installed lose it
    assert fix.apply(root) == ["pyproject.toml"]
    assert (root / "pyproject.toml").read_text() == PYPROJECT.replace('    "requests",\n', "")


def test_dep002_refuses_a_line_that_declares_another_requirement(tmp_path: Path) -> None:
    root = _target(tmp_path, {"pyproject.toml": PYPROJECT})
    item = _item("DEP002", "'requests' is declared (DEP002)", file="pyproject.toml", line=5)
    with pytest.raises(FixerError, match="0 matching requirements"):
        dependencies.fixes(item, root, RunOptions())


def test_dep002_removes_the_line_from_a_requirements_file(tmp_path: Path) -> None:
    text = "# runtime\nclick>=8\nrequests==2.32.3  # http\n"
    root = _target(tmp_path, {"requirements.txt": text})
    item = _item("DEP002", "'requests' is declared (DEP002)", file="requirements.txt", line=3)
    assert _only(root, item).apply(root) == ["requirements.txt"]
    assert (root / "requirements.txt").read_text() == "# runtime\nclick>=8\n"


def test_dep002_refuses_a_file_pip_compile_wrote(tmp_path: Path) -> None:
    text = "#\n# This file is autogenerated by pip-compile with Python 3.11\n#\nrequests==2.32.3\n"
    root = _target(tmp_path, {"requirements.txt": text})
    item = _item("DEP002", "'requests' is declared (DEP002)", file="requirements.txt", line=4)
    with pytest.raises(FixerError, match=r"\.in file"):
        dependencies.fixes(item, root, RunOptions())


def test_dep004_moves_the_dev_declaration_as_written_to_the_runtime_list(tmp_path: Path) -> None:
    root = _target(tmp_path, {"pyproject.toml": PYPROJECT})
    message = ("'tomlkit' is imported here but declared only for development "
               "(pyproject.toml:12): development dependency imported by code the package "
               "ships (DEP004)")  # fmt: skip
    assert _only(root, _item("DEP004", message)).apply(root) == ["pyproject.toml"]
    text = (root / "pyproject.toml").read_text()
    assert '    "requests",\n    "tomlkit>=0.13",\n]' in text
    assert 'dev = [\n    "pytest>=7",\n]' in text


def test_dep004_from_a_dev_requirements_file_to_requirements_txt(tmp_path: Path) -> None:
    root = _target(
        tmp_path, {"requirements.txt": "click\n", "requirements-dev.txt": "pytest\nrich>=13\n"}
    )
    message = "'rich' is imported here but declared only for development (requirements-dev.txt:2)"
    fix = _only(root, _item("DEP004", message))
    assert fix.apply(root) == ["requirements-dev.txt", "requirements.txt"]
    assert (root / "requirements.txt").read_text() == "click\nrich>=13\n"
    assert (root / "requirements-dev.txt").read_text() == "pytest\n"


def test_poetry_dependencies_get_a_bare_name_as_any_version(tmp_path: Path) -> None:
    poetry = '[tool.poetry.dependencies]\npython = "^3.10"  # supported\nclick = "^8"\n'
    root = _target(tmp_path, {"pyproject.toml": poetry})
    _only(root, _item("DEP001", f"'nosuchmodule_xyz'{IMPORTED}")).apply(root)
    assert (root / "pyproject.toml").read_text() == poetry + 'nosuchmodule_xyz = "*"\n'


def test_deptry_family_ignores_other_tools_and_refuses_a_message_without_a_name(
    tmp_path: Path,
) -> None:
    root = _target(tmp_path, {"pyproject.toml": PYPROJECT})
    other = _item("DEP001", "'yaml'").model_copy(update={"tool": "ruff"})
    assert dependencies.fixes(other, root, RunOptions()) == []
    with pytest.raises(FixerError, match="no package name"):
        dependencies.fixes(_item("DEP001", "yaml is missing"), root, RunOptions())


def test_offering_a_dependency_fix_leaves_the_checkout_untouched_and_keeps_crlf(
    tmp_path: Path,
) -> None:
    crlf = PYPROJECT.replace("\n", "\r\n").encode()
    root = tmp_path / "t"
    root.mkdir()
    (root / "pyproject.toml").write_bytes(crlf)
    fix = _only(root, _item("DEP001", f"'yaml'{IMPORTED}"))
    assert (root / "pyproject.toml").read_bytes() == crlf
    fix.apply(root)
    assert b'    "requests",\r\n' in (root / "pyproject.toml").read_bytes()
    assert b"# the command line\r\n" in (root / "pyproject.toml").read_bytes()


def test_dep004_refuses_a_poetry_caret_constraint_it_cannot_write_as_pep_508(
    tmp_path: Path,
) -> None:
    poetry = ('[project]\nname = "p"\ndependencies = []\n\n[tool.poetry.group.dev.dependencies]\n'
              'rich = "^13"\n')  # fmt: skip
    root = _target(tmp_path, {"pyproject.toml": poetry})
    message = "'rich' is imported here but declared only for development (pyproject.toml:6)"
    with pytest.raises(FixerError, match="no PEP 508 form"):
        dependencies.fixes(_item("DEP004", message), root, RunOptions())
