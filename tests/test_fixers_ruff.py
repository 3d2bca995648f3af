"""The ruff fixer family: ruff's own edits for the one diagnostic an item names, safe ones as
safe, unsafe ones labelled with ruff's reason, none when ruff has no fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import RunOptions
from autocoder.errors import FixerError
from autocoder.workers.implementation.fixers import ruff_fixes
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.workitem import WorkItem, item_id

FILE = "pkg/mod.py"
TWO_UNUSED = "import os\nimport sys\n\nprint('hello')\n"


def _item(rule: str, line: int, message: str = "", file: str = FILE) -> WorkItem:
    return WorkItem(
        id=item_id("finding", f"ruff{rule}{line}"), kind="finding", source="Code Quality Analysis",
        tool="ruff", rule=rule, severity="medium", file=file, line=line,
        message=message or f"{rule}: flagged",
    )  # fmt: skip


def _target(root: Path, source: str | bytes) -> Path:
    (root / FILE).parent.mkdir(parents=True, exist_ok=True)
    data = source if isinstance(source, bytes) else source.encode()
    (root / FILE).write_bytes(data)
    return root


def _offered(tmp_path: Path, source: str | bytes, item: WorkItem) -> list[Fix]:
    return ruff_fixes.fixes(item, _target(tmp_path / "target", source), RunOptions())


def _applied(tmp_path: Path, fix: Fix, source: str | bytes) -> bytes:
    scratch = _target(tmp_path / "scratch", source)
    assert fix.apply(scratch) == [FILE]
    return (scratch / FILE).read_bytes()


def test_ruff_fix_removes_only_the_items_unused_import_of_two(tmp_path: Path) -> None:
    item = _item("F401", 2, "F401: `sys` imported but unused")
    [fix] = _offered(tmp_path, TWO_UNUSED, item)
    assert fix.safe and fix.fixer == "ruff"
    assert "`sys`" in fix.title and "F401" in fix.title
    assert _applied(tmp_path, fix, TWO_UNUSED) == b"import os\n\nprint('hello')\n"


def test_ruff_fix_leaves_the_target_checkout_untouched(tmp_path: Path) -> None:
    _offered(tmp_path, TWO_UNUSED, _item("F401", 1))
    assert (tmp_path / "target" / FILE).read_text() == TWO_UNUSED


def test_ruff_unsafe_fix_is_offered_as_unsafe_with_ruffs_reason(tmp_path: Path) -> None:
    source = "def f(x):\n    return x == None\n"
    [fix] = _offered(tmp_path, source, _item("E711", 2))
    assert not fix.safe
    assert fix.title.startswith("unsafe:")
    assert "__eq__" in fix.rationale  # from E711's "Fix safety" section in ruff's docs
    assert _applied(tmp_path, fix, source) == b"def f(x):\n    return x is None\n"


def test_ruff_offers_nothing_for_a_rule_without_a_fix(tmp_path: Path) -> None:
    assert _offered(tmp_path, "l = 1\nprint(l)\n", _item("E741", 1)) == []


def test_ruff_offers_nothing_when_the_items_line_has_no_such_diagnostic(tmp_path: Path) -> None:
    assert _offered(tmp_path, TWO_UNUSED, _item("F401", 4)) == []


def test_ruff_picks_the_diagnostic_the_message_names_among_two_on_one_line(
    tmp_path: Path,
) -> None:
    source = "x = 1; import os\nimport sys\nprint(sys)\n"
    [fix] = _offered(tmp_path, source, _item("F401", 1, "F401: `os` imported but unused"))
    assert b"import os" not in _applied(tmp_path, fix, source)


def test_ruff_edits_keep_crlf_line_ends_and_non_ascii_columns(tmp_path: Path) -> None:
    source = "s = 'héllo'\r\nimport os\r\nprint(s == None)\r\n".encode()
    [fix] = _offered(tmp_path, source, _item("E711", 3))
    assert (
        _applied(tmp_path, fix, source)
        == "s = 'héllo'\r\nimport os\r\nprint(s is None)\r\n".encode()
    )


def test_ruff_fix_refuses_when_the_scratch_copy_no_longer_has_the_diagnostic(
    tmp_path: Path,
) -> None:
    [fix] = _offered(tmp_path, TWO_UNUSED, _item("F401", 2, "`sys` imported but unused"))
    with pytest.raises(FixerError, match="no fix for F401"):
        fix.apply(_target(tmp_path / "scratch", "import sys\n\nprint(sys)\n"))


def test_ruff_refuses_an_item_that_names_no_python_file(tmp_path: Path) -> None:
    with pytest.raises(FixerError, match="no Python line"):
        _offered(tmp_path, TWO_UNUSED, _item("F401", 1, file="setup.cfg"))
    with pytest.raises(FixerError, match="is not a file"):
        _offered(tmp_path, TWO_UNUSED, _item("F401", 1, file="pkg/gone.py"))


def test_edited_applies_ruffs_edits_from_the_last_back() -> None:
    edits = [
        {"content": "A", "location": {"row": 1, "column": 1}, "end_location": {"row": 1, "column": 2}},
        {"content": "", "location": {"row": 2, "column": 1}, "end_location": {"row": 3, "column": 1}},
    ]  # fmt: skip
    assert ruff_fixes.edited("ab\ncd\nef\n", edits) == "Ab\nef\n"


OPTIONAL = "from typing import Optional\n\n\ndef f(x: Optional[int]) -> None:\n    pass\n"


def test_ruff_pyupgrade_fix_is_offered_only_when_requires_python_allows_it(
    tmp_path: Path,
) -> None:
    old = tmp_path / "old"
    (old / "pyproject.toml").parent.mkdir(parents=True)
    (old / "pyproject.toml").write_text('[project]\nname = "o"\nrequires-python = ">=3.7"\n')
    assert ruff_fixes.fixes(_item("UP045", 4), _target(old, OPTIONAL), RunOptions()) == []
    new = tmp_path / "new"
    (new / "pyproject.toml").parent.mkdir(parents=True)
    (new / "pyproject.toml").write_text('[project]\nname = "n"\nrequires-python = ">= 3.10"\n')
    [fix] = ruff_fixes.fixes(_item("UP045", 4), _target(new, OPTIONAL), RunOptions())
    assert "py310" in fix.rationale
    assert fix.apply(new) == [FILE]
    assert "def f(x: int | None) -> None:" in (new / FILE).read_text()


def test_target_version_is_the_oldest_python_requires_python_allows(tmp_path: Path) -> None:
    assert ruff_fixes.target_version(tmp_path) == "py37"
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.9,!=3.9.1"\n')
    assert ruff_fixes.target_version(tmp_path) == "py39"


def test_ruff_refuses_to_drop_noqa_codes_another_linter_may_use(tmp_path: Path) -> None:
    source = "import os  # noqa: F401\nx = 1  # noqa: B950\n"
    with pytest.raises(FixerError, match=r"RUF100 .* not fixed"):
        _offered(tmp_path, source, _item("RUF100", 1))
