"""Approach Evaluation: each candidate fix made for real on a scratch copy, measured, and one
chosen by a stated rule; the user's checkout is never touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autocoder.errors import FixerError
from autocoder.workers.implementation.stages.approach_evaluation import (
    ApproachEvaluation,
    changed_lines,
)

from patchkit import git
from stagekit import Chain


def test_the_candidate_is_made_on_a_copy_and_its_diff_rewrites_the_flagged_call(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _data = analysed_target
    result = Chain(*analysed_target, tmp_path).through("approach_evaluation")
    (candidate,) = result.details["content"]["candidates"]
    assert candidate["made"] and candidate["files"] == ["pkg/config.py"]
    assert "-    data = yaml.load(text)\n+    data = yaml.safe_load(text)\n" in candidate["diff"]
    assert candidate["changed_lines"] == 1 and candidate["safe"] is False
    assert result.details["content"]["chosen"] == candidate["key"]
    assert result.details["content"]["why"] == "the only candidate that made a change"
    assert git(root, "status", "--porcelain") == ""
    assert "yaml.load(text)" in (root / "pkg" / "config.py").read_text()


def test_when_the_fix_is_no_longer_offered_the_stage_fails_with_the_fixers_reason(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    root = tmp_path / "target"
    shutil.copytree(analysed_target[0], root)
    chain = Chain(root, analysed_target[1], tmp_path)
    chain.through("architectural_analysis")
    (root / "pkg" / "config.py").write_text("def load_config(text):\n    return {}\n")
    handed = chain.results["architectural_analysis"].handoff
    with pytest.raises(
        FixerError, match=r"no candidate fix for item-.* any more: security: yaml_safe_load refused"
    ):
        ApproachEvaluation().run(chain.context(handed, "architectural_analysis"))


@pytest.mark.parametrize(
    ("body", "count"),
    [("-a\n+b\n", 1), ("+a\n+b\n+c\n", 3), ("-a\n-b\n+c\n", 2), (" a\n", 0)],
)
def test_a_line_rewritten_in_place_counts_once(body: str, count: int) -> None:
    assert changed_lines(f"--- a/f.py\n+++ b/f.py\n@@ -1 +1 @@\n{body}") == count
