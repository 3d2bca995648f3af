"""A fix made into a patch on a scratch copy: a git diff that git applies, and a FixerError (never
a traceback) when the fix changes nothing, strays out of the tree, crashes or hangs."""

from __future__ import annotations

import hashlib
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from autocoder.engine.perspective import RunOptions
from autocoder.errors import FixerError, PatchError
from autocoder.workers.implementation import patching
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.workitem import WorkItem

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.x", "PATH": "/usr/bin:/bin"}  # fmt: skip
ITEM = WorkItem(id="item-0123456789abcdef", kind="finding", source="Security Audit",
                tool="bandit", rule="B307", severity="medium", file="pkg/core.py", line=2,
                message="Use of possibly insecure function eval", fingerprints=["a" * 16])  # fmt: skip
FILES = {"pkg/__init__.py": "", "pkg/core.py": "import os\nVALUE = eval('1')\n",
         "notes.txt": "no newline at the end"}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    env = {**GIT_ENV, "HOME": str(repo)}
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)
    return done.stdout.decode().strip()


def make_repo(root: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return git(root, "rev-parse", "HEAD")


def fix_of(apply: Callable[[Path], list[str]], fixer: str = "test:edit") -> Fix:
    return Fix(fixer, "an edit", True, "for the test", apply)


def edits(changes: dict[str, str | None]) -> Fix:
    """A fix that writes (or, for None, removes) the given files and reports them."""

    def apply(tree: Path) -> list[str]:
        for name, text in changes.items():
            if text is None:
                (tree / name).unlink()
            else:
                (tree / name).parent.mkdir(parents=True, exist_ok=True)
                (tree / name).write_text(text)
        return list(changes)

    return fix_of(apply)


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    return root, make_repo(root, FILES)


def test_make_patch_writes_a_git_diff_that_git_applies_to_the_base_commit(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    root, commit = repo
    fix = edits({"pkg/core.py": "import os\nVALUE = int('1')\n", "notes.txt": "still none\nend",
                 "pkg/new.py": "NEW = 1\n", "pkg/__init__.py": None})  # fmt: skip
    patch = patching.make_patch(root, commit, ITEM, fix, RunOptions(), tmp_path / "scratch")
    assert patch.files == ("notes.txt", "pkg/__init__.py", "pkg/core.py", "pkg/new.py")
    assert "--- /dev/null\n+++ b/pkg/new.py\n" in patch.diff
    assert patch.added == ["pkg/new.py"]  # read from the diff: the checkout has no say
    assert "deleted file mode 100644\n" in patch.diff
    assert "-no newline at the end\n\\ No newline at end of file\n" in patch.diff
    assert "-VALUE = eval('1')\n+VALUE = int('1')\n" in patch.diff
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(root), str(checkout)], check=True, env=GIT_ENV)
    (tmp_path / "change.diff").write_text(patch.diff)
    git(checkout, "apply", "--check", str(tmp_path / "change.diff"))
    with patching.applied_copy(root, commit, patch, RunOptions(), tmp_path / "scratch") as tree:
        assert not (tree / "pkg/__init__.py").exists()
        assert {f: (tree / f).read_text() for f in patch.files if (tree / f).exists()} == {
            f: text for f, text in patch.new_texts.items() if f != "pkg/__init__.py"
        }


def test_make_patch_works_on_a_folder_target_and_leaves_it_untouched(tmp_path: Path) -> None:
    root = tmp_path / "folder"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    before = snapshot(root)
    fix = edits({"pkg/core.py": "VALUE = 1\n", "tests/test_new.py": "def test_a(): pass\n"})
    patch = patching.make_patch(root, None, ITEM, fix, RunOptions(), tmp_path / "scratch")
    assert snapshot(root) == before
    assert patch.base_commit is None and patch.new_texts["pkg/core.py"] == "VALUE = 1\n"
    assert patch.added == ["tests/test_new.py"]
    with patching.applied_copy(root, None, patch, RunOptions(), tmp_path / "scratch") as tree:
        assert (tree / "pkg/core.py").read_text() == "VALUE = 1\n"


def test_patch_id_depends_on_the_item_the_base_commit_and_the_diff(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    root, commit = repo
    fix = edits({"pkg/core.py": "VALUE = 1\n"})
    first = patching.make_patch(root, commit, ITEM, fix, RunOptions(), tmp_path)
    again = patching.make_patch(root, commit, ITEM, fix, RunOptions(), tmp_path)
    other = patching.make_patch(root, commit, ITEM, edits({"pkg/core.py": "VALUE = 2\n"}),
                                RunOptions(), tmp_path)  # fmt: skip
    assert first.id == again.id and first.id.startswith("patch-") and len(first.id) == 22
    assert other.id != first.id
    assert patching.patch_id("item-x", commit, first.diff) != first.id


def test_a_fix_that_changes_nothing_is_a_fixer_error(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    root, commit = repo
    with pytest.raises(FixerError, match=r"test:edit .*changed nothing"):
        patching.make_patch(root, commit, ITEM, edits({"pkg/core.py": FILES["pkg/core.py"]}),
                            RunOptions(), tmp_path)  # fmt: skip


@pytest.mark.parametrize("reported", ["../outside.py", "/etc/passwd", ".git/config"])
def test_a_fix_that_reports_a_file_outside_the_tree_is_a_fixer_error(
    repo: tuple[Path, str], tmp_path: Path, reported: str
) -> None:
    root, commit = repo
    with pytest.raises(FixerError, match="outside the tree"):
        patching.make_patch(root, commit, ITEM, fix_of(lambda _tree: [reported]), RunOptions(),
                            tmp_path)  # fmt: skip


def test_a_fix_that_crashes_is_a_fixer_error_naming_the_fixer_without_a_traceback(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    root, commit = repo

    def crash(tree: Path) -> list[str]:
        raise KeyError("no such node")

    with pytest.raises(FixerError) as raised:
        patching.make_patch(
            root, commit, ITEM, fix_of(crash, "libcst:boom"), RunOptions(), tmp_path
        )
    assert str(raised.value) == "fixer libcst:boom (an edit) failed: KeyError: 'no such node'"
    assert raised.value.__cause__ is None


def test_a_fix_that_hangs_is_a_fixer_error_after_the_deadline(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    root, commit = repo
    release = threading.Event()

    def hang(tree: Path) -> list[str]:
        release.wait()
        return []

    try:
        with pytest.raises(FixerError, match="ran longer than"):
            patching.make_patch(root, commit, ITEM, fix_of(hang), RunOptions(tool_timeout_s=0.2),
                                tmp_path)  # fmt: skip
    finally:
        release.set()


def test_a_patch_whose_base_changed_does_not_apply_and_says_what_git_said(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    root, commit = repo
    patch = patching.make_patch(root, commit, ITEM, edits({"pkg/core.py": "VALUE = 1\n"}),
                                RunOptions(), tmp_path)  # fmt: skip
    (root / "pkg/core.py").write_text("import sys\nVALUE = eval('2')\n")
    git(root, "commit", "-qam", "changed")
    newer = git(root, "rev-parse", "HEAD")
    with (
        pytest.raises(PatchError, match=r"does not apply .*git apply: .*pkg/core\.py"),
        patching.applied_copy(root, newer, patch, RunOptions(), tmp_path),
    ):
        pass
    with patching.applied_copy(root, commit, patch, RunOptions(), tmp_path) as tree:
        assert (tree / "pkg/core.py").read_text() == "VALUE = 1\n"


def test_crlf_lines_and_an_unchanged_last_line_without_newline_survive_git_apply(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    commit = make_repo(root, {"crlf.txt": "a\r\nb\r\nc\r\n", "end.txt": "x\ny\nz"})

    def apply(tree: Path) -> list[str]:
        (tree / "crlf.txt").write_bytes(b"a\r\nB\r\nc\r\n")
        (tree / "end.txt").write_text("X\ny\nz")
        return ["crlf.txt", "end.txt"]

    patch = patching.make_patch(root, commit, ITEM, fix_of(apply), RunOptions(), tmp_path)
    assert " z\n\\ No newline at end of file\n" in patch.diff
    assert patch.new_texts["crlf.txt"] == "a\r\nB\r\nc\r\n"
    with patching.applied_copy(root, commit, patch, RunOptions(), tmp_path) as tree:
        assert (tree / "crlf.txt").read_bytes() == b"a\r\nB\r\nc\r\n"
        assert (tree / "end.txt").read_text() == "X\ny\nz"


def test_a_fix_that_writes_a_file_that_is_not_utf8_is_a_fixer_error(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    root, commit = repo

    def latin1(tree: Path) -> list[str]:
        (tree / "pkg/core.py").write_bytes("NAME = 'café'\n".encode("latin-1"))
        return ["pkg/core.py"]

    with pytest.raises(FixerError, match=r"'pkg/core\.py', which is not UTF-8"):
        patching.make_patch(root, commit, ITEM, fix_of(latin1), RunOptions(), tmp_path)
