"""The test-file fixer family: a spec's pytest module added as a new file where the target keeps
its tests, never over an existing file; and whether a spec's tests are in the tree already."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.errors import FixerError
from autocoder.workers.implementation.fixers import test_files
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.workitem import WorkItem, item_id

TEST_CODE = """from pkg.mod import add


def test_add_sums_two_numbers():
    # the plain case
    assert add(1, 2) == 3
"""
ID = item_id("spec", "spec-1")


def _spec(test_code: str = TEST_CODE, kind: str = "spec") -> WorkItem:
    return WorkItem.model_validate({
        "id": ID, "kind": kind, "source": "Test Planning", "tool": "test-planning",
        "rule": "unit", "severity": "info", "file": "pkg/mod.py", "line": 1,
        "message": "add is untested", "spec_ids": ["spec-1"], "subject": "pkg.mod:add",
        "test_code": test_code,
    })  # fmt: skip


def _target(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"pkg/__init__.py": "", "pkg/mod.py": "def add(a, b):\n    return a + b\n",
                       **files}.items():  # fmt: skip
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _only(root: Path, item: WorkItem | None = None) -> Fix:
    [fix] = test_files.fixes(item or _spec(), root, RunOptions())
    return fix


def test_spec_test_goes_into_the_existing_tests_folder_named_from_the_subject(
    tmp_path: Path,
) -> None:
    root = _target(tmp_path, {"tests/test_other.py": "def test_x():\n    pass\n"})
    fix = _only(root)
    assert fix.safe and fix.fixer == "tests:write"
    file = f"tests/test_autocoder_mod_{ID[-8:]}.py"
    assert file in fix.rationale and "spec-1" in fix.rationale
    assert fix.apply(root) == [file]
    assert (root / file).read_text() == TEST_CODE
    assert not (root / "tests/conftest.py").exists()


def test_spec_test_goes_into_the_configured_testpaths_folder(tmp_path: Path) -> None:
    root = _target(tmp_path, {"pytest.ini": "[pytest]\ntestpaths = checks\n",
                              "checks/test_a.py": "", "tests/helper.py": ""})  # fmt: skip
    assert _only(root).apply(root)[0].startswith("checks/test_autocoder_mod_")


def test_spec_test_makes_a_tests_folder_when_the_target_has_none(tmp_path: Path) -> None:
    root = _target(tmp_path, {})
    [file] = _only(root).apply(root)
    assert file.startswith("tests/") and (root / file).is_file()


def test_spec_test_never_overwrites_a_file_of_the_same_name(tmp_path: Path) -> None:
    taken = f"tests/test_autocoder_mod_{ID[-8:]}.py"
    root = _target(tmp_path, {taken: "# someone's own test\n"})
    [file] = _only(root).apply(root)
    assert file == f"tests/test_autocoder_mod_{ID[-8:]}_2.py"
    assert (root / taken).read_text() == "# someone's own test\n"


def test_spec_fixer_offers_nothing_for_a_finding_or_an_empty_spec(tmp_path: Path) -> None:
    root = _target(tmp_path, {})
    assert test_files.fixes(_spec(kind="finding"), root, RunOptions()) == []
    assert test_files.fixes(_spec(test_code="  \n"), root, RunOptions()) == []


def test_spec_fixer_refuses_code_that_does_not_parse_or_has_no_test(tmp_path: Path) -> None:
    root = _target(tmp_path, {})
    with pytest.raises(FixerError, match="does not parse"):
        test_files.fixes(_spec(test_code="def test_x(:\n"), root, RunOptions())
    with pytest.raises(FixerError, match="no test function"):
        test_files.fixes(_spec(test_code="def helper():\n    pass\n"), root, RunOptions())


def test_spec_is_in_tree_when_its_test_is_there_with_other_comments_and_spacing(
    tmp_path: Path,
) -> None:
    reformatted = ("from pkg.mod import add\n\ndef test_add_sums_two_numbers():\n"
                   "    assert add(1,   2) == 3  # same test\n")  # fmt: skip
    root = _target(tmp_path, {"tests/test_mine.py": reformatted})
    assert test_files.test_in_tree(SourceFiles.discover(root), TEST_CODE)


def test_spec_is_not_in_tree_when_the_test_differs_or_is_outside_test_files(
    tmp_path: Path,
) -> None:
    changed = TEST_CODE.replace("== 3", "== 4")
    root = _target(tmp_path, {"tests/test_mine.py": changed, "pkg/copy_of.py": TEST_CODE})
    sources = SourceFiles.discover(root)
    assert not test_files.test_in_tree(sources, TEST_CODE)
    assert not test_files.test_in_tree(sources, "def test_x(:\n")


GUARDED = """import importlib
import pytest

for _module in ("pkg.mod",):  # skip where this environment
    try:  # cannot import the code under test (a driver, a native library, settings)
        importlib.import_module(_module)
    except Exception as error:
        reason = f"environment: cannot import {_module}: {error!r}"
        pytest.skip(reason[:500], allow_module_level=True)

import pkg.mod as target_module
import pytest
from pkg.mod import add


def test_add_sums_two_numbers():
    assert add(1, 2) == 3
"""


def test_a_written_test_fails_where_its_subject_cannot_be_imported_and_its_imports_are_tidy(
    tmp_path: Path,
) -> None:
    """The worker's own runs skip a test whose subject this environment cannot import; in the
    team's tree it must fail instead, and a reviewer gets no unused or repeated import."""
    root = _target(tmp_path / "target", {"tests/test_other.py": ""})
    scratch = _target(tmp_path / "scratch", {"tests/test_other.py": ""})
    [file] = _only(root, _spec(GUARDED)).apply(scratch)
    assert (scratch / file).read_text() == (
        "from pkg.mod import add\n\n\ndef test_add_sums_two_numbers():\n    assert add(1, 2) == 3\n"
    )
    assert test_files.without_environment_skip(TEST_CODE) == TEST_CODE  # nothing to drop
