"""Architectural Analysis: where the item's code sits in the target, read statically: its module's
place in the import graph, the callers of its definition and the tests that refer to it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped, TargetError
from autocoder.workers.implementation.stages.architectural_analysis import ArchitecturalAnalysis

from patchkit import git
from stagekit import Chain


def test_it_names_the_module_its_importers_the_callers_and_the_tests(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    result = Chain(*analysed_target, tmp_path).through("architectural_analysis")
    content = result.details["content"]
    assert (content["module"], content["definition"]) == ("pkg.config", "load_config")
    assert content["imports"]["imported_by_total"] == 1
    assert [(c["file"], c["caller"]) for c in content["callers"]] == [("pkg/app.py", "start")]
    assert content["test_files"] == ["tests/test_config.py"]
    assert result.details["previous_stages"][0]["stage"] == "Deep Understanding"
    assert result.summary.endswith(
        "pkg.config imports 0 first-party modules and is imported by 1 module; load_config has "
        "1 caller and is referred to in 1 test file"
    )


def test_with_no_item_handed_on_it_says_so_instead_of_guessing(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    chain = Chain(*analysed_target, tmp_path)
    with pytest.raises(PerspectiveSkipped, match="Deep Understanding has not taken an item yet"):
        ArchitecturalAnalysis().run(chain.context({}, None))


def test_a_target_that_moved_since_the_item_was_taken_fails_the_stage(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    root = tmp_path / "target"
    shutil.copytree(analysed_target[0], root)
    chain = Chain(root, analysed_target[1], tmp_path)
    taken = chain.through("deep_understanding")
    (root / "NOTES.md").write_text("later\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "later")
    with pytest.raises(TargetError, match=r"the target moved from .* since Deep Understanding"):
        ArchitecturalAnalysis().run(chain.context(taken.handoff, "deep_understanding"))
