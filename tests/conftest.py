"""Shared fixtures. The fixture repositories under tests/fixtures are targets, not tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# Before anything imports huggingface_hub or datasets: points them at the test Hub on 127.0.0.1.
from hubserver import hub, hub_server  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"
collect_ignore = ["fixtures"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True,
        env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@e.x", "HOME": str(repo), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    """A copy of the fixture repo 'shop' (known defects), not under git."""
    target = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", target)
    return target


@pytest.fixture
def shop_repo(shop_dir: Path) -> Path:
    """The fixture repo 'shop' as a git repository with one commit."""
    _git(shop_dir, "init", "-q", "-b", "main")
    _git(shop_dir, "add", "-A")
    _git(shop_dir, "commit", "-q", "-m", "initial")
    return shop_dir


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    """A copy of the fixture repo 'ledger' (routes, a CLI, CI config), not under git."""
    target = tmp_path / "ledger"
    shutil.copytree(FIXTURES / "ledger", target)
    return target


@pytest.fixture
def ledger_repo(ledger_dir: Path) -> Path:
    """The fixture repo 'ledger' as a git repository with one commit."""
    _git(ledger_dir, "init", "-q", "-b", "main")
    _git(ledger_dir, "add", "-A")
    _git(ledger_dir, "commit", "-q", "-m", "initial")
    return ledger_dir


@pytest.fixture(scope="session")
def analysed_target(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """stagekit.TARGET as a git repository and a data folder holding the real analysis worker's
    six records on it: what the implementation stages read. Tests must not change either."""
    from autocoder.cli import main

    from patchkit import make_repo
    from stagekit import TARGET

    base = tmp_path_factory.mktemp("analysed")
    root, data = base / "target", base / "data"
    make_repo(root, TARGET)
    before = os.environ.get("AUTOCODER_NETWORK")
    os.environ["AUTOCODER_NETWORK"] = "0"
    try:
        argv = ["once", "analysis", "--target", str(root), "--data-dir", str(data),
                "--iterations", "6"]  # fmt: skip
        assert main(argv) == 0
    finally:
        if before is None:
            del os.environ["AUTOCODER_NETWORK"]
        else:
            os.environ["AUTOCODER_NETWORK"] = before
    return root, data
