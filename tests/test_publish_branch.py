"""A verified patch becomes the branch autocoder/<item-id> on a git remote on disk; autocoder
never pushes to the default branch, to a name outside autocoder/, or over someone else's work."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest

from autocoder.errors import PublishError, PublishRefused
from autocoder.publish import Remote, branch_for, push_branch, remote_of
from autocoder.publish.branch import AUTHOR_EMAIL, TRAILER

from githubserver import PATCHED_TEXT, BareRemote, bare_remote, publishable, run_git


@pytest.fixture
def remote(tmp_path: Path) -> BareRemote:
    return bare_remote(tmp_path)


def test_push_branch_puts_the_patched_file_on_its_branch_and_leaves_main(
    remote: BareRemote, tmp_path: Path
) -> None:
    patch = publishable(remote)

    pushed = push_branch(patch, Remote(str(remote.path)), work_dir=tmp_path / "work")

    assert pushed.branch == "autocoder/item-1"
    assert pushed.pushed and pushed.default_branch == "main"
    assert remote.tip("autocoder/item-1") == pushed.commit
    assert run_git(remote.path, "show", "autocoder/item-1:app.py") + "\n" == PATCHED_TEXT
    assert remote.tip("main") == remote.base
    assert run_git(remote.path, "rev-parse", "autocoder/item-1^") == remote.base
    shown = run_git(remote.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", pushed.commit)
    author, committer, message = shown.split("|")
    assert author == committer == f"autocoder <{AUTHOR_EMAIL}>"
    assert message.startswith(patch.title)
    assert f"{TRAILER}: {patch.patch_id}" in message.splitlines()
    assert list((tmp_path / "work").iterdir()) == []  # the scratch repository is gone


def test_republishing_the_same_patch_pushes_nothing(remote: BareRemote, tmp_path: Path) -> None:
    patch = publishable(remote)
    first = push_branch(patch, Remote(str(remote.path)), work_dir=tmp_path / "work")

    second = push_branch(patch, Remote(str(remote.path)), work_dir=tmp_path / "work")

    assert not second.pushed
    assert second.commit == first.commit == remote.tip("autocoder/item-1")
    assert run_git(remote.path, "rev-list", "--count", "autocoder/item-1") == "2"


def test_a_new_patch_of_the_same_item_replaces_autocoders_own_branch(
    remote: BareRemote, tmp_path: Path
) -> None:
    push_branch(publishable(remote), Remote(str(remote.path)), work_dir=tmp_path / "w")
    newer = publishable(remote, new_text="def total(p):\n    return sum(p, 0)\n",
                        patch_id="patch-fedcba9876543210")  # fmt: skip

    pushed = push_branch(newer, Remote(str(remote.path)), work_dir=tmp_path / "w")

    assert pushed.pushed and remote.tip("autocoder/item-1") == pushed.commit
    assert run_git(remote.path, "show", "autocoder/item-1:app.py").endswith("sum(p, 0)")
    assert run_git(remote.path, "rev-parse", "autocoder/item-1^") == remote.base


def test_a_foreign_commit_at_the_branch_is_refused_and_kept(
    remote: BareRemote, tmp_path: Path
) -> None:
    work = tmp_path / "someone"
    run_git(tmp_path, "clone", "-q", str(remote.path), str(work))
    (work / "app.py").write_text("# someone's own work\n")
    run_git(work, "commit", "-q", "-am", "my change")
    run_git(work, "push", "-q", "origin", "HEAD:refs/heads/autocoder/item-1")
    theirs = remote.tip("autocoder/item-1")

    with pytest.raises(PublishRefused) as refused:
        push_branch(publishable(remote), Remote(str(remote.path)), work_dir=tmp_path / "w")

    assert "'autocoder/item-1'" in str(refused.value)
    assert "not a commit autocoder made" in str(refused.value)
    assert remote.tip("autocoder/item-1") == theirs


@pytest.mark.parametrize("default", ["main", "trunk"])
def test_the_default_branch_is_refused(tmp_path: Path, default: str) -> None:
    remote = bare_remote(tmp_path, default_branch=default)

    with pytest.raises(PublishRefused, match=f"'{default}' is the default branch"):
        push_branch(publishable(remote), Remote(str(remote.path)), work_dir=tmp_path / "w",
                    branch=default)  # fmt: skip

    assert remote.tip(default) == remote.base


@pytest.mark.parametrize("branch", ["feature/typing", "autocoder/", "autocoder/a/../main"])
def test_a_branch_outside_autocoder_is_refused(
    remote: BareRemote, tmp_path: Path, branch: str
) -> None:
    with pytest.raises(PublishRefused, match="not published"):
        push_branch(publishable(remote), Remote(str(remote.path)), work_dir=tmp_path / "w",
                    branch=branch)  # fmt: skip

    assert run_git(remote.path, "for-each-ref", "--format=%(refname)") == "refs/heads/main"


@pytest.mark.parametrize("item_id", ["../main", "a b", "x.lock", "-rf", ""])
def test_an_item_id_that_makes_no_plain_branch_name_is_refused(item_id: str) -> None:
    with pytest.raises(PublishRefused, match="does not make a branch name"):
        branch_for(item_id)


def test_a_patch_without_a_base_commit_is_refused(remote: BareRemote, tmp_path: Path) -> None:
    patch = replace(publishable(remote), base_commit=None)

    with pytest.raises(PublishRefused, match="no base commit"):
        push_branch(patch, Remote(str(remote.path)), work_dir=tmp_path / "w")


def test_a_diff_that_no_longer_applies_fails_and_pushes_nothing(
    remote: BareRemote, tmp_path: Path
) -> None:
    patch = publishable(remote)
    broken = replace(patch, diff=patch.diff.replace("return sum(prices)", "return max(prices)"))

    with pytest.raises(PublishError, match=r"git apply .* failed"):
        push_branch(broken, Remote(str(remote.path)), work_dir=tmp_path / "w")

    assert remote.tip("autocoder/item-1") is None


def test_a_failing_push_to_an_https_remote_never_shows_the_token(
    remote: BareRemote, tmp_path: Path
) -> None:
    token = "ghp_" + "Tok3nThatMustNeverBeSeen0000000000"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    unreachable = Remote(
        f"https://x-access-token:{token}@127.0.0.1:1/octo/shop.git",
        header=f"Authorization: Basic {basic}", tokens=(token,),
    )  # fmt: skip

    with pytest.raises(PublishError) as failed:
        push_branch(publishable(remote), unreachable, work_dir=tmp_path / "w")

    message = str(failed.value)
    assert "https://127.0.0.1:1/octo/shop.git" in message
    assert token not in message and basic not in message
    assert token not in repr(unreachable)


def test_a_github_remote_gets_the_tokens_header_and_another_host_none() -> None:
    github = Remote.of("https://github.com/octo/shop.git", github_token="ghp_x123")
    other = Remote.of("https://git.example.com/octo/shop.git", github_token="ghp_x123")

    assert github.header is not None and github.header.startswith("Authorization: Basic ")
    assert other.header is None


def test_remote_of_a_local_target_is_its_origin(remote: BareRemote, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    run_git(tmp_path, "clone", "-q", str(remote.path), str(checkout))
    plain = tmp_path / "plain"
    plain.mkdir()
    run_git(plain, "init", "-q")

    assert remote_of(str(checkout), checkout) == str(remote.path)
    assert remote_of("https://github.com/octo/shop", checkout) == "https://github.com/octo/shop"
    with pytest.raises(PublishRefused, match="no 'origin' remote"):
        remote_of(str(plain), plain)
