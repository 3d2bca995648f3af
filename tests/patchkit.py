"""What the tests of patches build: a git repository with a commit, a real diff against it, and
the implementation worker's dataset holding patch rows, written by the real LocalStore."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from autocoder.schema import (
    PATCHES,
    RECORDS,
    PatchRow,
    PatchStatus,
    Record,
    TargetRef,
    utc_timestamp,
)
from autocoder.store.local import LocalStore
from autocoder.workers.catalog import worker_info

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e.x", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin",
}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    env = {**GIT_ENV, "HOME": str(repo)}
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def make_repo(root: Path, files: dict[str, str]) -> str:
    """``root`` as a git repository with ``files`` in one commit; the commit's id."""
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return git(root, "rev-parse", "HEAD")


def diff_of(repo: Path, changes: dict[str, str]) -> str:
    """The unified diff (a/ b/ prefixes) that makes ``changes`` to ``repo`` at HEAD, made by
    git; the work tree is back at HEAD afterwards."""
    write_files(repo, changes)
    git(repo, "add", "-A")
    diff = subprocess.run(
        ["git", "diff", "--cached"], cwd=repo, check=True, capture_output=True, text=True,
        env={**GIT_ENV, "HOME": str(repo)},
    ).stdout  # fmt: skip
    git(repo, "reset", "-q", "--hard", "HEAD")
    git(repo, "clean", "-qfd")
    return diff


def patch_row(
    iteration: int, patch_id: str, diff: str, base: str | None, status: PatchStatus, **fields: Any
) -> PatchRow:
    values: dict[str, Any] = {
        "iteration": iteration, "timestamp": utc_timestamp(), "worker": "implementation",
        "perspective_name": "Implementation Plan", "repo": "target", "commit": base,
        "id": patch_id, "item_id": f"item-{patch_id[-4:]}", "fingerprints": ["f" * 16],
        "spec_ids": [], "base_commit": base, "fixer": "ruff", "files": ["mod.py"], "diff": diff,
        "status": status, "failed_step": "", "evidence": {"applies": "ok"},
    }  # fmt: skip
    return PatchRow(**{**values, **fields})


def write_patches(data_dir: Path, iterations: list[list[PatchRow]]) -> Path:
    """The implementation worker's dataset under ``data_dir``: one Implementation Plan record
    per entry of ``iterations``, with those patch rows; the dataset folder."""
    info = worker_info("implementation")
    folder = data_dir / info.dataset
    store = LocalStore(folder, info.title, info.description, (RECORDS, PATCHES))
    for number, rows in enumerate(iterations, start=1):
        analysis = {"item_id": rows[0].item_id if rows else "", "patches": [r.id for r in rows]}
        record = Record(
            iteration=number, timestamp=utc_timestamp(), worker="implementation",
            perspective_id="implementation_plan", perspective_name="Implementation Plan",
            target=TargetRef(repo="target", commit=None), status="ok", error=None,
            duration_s=0.5, analysis=analysis, cumulative_insights={},
        )  # fmt: skip
        store.append(record, {PATCHES.name: list(rows)}, {})
    return folder
