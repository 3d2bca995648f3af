"""Implementation Plan: the chosen change made again, verified on a fresh copy, and published as
a patch row whose label says what ran; the record carries the seed's code_changes and
verification."""

from __future__ import annotations

import subprocess
from pathlib import Path

from autocoder.schema import PatchFields

from patchkit import GIT_ENV
from stagekit import Chain


def test_the_patch_row_and_the_record_carry_the_same_checked_change(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    result = Chain(*analysed_target, tmp_path).through("implementation_plan")
    (row,) = result.items
    assert isinstance(row, PatchFields)
    assert (row.status, row.failed_step, row.files) == ("checked", "", ["pkg/config.py"])
    assert row.item_id == result.details["item_id"] and row.id == result.details["patch_id"]
    changes = result.details["code_changes"]
    assert changes["file"] == "pkg/config.py" and changes["language"] == "python"
    assert "data = yaml.safe_load(text)" in changes["code"] and changes["diff"] == row.diff
    steps = {s["name"]: s["status"] for s in row.evidence["steps"]}
    assert steps["finding gone"] == "passed" and steps["tests"] == "not_run"
    assert result.details["verification"]["status"] == "checked"
    assert result.details["test_code"] == ""
    assert result.summary.startswith(f"Implementation Plan of {row.item_id}: {row.id} (")


def test_the_published_diff_applies_to_the_base_commit(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _data = analysed_target
    (row,) = Chain(*analysed_target, tmp_path).through("implementation_plan").items
    assert isinstance(row, PatchFields)
    patch = tmp_path / "fix.patch"
    patch.write_text(row.diff)
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=root, check=True,
                   env={**GIT_ENV, "HOME": str(tmp_path)})  # fmt: skip
