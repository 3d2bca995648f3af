"""Shared fixtures. The fixture repositories under tests/fixtures are targets, not tests."""

from __future__ import annotations

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
