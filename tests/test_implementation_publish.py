"""The implementation worker publishing what it checked, end to end: the real worker, a git
remote on disk and the fake GitHub API on 127.0.0.1. A checked patch becomes a branch and a
draft pull request only when the user asked for it; the patch row says what was published, or
why not, and no token reaches the dataset."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autocoder.cli import main

from githubserver import GITHUB_TEST_TOKEN, GitHubServer, run_git, running_github
from patchkit import git

IMPLEMENTATION = "autocoder-implementation-results"


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with running_github() as server:
        yield server


@pytest.fixture
def published_target(
    analysed_target: tuple[Path, Path], tmp_path: Path, github: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, Path, Path]:  # fmt: skip
    """A copy of the analysed target whose origin is a bare repository, its analysis data, and
    the settings that publish to GitHub; (target, data, remote)."""
    root, data, remote = tmp_path / "target", tmp_path / "data", tmp_path / "remote.git"
    shutil.copytree(analysed_target[0], root)
    shutil.copytree(analysed_target[1], data)
    run_git(tmp_path, "clone", "-q", "--bare", str(root), str(remote))
    git(root, "remote", "add", "origin", str(remote))
    github.add_repo("octo/pkg")
    for name, value in {"AUTOCODER_PUBLISH": "github", "GITHUB_TOKEN": GITHUB_TEST_TOKEN,
                        "AUTOCODER_GITHUB_API_URL": github.url,
                        "AUTOCODER_GITHUB_REPO": "octo/pkg",
                        "AUTOCODER_NETWORK": "0"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    return root, data, remote


def _patch(data: Path, root: Path) -> dict[str, Any]:
    argv = ["once", "implementation", "--target", str(root), "--data-dir", str(data),
            "--iterations", "6"]  # fmt: skip
    assert main(argv) == 0
    (shard,) = (data / IMPLEMENTATION / "data" / "patches").rglob("*.jsonl")
    row: dict[str, Any] = json.loads(shard.read_text())
    return row


def test_a_checked_patch_is_published_as_a_branch_and_a_draft_pull_request_when_asked(
    published_target: tuple[Path, Path, Path], github: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    root, data, remote = published_target
    monkeypatch.setenv("AUTOCODER_PUBLISH_CHECKED", "1")
    row = _patch(data, root)
    assert row["status"] == "checked" and row["publish_detail"] == "", row["publish_detail"]
    branch = f"autocoder/{row['item_id']}"
    assert (row["published_kind"], row["published_branch"]) == ("github", branch)
    assert "yaml.safe_load(text)" in run_git(remote, "show", f"{branch}:pkg/config.py")
    assert "yaml.load(text)" in run_git(remote, "show", "main:pkg/config.py")  # main untouched
    (created,) = [r for r in github.writes() if r.method == "POST"]
    assert created.path == "/repos/octo/pkg/pulls"
    assert (created.json["head"], created.json["base"], created.json["draft"]) == (
        branch, "main", True)  # fmt: skip
    assert "bandit B506" in created.json["body"] or "B506" in created.json["body"]
    assert row["published_url"] and git(root, "status", "--porcelain") == ""
    for file in (data / IMPLEMENTATION).rglob("*"):
        if file.is_file():
            assert GITHUB_TEST_TOKEN not in file.read_text(errors="replace"), file


def test_without_the_opt_in_a_checked_patch_is_not_published_and_the_row_says_why(
    published_target: tuple[Path, Path, Path], github: GitHubServer
) -> None:
    root, data, remote = published_target
    row = _patch(data, root)
    assert row["status"] == "checked" and row["published_url"] == ""
    assert "AUTOCODER_PUBLISH_CHECKED" in row["publish_detail"], row["publish_detail"]
    assert github.writes() == []
    assert run_git(remote, "branch", "--list", "autocoder/*") == ""
