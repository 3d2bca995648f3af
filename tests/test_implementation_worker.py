"""The implementation worker end to end: the real analysis worker's findings in, six stages, one
item at a time, a patch with an honest label out; and what it does when there is nothing to do,
when the target moves between stages, and when an item was taken already."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from autocoder.cli import main
from autocoder.schema import PATCHES
from autocoder.store.dataset import LocalDataset
from autocoder.store.reader import read_shard, record_paths
from autocoder.workers.implementation.stages import STAGES

STAGE_NAMES = [name for _, name in STAGES]
IMPLEMENTATION = "autocoder-implementation-results"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")


def once(worker: str, target: Path, data: Path, iterations: int) -> None:
    argv = ["once", worker, "--target", str(target), "--data-dir", str(data),
            "--iterations", str(iterations)]  # fmt: skip
    assert main(argv) == 0


def records(data: Path) -> list[dict[str, Any]]:
    dataset = LocalDataset(data / IMPLEMENTATION)
    return [row for path in record_paths(dataset) for row in read_shard(dataset, path)]


def patches(data: Path) -> list[dict[str, Any]]:
    folder = data / IMPLEMENTATION / PATCHES.folder
    return [json.loads(line) for f in sorted(folder.rglob("*.jsonl"))
            for line in f.read_text().splitlines()]  # fmt: skip


def test_without_peer_datasets_every_stage_says_why_and_nothing_is_invented(
    shop_repo: Path, tmp_path: Path
) -> None:
    once("implementation", shop_repo, tmp_path / "data", 6)
    rows = records(tmp_path / "data")
    assert [r["perspective_name"] for r in rows] == STAGE_NAMES
    assert {r["status"] for r in rows} == {"skipped"}
    assert "no work items at this commit" in rows[0]["error"]
    assert "no Security Audit record in autocoder-analysis-results" in rows[0]["error"]
    assert "Deep Understanding has not taken an item yet" in rows[1]["error"]
    assert all(r["analysis"]["code_changes"] == {"file": "", "code": "", "diff": "",
                                                 "language": ""} for r in rows)  # fmt: skip
    assert patches(tmp_path / "data") == []


def test_one_item_moves_through_the_six_stages_to_a_checked_patch(
    shop_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    once("analysis", shop_repo, data, 6)
    once("implementation", shop_repo, data, 6)
    rows = records(data)
    assert [r["perspective_name"] for r in rows] == STAGE_NAMES
    assert [r["status"] for r in rows] == ["ok"] * 6, [r["error"] for r in rows]
    assert len({r["analysis"]["item_id"] for r in rows}) == 1
    assert [len(r["analysis"]["previous_stages"]) for r in rows] == [0, 1, 2, 3, 4, 5]
    assert [s["stage"] for s in rows[-1]["analysis"]["previous_stages"]] == STAGE_NAMES[:5]
    plan = rows[-1]["analysis"]
    changed = plan["code_changes"]
    assert (
        changed["diff"].startswith("diff --git a/")
        and f"+++ b/{changed['file']}" in changed["diff"]
    )
    assert changed["code"] != (shop_repo / changed["file"]).read_text()
    (patch,) = patches(data)
    assert patch["id"] == plan["patch_id"] and patch["item_id"] == plan["item_id"]
    assert patch["status"] == "checked", patch["evidence"]
    assert plan["verification"]["status"] == "checked"
    assert "AUTOCODER_RUN_TARGET_TESTS" in json.dumps(plan["verification"])
    assert _git(shop_repo, "status", "--porcelain") == ""  # the user's checkout is untouched
    capsys.readouterr()
    assert main(["latest", "implementation", "--data-dir", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["analysis"]["patch_id"] == patch["id"]


def test_a_second_round_takes_another_item_at_the_same_commit(
    shop_repo: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    once("analysis", shop_repo, data, 6)
    once("implementation", shop_repo, data, 12)
    taken = [r["analysis"]["item_id"] for r in records(data)
             if r["perspective_name"] == "Deep Understanding"]  # fmt: skip
    assert len(taken) == 2 and taken[0] != taken[1]


def test_a_target_that_moves_between_stages_fails_the_stage_and_the_chain_says_so(
    shop_repo: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    once("analysis", shop_repo, data, 6)
    once("implementation", shop_repo, data, 2)
    (shop_repo / "NOTES.md").write_text("moved on\n")
    _git(shop_repo, "add", "-A")
    _git(shop_repo, "commit", "-q", "-m", "later")
    once("implementation", shop_repo, data, 2)
    third, fourth = records(data)[2:4]
    assert third["status"] == "error" and "the target moved from" in third["error"]
    assert fourth["status"] == "skipped"
    assert "the item stopped after Architectural Analysis" in fourth["error"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True,
        env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@e.x", "HOME": str(repo), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()  # fmt: skip


def test_with_the_target_tests_allowed_a_patch_is_verified_by_the_run(
    shop_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative folders too: the tests run in a folder of their own, not where the user is."""
    monkeypatch.setenv("AUTOCODER_RUN_TARGET_TESTS", "1")
    monkeypatch.chdir(tmp_path)
    once("analysis", shop_repo, Path("data"), 6)
    once("implementation", shop_repo, Path("data"), 6)
    (patch,) = patches(tmp_path / "data")
    steps = {s["name"]: s for s in patch["evidence"]["steps"]}
    assert patch["status"] == "verified", steps
    assert steps["tests"]["status"] == "passed" and "tests passed" in steps["tests"]["detail"]
