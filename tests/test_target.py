"""Targets: a directory, a git URL cloned shallowly and fetched again, clear errors, and the
snapshot of their files."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autocoder.engine.sources import SourceFiles
from autocoder.engine.target import Checkout, Target, auth_header, public_url
from autocoder.errors import TargetError

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e.x",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e.x",
    "PATH": "/usr/bin:/bin",
}


def test_directory_target_reports_its_commit(shop_repo: Path, tmp_path: Path) -> None:
    checkout = Target(str(shop_repo), tmp_path / "clones").prepare()
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=shop_repo, capture_output=True, text=True
    ).stdout.strip()
    assert checkout.root == shop_repo.resolve()
    assert checkout.commit == head


def test_directory_without_git_has_no_commit(shop_dir: Path, tmp_path: Path) -> None:
    assert Target(str(shop_dir), tmp_path / "clones").prepare().commit is None


def test_missing_directory_names_the_value_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        TargetError,
        match=r"AUTOCODER_TARGET='.*nowhere' does not exist; give a directory or a git URL",
    ):
        Target(str(tmp_path / "nowhere"), tmp_path / "clones").prepare()


def test_file_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    with pytest.raises(TargetError, match="is a file, not a directory"):
        Target(str(tmp_path / "a.py"), tmp_path / "clones").prepare()


def test_git_url_is_cloned_shallowly_and_fetched_again(shop_repo: Path, tmp_path: Path) -> None:
    target = Target(f"file://{shop_repo}", tmp_path / "clones", fetch_interval_s=0)
    first = target.prepare()
    assert (first.root / "shop" / "orders.py").exists()
    assert first.repo == f"file://{shop_repo}"
    (shop_repo / "shop" / "new.py").write_text("VALUE = 1\n")
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e.x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e.x",
    }
    subprocess.run(["git", "add", "-A"], cwd=shop_repo, check=True)
    subprocess.run(
        ["git", "commit", "-qm", "more"],
        cwd=shop_repo,
        check=True,
        env={**env, "PATH": "/usr/bin:/bin"},
    )
    assert target.current().commit == first.commit  # a reader beside the worker: no fetch
    second = target.prepare()
    assert second.commit != first.commit
    assert (second.root / "shop" / "new.py").exists()


def test_clone_failure_names_the_url_but_never_the_credentials(tmp_path: Path) -> None:
    secret = "s3cr3t-value-in-url"
    target = Target(f"https://user:{secret}@127.0.0.1:9/no/such-repo.git", tmp_path / "clones")
    with pytest.raises(TargetError) as caught:
        target.prepare()  # nothing listens on port 9: git fails at once
    message = str(caught.value)
    assert "git clone of https://127.0.0.1:9/no/such-repo.git failed" in message
    assert secret not in message and secret not in repr(target)


def test_tokens_go_only_to_their_own_host() -> None:
    assert auth_header("https://github.com/o/r.git", "gh-token-value", None) is not None
    assert (
        auth_header("https://evil.example.com/o/r.git", "gh-token-value", "hf-token-value") is None
    )
    assert "Bearer hf-token-value" in (
        auth_header("https://huggingface.co/o/r", None, "hf-token-value") or ""
    )


def test_public_url_strips_credentials() -> None:
    assert public_url("https://user:secret@github.com/o/r.git") == "https://github.com/o/r.git"


def test_an_unchanged_file_keeps_its_hash_and_a_changed_one_is_hashed_again(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    first = SourceFiles.discover(tmp_path)
    digests = {f: first.digest(f) for f in first.files}
    stat_a = (tmp_path / "a.py").stat()
    (tmp_path / "a.py").write_text("x = 3\n")  # same size, and its time put back: not read again
    os.utime(tmp_path / "a.py", ns=(stat_a.st_atime_ns, stat_a.st_mtime_ns))
    (tmp_path / "b.py").write_text("y = 22\n")
    (tmp_path / "c.py").write_text("z = 3\n")
    second = SourceFiles.discover(tmp_path, first)
    assert second.files == ["a.py", "b.py", "c.py"]
    assert second.digest("a.py") == digests["a.py"]
    assert second.digest("b.py") != digests["b.py"]
    assert SourceFiles.discover(tmp_path).digest("a.py") != digests["a.py"]


def test_two_workers_cloning_one_url_at_once_both_get_the_checkout(
    shop_repo: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "shop.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(shop_repo), str(bare)], check=True)
    url = f"file://{bare}"
    start = threading.Barrier(2)

    def prepare_when_both_are_ready(_: int) -> Checkout:
        target = Target(url, tmp_path / "clones", fetch_interval_s=0)  # one per worker
        start.wait()
        return target.prepare()

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(prepare_when_both_are_ready, range(2))
    assert first.root == second.root and first.commit == second.commit is not None
    assert (first.root / "shop" / "orders.py").exists()
    assert not first.root.with_name(first.root.name + ".partial").exists()


def test_a_clone_cut_short_is_cloned_again_not_refused(shop_repo: Path, tmp_path: Path) -> None:
    target = Target(f"file://{shop_repo}", tmp_path / "clones")
    clone = target.prepare().root
    shutil.rmtree(clone / ".git")  # what a killed `git clone` leaves: files, no repository
    assert (target.prepare().root / ".git").is_dir()


def test_a_fetch_is_skipped_while_another_workers_fetch_is_recent(
    shop_repo: Path, tmp_path: Path
) -> None:
    url = f"file://{shop_repo}"
    first = Target(url, tmp_path / "clones", fetch_interval_s=3600).prepare()
    (shop_repo / "later.py").write_text("VALUE = 2\n")
    subprocess.run(["git", "add", "-A"], cwd=shop_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "later"], cwd=shop_repo, check=True, env=GIT_ENV)
    recent = Target(url, tmp_path / "clones", fetch_interval_s=3600).prepare()
    assert recent.commit == first.commit  # the clone is an hour fresh: no fetch
    due = Target(url, tmp_path / "clones", fetch_interval_s=0).prepare()
    assert due.commit != first.commit and (due.root / "later.py").exists()


def test_a_missing_target_names_the_flag_when_it_was_the_flag(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere")
    with pytest.raises(TargetError, match=r"^--target '.*nowhere' does not exist"):
        Target(missing, tmp_path / "clones", given_as="--target").prepare()
    with pytest.raises(TargetError, match=r"^AUTOCODER_TARGET='.*nowhere' does not exist"):
        Target(missing, tmp_path / "clones").prepare()


def test_two_workers_on_one_url_each_read_their_own_clone(shop_repo: Path, tmp_path: Path) -> None:
    from autocoder.apps.service import WorkerService
    from autocoder.settings import Settings
    from autocoder.workers.catalog import worker_spec

    settings = Settings(target=f"file://{shop_repo}", data_dir=tmp_path / "data")
    roots = {
        name: WorkerService(worker_spec(name), settings).target.prepare().root
        for name in ("analysis", "test-planning")
    }
    assert roots["analysis"] != roots["test-planning"]  # one's fetch never resets the other's files
    assert all((root / "shop" / "orders.py").exists() for root in roots.values())
