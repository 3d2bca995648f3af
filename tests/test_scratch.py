"""A scratch copy of the target at a commit: exactly its tracked files, writable, removed
afterwards, and nothing written to it ever reaches the user's checkout or its .git."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from autocoder.engine.scratch import safe_parts, scratch_copy
from autocoder.engine.target import Checkout, Target
from autocoder.errors import TargetError

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.x", "PATH": "/usr/bin:/bin"}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    env = {**GIT_ENV, "HOME": str(repo)}
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)
    return done.stdout.decode().strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def snapshot(root: Path) -> dict[str, str]:
    """Every path below ``root`` (.git included) -> a hash of its bytes, link target or mode."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest() + oct(path.stat().st_mode)
        else:
            found[rel] = "dir" + oct(path.stat().st_mode)
    return found


def tree_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "core.py").write_text("VALUE = 1\n")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    (root / "data.bin").write_bytes(bytes(range(256)) * 8192)  # 2 MiB, not text
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "first")
    return root


def test_writes_to_the_copy_never_reach_the_checkout_or_its_git(repo: Path, tmp_path: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    before = snapshot(repo)
    with scratch_copy(Checkout(repo, str(repo), head), head, tmp_path / "scratch") as copy:
        assert not copy.is_relative_to(repo)
        (copy / "pkg" / "core.py").write_text("VALUE = 2\n")
        (copy / "pkg" / "new.py").write_text("x = 1\n")
        (copy / "run.sh").unlink()
        (copy / "pkg" / "__init__.py").chmod(0o600)
    assert snapshot(repo) == before  # every byte, the .git folder's included
    assert git(repo, "status", "--porcelain") == ""


def test_the_copy_holds_exactly_the_commit_tracked_files(repo: Path, tmp_path: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "pkg" / "core.py").write_text("VALUE = 'second'\n")
    (repo / "pkg" / "added.py").write_text("")
    second = commit_all(repo, "second")
    (repo / "pkg" / "core.py").write_text("VALUE = 'not committed'\n")
    (repo / "untracked.py").write_text("")
    with scratch_copy(repo, first, tmp_path / "scratch") as copy:
        assert tree_files(copy) == git(repo, "ls-tree", "-r", "--name-only", first).split("\n")
        assert (copy / "pkg" / "core.py").read_text() == "VALUE = 1\n"
        assert (copy / "data.bin").read_bytes() == (repo / "data.bin").read_bytes()
        assert (copy / "run.sh").stat().st_mode & 0o777 == 0o755
        assert (copy / "pkg" / "core.py").stat().st_mode & 0o777 == 0o644
        assert not (copy / ".git").exists()
    with scratch_copy(repo, second, tmp_path / "scratch") as copy:
        assert (copy / "pkg" / "core.py").read_text() == "VALUE = 'second'\n"
        assert "pkg/added.py" in tree_files(copy) and "untracked.py" not in tree_files(copy)


def test_the_copy_is_removed_afterwards_also_after_an_error(repo: Path, tmp_path: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    with scratch_copy(repo, head, tmp_path / "scratch") as copy:
        (copy / "locked").mkdir()
        (copy / "locked" / "file").write_text("x")
        (copy / "locked").chmod(0o500)
    assert not copy.exists()
    with pytest.raises(RuntimeError), scratch_copy(repo, head, tmp_path / "scratch") as copy:
        raise RuntimeError("the worker's patch failed")
    assert not copy.exists() and list((tmp_path / "scratch").iterdir()) == []


def test_no_attribute_filter_or_export_rule_of_the_target_applies(
    repo: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "filter-ran"
    (repo / ".gitattributes").write_text(
        "tests/ export-ignore\nversion.py export-subst\n*.txt filter=evil text eol=crlf\n"
    )
    (repo / "tests").mkdir()
    (repo / "tests" / "test_core.py").write_text("def test_x():\n    pass\n")
    (repo / "version.py").write_text("COMMIT = '$Format:%H$'\n")
    (repo / "notes.txt").write_text("line one\nline two\n")
    head = commit_all(repo, "attributes")
    git(repo, "config", "filter.evil.smudge", f"touch {marker}; cat")
    with scratch_copy(repo, head, tmp_path / "scratch") as copy:
        assert (copy / "tests" / "test_core.py").exists()
        assert (copy / "version.py").read_text() == "COMMIT = '$Format:%H$'\n"
        assert (copy / "notes.txt").read_bytes() == b"line one\nline two\n"
    assert not marker.exists()


def test_symlinks_stay_only_when_they_stay_inside_the_copy(repo: Path, tmp_path: Path) -> None:
    (repo / "inside").symlink_to("pkg/core.py")
    (repo / "up").symlink_to("../../outside")
    (repo / "absolute").symlink_to("/etc/passwd")
    (repo / "dot").symlink_to(".")
    (repo / "through").symlink_to("dot/..")  # lexically inside, really the repo's parent
    head = commit_all(repo, "links")
    with scratch_copy(repo, head, tmp_path / "scratch") as copy:
        assert os.readlink(copy / "inside") == "pkg/core.py"
        assert (copy / "inside").read_text() == "VALUE = 1\n"
        for dropped in ("up", "absolute", "through"):
            assert not (copy / dropped).is_symlink(), dropped
        assert (copy / "dot").is_symlink()


def test_a_tree_entry_that_would_leave_the_copy_is_refused(repo: Path, tmp_path: Path) -> None:
    assert safe_parts("pkg/core.py") == ("pkg", "core.py")
    for bad in ("../x", "a/../../x", "/etc/passwd", ".git/hooks/pre-commit", "a/.GIT/config",
                "a//b", "a/./b", "a\\..\\b"):  # fmt: skip
        assert safe_parts(bad) is None, bad
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"escaped\n",
        capture_output=True, check=True,
    ).stdout.decode().strip()  # fmt: skip
    tree = subprocess.run(
        ["git", "mktree"], cwd=repo, capture_output=True, check=True,
        input=f"100644 blob {blob}\t..\n100644 blob {blob}\t.git\n100644 blob {blob}\tok\n".encode(),
    ).stdout.decode().strip()  # fmt: skip
    bad_commit = git(repo, "commit-tree", tree, "-m", "hostile")
    with scratch_copy(repo, bad_commit, tmp_path / "nest" / "scratch") as copy:
        assert tree_files(copy) == ["ok"]
    assert not (tmp_path / "nest" / "escaped").exists() and not (tmp_path / "nest" / "..").is_file()


def test_a_plain_folder_is_copied_as_the_engine_reads_it(shop_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    (shop_dir / "creds.py").symlink_to(secret)
    (shop_dir / "big.txt").write_text("x" * 2000)
    before = snapshot(shop_dir)
    with scratch_copy(shop_dir, None, tmp_path / "scratch", max_file_bytes=1000) as copy:
        files = tree_files(copy)
        assert "shop/pricing.py" in files and "creds.py" not in files and "big.txt" not in files
        (copy / "shop" / "pricing.py").write_text("broken = True\n")
    assert snapshot(shop_dir) == before


def test_a_checkout_of_a_folder_target_copies_its_files(shop_dir: Path, tmp_path: Path) -> None:
    checkout = Target(str(shop_dir), tmp_path / "clones").prepare()
    with scratch_copy(checkout, checkout.commit, tmp_path / "scratch") as copy:
        assert (copy / "shop" / "pricing.py").read_bytes() == (
            shop_dir / "shop" / "pricing.py"
        ).read_bytes()


def test_a_scratch_folder_inside_the_target_is_refused(repo: Path) -> None:
    with (
        pytest.raises(TargetError, match="inside the target"),
        scratch_copy(repo, None, repo / "scratch"),
    ):
        pass
    assert not (repo / "scratch").exists()


@pytest.mark.parametrize(
    ("commit", "why"),
    [("0" * 40, "is not a commit of it"), ("--output=/tmp/x", "is not a commit id")],
)
def test_a_commit_the_target_does_not_have_is_a_clear_error(
    repo: Path, tmp_path: Path, commit: str, why: str
) -> None:
    with pytest.raises(TargetError, match=why), scratch_copy(repo, commit, tmp_path / "s"):
        pass
    assert list((tmp_path / "s").iterdir()) == []


def test_a_target_that_is_a_folder_of_a_repository_gets_that_folder_only(
    repo: Path, tmp_path: Path
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    with scratch_copy(repo / "pkg", head, tmp_path / "scratch") as copy:
        assert tree_files(copy) == ["__init__.py", "core.py"]
