"""``autocoder patches`` and ``autocoder apply`` on a real dataset written by LocalStore, with
real diffs made by git in a throwaway repository and applied by git to a checkout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from autocoder.cli import main

from hubserver import TEST_TOKEN, TEST_USER
from patchkit import diff_of, git, make_repo, patch_row, write_patches

ORIGINAL = {"mod.py": "import os\n\n\ndef f():\n    return 1\n"}
FIXED = {"mod.py": "def f():\n    return 1\n"}
TEST_FILE = {"tests/test_mod.py": "from mod import f\n\n\ndef test_f():\n    assert f() == 1\n"}
ID_A, ID_B, ID_C = "patch-aaaa1111bbbb2222", "patch-cccc3333dddd4444", "patch-aaaa9999eeee5555"


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith("autocoder: error: "), err
    return err.removeprefix("autocoder: error: ").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    make_repo(root, ORIGINAL)
    return root


@pytest.fixture
def data(tmp_path: Path, repo: Path) -> Path:
    """Iteration 1: A unverified, B failed; iteration 2: A again, now verified; then C checked
    (a new test file and the fix)."""
    base = git(repo, "rev-parse", "HEAD")
    fix = diff_of(repo, FIXED)
    with_test = diff_of(repo, {**FIXED, **TEST_FILE})
    data_dir = tmp_path / "data"
    write_patches(data_dir, [
        [patch_row(1, ID_A, fix, base, "unverified"),
         patch_row(1, ID_B, fix, base, "failed", failed_step="ruff", fixer="libcst:x")],
        [patch_row(2, ID_A, fix, base, "verified")],
        [patch_row(3, ID_C, with_test, base, "checked", files=["mod.py", "tests/test_mod.py"])],
    ])  # fmt: skip
    return data_dir


def _table(data: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> list[str]:
    assert main(["patches", "--data-dir", str(data), *flags]) == 0
    return capsys.readouterr().out.splitlines()


def test_patches_lists_the_newest_row_of_each_patch_newest_first(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, *rows, total = _table(data, capsys)
    assert header.split()[:3] == ["ID", "STATUS", "FIXER"]
    assert [row.split()[:2] for row in rows] == [
        [ID_C, "checked"], [ID_A, "verified"], [ID_B, "failed"]
    ]  # fmt: skip
    assert "mod.py, tests/test_mod.py" in rows[0]
    assert rows[2].rstrip().endswith("ruff")  # B's failed step
    assert total.startswith("3 of 3 patches in ")


def test_patches_status_keeps_only_that_label(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _header, row, total = _table(data, capsys, "--status", "verified")
    assert row.split()[:2] == [ID_A, "verified"]
    assert total.startswith("1 verified of 3 patches")
    assert _table(data, capsys, "--status", "unverified")[-1].startswith("0 unverified of 3")


def test_patches_status_refuses_a_label_that_does_not_exist(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["patches", "--data-dir", str(data), "--status", "great"]) == 2
    assert "'great' is not one of" in capsys.readouterr().err


def test_patches_json_has_every_field_and_the_diff(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["patches", "--data-dir", str(data), "--json", "--status", "checked"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["id"] == ID_C and row["files"] == ["mod.py", "tests/test_mod.py"]
    assert row["diff"].startswith("diff --git a/mod.py b/mod.py")


def test_patches_without_the_dataset_is_one_line_naming_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["patches", "--data-dir", str(tmp_path)]) == 2
    message = _one_line(capsys.readouterr().err)
    assert message.endswith("does not exist; run `autocoder once implementation`")


def test_apply_changes_the_work_tree_only_new_files_included(
    data: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", "patch-aaaa9999", "--to", str(repo), "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"applied {ID_C} (ruff, checked) to {repo}:")
    assert "  mod.py (+0 -3)" in out and "  tests/test_mod.py (+5 -0)" in out
    assert (repo / "mod.py").read_text() == FIXED["mod.py"]
    assert git(repo, "diff", "--cached", "--name-only") == ""  # nothing staged
    assert git(repo, "diff", "--name-only").split() == ["mod.py", "tests/test_mod.py"]


def test_apply_takes_a_patch_id_without_its_prefix(
    data: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", "aaaa1111", "--to", str(repo), "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out.startswith(f"applied {ID_A} (ruff, verified)")


def test_apply_refuses_a_tree_with_uncommitted_changes_naming_them(
    data: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "mod.py").write_text(ORIGINAL["mod.py"] + "# local edit\n")
    assert main(["apply", ID_A, "--to", str(repo), "--data-dir", str(data)]) == 2
    assert _one_line(capsys.readouterr().err) == (
        f"{repo} has uncommitted changes (mod.py); commit or stash them first, so the patch is "
        "the only change to review"
    )
    assert (repo / "mod.py").read_text().endswith("# local edit\n")


def test_an_untracked_file_does_not_stop_apply(
    data: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "notes.txt").write_text("mine\n")
    assert main(["apply", ID_A, "--to", str(repo), "--data-dir", str(data)]) == 0
    assert (repo / "notes.txt").read_text() == "mine\n"


def test_apply_refuses_a_checkout_at_another_commit_naming_both(
    data: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = git(repo, "rev-parse", "HEAD")
    (repo / "other.py").write_text("x = 1\n")
    git(repo, "add", "other.py")
    git(repo, "commit", "-q", "-m", "later")
    head = git(repo, "rev-parse", "HEAD")
    assert main(["apply", ID_A, "--to", str(repo), "--data-dir", str(data)]) == 2
    message = _one_line(capsys.readouterr().err)
    assert message.startswith(f"{repo} is at {head[:12]} but {ID_A} was made at {base[:12]}; ")
    assert f"switch -c autocoder/{ID_A} {base[:12]}" in message
    assert (repo / "mod.py").read_text() == ORIGINAL["mod.py"]


def test_a_patch_that_does_not_apply_says_why_in_gits_words(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = diff_of(repo, FIXED)
    (repo / "mod.py").write_text("import sys\n\n\ndef f():\n    return 2\n")
    git(repo, "commit", "-qam", "rewrite")
    head = git(repo, "rev-parse", "HEAD")
    data = tmp_path / "stale"
    write_patches(data, [[patch_row(1, ID_A, stale, head, "verified")]])
    assert main(["apply", ID_A, "--to", str(repo), "--data-dir", str(data)]) == 2
    message = _one_line(capsys.readouterr().err)
    assert message.startswith(f"{ID_A} does not apply to {repo}: error: patch failed: mod.py:1")
    assert git(repo, "status", "--porcelain") == ""


def test_an_unknown_patch_id_names_the_close_ones(
    data: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["apply", "patch-aaaa1111bbbb2223", "--to", str(repo), "--data-dir", str(data)]) == 2
    )
    message = _one_line(capsys.readouterr().err)
    assert message.startswith("there is no patch 'patch-aaaa1111bbbb2223' in ")
    assert message.endswith(f"did you mean {ID_A}?")


def test_a_prefix_of_two_ids_asks_for_more(
    data: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", "aaaa", "--to", str(repo), "--data-dir", str(data)]) == 2
    assert _one_line(capsys.readouterr().err).endswith("give more of it")


def test_a_failed_patch_is_applied_only_with_force(
    data: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", ID_B, "--to", str(repo), "--data-dir", str(data)]) == 2
    assert _one_line(capsys.readouterr().err).startswith(
        f"{ID_B} failed its verification at ruff; "
    )
    assert (repo / "mod.py").read_text() == ORIGINAL["mod.py"]
    assert main(["apply", ID_B, "--to", str(repo), "--data-dir", str(data), "--force"]) == 0
    assert (repo / "mod.py").read_text() == FIXED["mod.py"]


def test_apply_to_a_folder_that_is_not_a_work_tree_says_so(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["apply", ID_A, "--to", str(plain), "--data-dir", str(data)]) == 2
    message = _one_line(capsys.readouterr().err)
    assert message.startswith(f"--to '{plain}' is not a git work tree (git: fatal: not a git")
    assert main(["apply", ID_A, "--to", str(tmp_path / "gone"), "--data-dir", str(data)]) == 2
    assert _one_line(capsys.readouterr().err).endswith("does not exist; give the checkout of "
                                                       "the target to patch")  # fmt: skip


def test_apply_to_a_subfolder_target_puts_the_files_under_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A target that is a folder of a bigger repository: its diff's paths are relative to it."""
    alone = tmp_path / "alone"
    make_repo(alone, ORIGINAL)
    diff = diff_of(alone, FIXED)
    mono = tmp_path / "mono"
    base = make_repo(mono, {f"pkg/{name}": text for name, text in ORIGINAL.items()})
    data = tmp_path / "mono-data"
    write_patches(data, [[patch_row(1, ID_A, diff, base, "checked")]])
    assert main(["apply", ID_A, "--to", str(mono / "pkg"), "--data-dir", str(data)]) == 0
    assert (mono / "pkg" / "mod.py").read_text() == FIXED["mod.py"]
    assert not (mono / "mod.py").exists()


def test_patches_reads_a_hub_repo_as_it_reads_a_folder(
    hub: object, data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    repo = f"{TEST_USER}/autocoder-implementation-results"
    api = HfApi(token=TEST_TOKEN)
    api.create_repo(repo, repo_type="dataset")
    api.upload_folder(
        folder_path=data / "autocoder-implementation-results", repo_id=repo, repo_type="dataset",
        ignore_patterns=[".tmp/*"],
    )  # fmt: skip
    *local, _where = _table(data, capsys)
    assert main(["patches", "--repo", repo]) == 0
    *remote, total = capsys.readouterr().out.splitlines()
    assert remote == local
    assert total == f"3 of 3 patches in hf://datasets/{repo}"
