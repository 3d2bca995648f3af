"""Risk Analysis: the blast radius of the chosen change and a level given by a stated rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autocoder.cli import main
from autocoder.workers.implementation.stages.risk_analysis import level

from patchkit import make_repo
from stagekit import Chain

PUBLIC: dict[str, Any] = {"public": True}
PRIVATE: dict[str, Any] = {"public": False}


def test_an_unsafe_change_to_public_api_with_a_caller_is_high_risk_and_says_why(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    result = Chain(*analysed_target, tmp_path).through("risk_analysis")
    content = result.details["content"]
    assert content["level"] == "high"
    assert content["because"] == (
        "a change that is not safe by construction to public API with 1 caller"
    )
    assert content["public_api"]["public"] is True
    assert content["tests_referring"] == ["tests/test_config.py"]
    assert content["change"] == {"fixer": "libcst:yaml-safe-load", "safe": False,
                                 "files": ["pkg/config.py"], "changed_lines": 1}  # fmt: skip
    assert "AUTOCODER_RUN_TARGET_TESTS=1" in content["coverage"]
    assert "(1 line changed)" in result.summary


@pytest.mark.parametrize(
    ("safe", "public", "callers", "tests", "expected"),
    [
        (False, PUBLIC, 0, [], "high"),  # public, unsafe, nothing checks it
        (False, PUBLIC, 0, ["tests/t.py"], "medium"),  # unsafe but tested, no caller
        (False, PRIVATE, 4, [], "medium"),
        (True, PUBLIC, 9, [], "medium"),  # safe, but public API no test refers to
        (True, PUBLIC, 9, ["tests/t.py"], "low"),
        (True, None, 0, [], "low"),  # e.g. a new test file, a dependency declaration
    ],
)
def test_the_level_follows_the_rule_in_the_module_docstring(
    safe: bool, public: dict[str, Any] | None, callers: int, tests: list[str], expected: str
) -> None:
    assert level(safe, public, callers, tests)[0] == expected


def test_a_change_in_a_test_file_is_not_judged_as_public_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unused import in a test (Code Quality, the first perspective of the analysis worker):
    test functions are not API, so the safe fix is low risk."""
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    root, data = tmp_path / "target", tmp_path / "data"
    make_repo(root, {"pkg/__init__.py": "", "pkg/core.py": "def f():\n    return 1\n",
                     "tests/test_core.py": "import os\n\nfrom pkg.core import f\n\n\n"
                                           "def test_f():\n    assert f() == 1\n"})  # fmt: skip
    argv = ["once", "analysis", "--target", str(root), "--data-dir", str(data),
            "--iterations", "1"]  # fmt: skip
    assert main(argv) == 0
    content = Chain(root, data, tmp_path).through("risk_analysis").details["content"]
    assert content["public_api"] is None
    assert (content["level"], content["change"]["files"]) == ("low", ["tests/test_core.py"])
