"""A verified patch becomes a branch and a draft pull request, through PyGithub against a fake
GitHub REST API on 127.0.0.1: the exact requests, idempotence, the refusals, the errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from autocoder.errors import PublishError, PublishRefused
from autocoder.publish import (
    Published,
    Remote,
    github_repo,
    pr_body,
    pr_title,
    publish,
    publish_github,
)
from autocoder.settings import Settings

from githubserver import (
    GITHUB_TEST_TOKEN,
    BareRemote,
    GitHubServer,
    bare_remote,
    publishable,
    running_github,
)
from secretkit import Planted

REPO = "octo/shop"


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    with running_github() as server:
        yield server


@pytest.fixture
def remote(tmp_path: Path) -> BareRemote:
    return bare_remote(tmp_path)


def _publish(server: GitHubServer, remote: BareRemote, tmp_path: Path, **changes: Any) -> Published:
    options: dict[str, Any] = {"repo": REPO, "token": GITHUB_TEST_TOKEN, "api_url": server.url,
                               "work_dir": tmp_path / "work", **changes}  # fmt: skip
    patch = options.pop("patch", None) or publishable(remote)
    return publish_github(patch, Remote(str(remote.path)), **options)


def test_a_verified_patch_opens_one_draft_pull_request_from_its_branch(
    github: GitHubServer, remote: BareRemote, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    github.add_repo(REPO)
    patch = publishable(remote)

    with caplog.at_level(logging.DEBUG):
        published = _publish(github, remote, tmp_path, patch=patch)

    lookup, create = github.requests
    assert (lookup.method, lookup.path) == ("GET", "/repos/octo/shop/pulls")
    assert lookup.query["head"] == ["octo:autocoder/item-1"]
    assert lookup.query["state"] == ["open"]
    assert (create.method, create.path, create.status) == ("POST", "/repos/octo/shop/pulls", 201)
    assert create.json == {"title": patch.title, "head": "autocoder/item-1", "base": "main",
                           "body": patch.body, "draft": True}  # fmt: skip
    assert create.headers["Authorization"] == f"token {GITHUB_TEST_TOKEN}"
    assert published.kind == "github" and published.branch == "autocoder/item-1"
    assert published.url == "https://github.example/octo/shop/pull/1"
    assert published.commit == remote.tip("autocoder/item-1")
    assert remote.tip("main") == remote.base
    assert "/repos/octo/shop/pulls" in caplog.text  # PyGithub logged the requests...
    assert GITHUB_TEST_TOKEN not in caplog.text  # ...without the token


def test_republishing_makes_no_new_commit_and_no_second_pull_request(
    github: GitHubServer, remote: BareRemote, tmp_path: Path
) -> None:
    github.add_repo(REPO)
    first = _publish(github, remote, tmp_path)

    second = _publish(github, remote, tmp_path)

    assert second == first
    assert [r.method for r in github.writes()] == ["POST"]
    assert len(github.repos[REPO].pulls) == 1


def test_a_checked_patch_is_refused_without_the_opt_in_and_published_with_it(
    github: GitHubServer, remote: BareRemote, tmp_path: Path
) -> None:
    github.add_repo(REPO)
    checked = publishable(remote, status="checked")

    with pytest.raises(PublishRefused, match="AUTOCODER_PUBLISH_CHECKED=1"):
        _publish(github, remote, tmp_path, patch=checked)
    assert github.requests == [] and remote.tip("autocoder/item-1") is None

    published = _publish(github, remote, tmp_path, patch=checked, publish_checked=True)
    assert published.url.endswith("/pull/1")


@pytest.mark.parametrize("status", ["failed", "unverified"])
def test_a_patch_that_is_not_verified_is_refused(
    github: GitHubServer, remote: BareRemote, tmp_path: Path, status: str
) -> None:
    github.add_repo(REPO)

    with pytest.raises(PublishRefused, match=f"is '{status}'; only verified"):
        _publish(github, remote, tmp_path, patch=publishable(remote, status=status),
                 publish_checked=True)  # fmt: skip

    assert github.requests == [] and remote.tip("autocoder/item-1") is None


def test_no_token_is_refused_before_anything_is_pushed(
    github: GitHubServer, remote: BareRemote, tmp_path: Path
) -> None:
    with pytest.raises(PublishRefused, match="needs GITHUB_TOKEN"):
        _publish(github, remote, tmp_path, token=None)

    assert remote.tip("autocoder/item-1") is None


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("bad-token", "refused GITHUB_TOKEN"),
        ("403", "forbade"),
        ("no-repo", "does not know octo/shop"),
        ("422", "A pull request already exists for octo:autocoder/item-1"),
        ("502", "GitHub failed"),
    ],
)
def test_github_errors_name_the_repo_and_the_fix_never_the_token(
    github: GitHubServer, remote: BareRemote, tmp_path: Path, setup: str, expected: str
) -> None:
    token = GITHUB_TEST_TOKEN
    if setup != "no-repo":
        github.add_repo(REPO)
    if setup == "bad-token":
        token = "ghp_" + "WrongTokenThatMustNotShow000000000"
    elif setup == "422":
        github.fail_next(422, "Validation Failed", method="POST",
                         errors=["A pull request already exists for octo:autocoder/item-1."])  # fmt: skip
    elif setup.isdigit():
        github.fail_next(int(setup), "Forbidden" if setup == "403" else "Bad Gateway")

    with pytest.raises(PublishError) as failed:
        _publish(github, remote, tmp_path, token=token)

    message = str(failed.value)
    assert expected in message and REPO in message
    assert token not in message and token not in repr(failed.value.args)


def test_an_unreachable_api_is_an_error_without_the_token(
    remote: BareRemote, tmp_path: Path
) -> None:
    with pytest.raises(PublishError, match=r"cannot reach the GitHub API at http://127\.0\.0\.1:1"):
        publish_github(publishable(remote), Remote(str(remote.path)), repo=REPO,
                       token=GITHUB_TEST_TOKEN, api_url="http://127.0.0.1:1",
                       work_dir=tmp_path / "w")  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/octo/shop",
        "https://github.com/octo/shop.git",
        "https://x-access-token:ghp_abc@github.com/octo/shop.git",
        "git@github.com:octo/shop.git",
        "ssh://git@github.com/octo/shop.git",
    ],
)
def test_the_github_repo_is_read_from_the_remote_url(url: str) -> None:
    assert github_repo(url) == "octo/shop"


def test_the_github_repo_setting_wins_and_a_bad_one_or_none_is_refused() -> None:
    assert github_repo("/srv/git/shop.git", "acme/shop") == "acme/shop"
    with pytest.raises(PublishRefused, match="AUTOCODER_GITHUB_REPO='shop' is not OWNER/NAME"):
        github_repo("https://github.com/octo/shop", "shop")
    with pytest.raises(PublishRefused, match="set AUTOCODER_GITHUB_REPO"):
        github_repo("/srv/git/shop.git")


def test_publish_follows_the_settings(
    github: GitHubServer, remote: BareRemote, tmp_path: Path
) -> None:
    github.add_repo(REPO)
    off = Settings()
    on = Settings(publish="github", github_api_url=github.url, github_repo=REPO,
                  github_token=GITHUB_TEST_TOKEN)  # fmt: skip

    with pytest.raises(PublishRefused, match="publishing is off"):
        publish(publishable(remote), off, str(remote.path), tmp_path / "w")
    published = publish(publishable(remote), on, str(remote.path), tmp_path / "w")

    assert published.branch == "autocoder/item-1" and published.url.endswith("/pull/1")


def test_the_pull_request_body_lists_finding_stages_and_verification_without_secrets() -> None:
    secret = Planted.build().values["github_token"]
    finding = {"tool": "ruff", "rule": "ANN001", "severity": "low", "file": "app.py", "line": 1,
               "message": f"missing annotation near {secret}"}  # fmt: skip
    conclusions = [{"stage": "Understanding", "conclusion": "total() lacks types"},
                   {"stage": "Implementation Plan", "conclusion": "annotate it"}]  # fmt: skip
    evidence = {"status": "verified", "steps": [
        {"name": "applies", "status": "passed", "detail": "git apply --check: ok"},
        {"name": "tests", "status": "passed", "detail": "3 passed | " + "x" * 1000},
    ]}  # fmt: skip

    body = pr_body(patch_id="patch-0123456789abcdef", base_commit="a" * 40, finding=finding,
                   conclusions=conclusions, evidence=evidence)  # fmt: skip

    assert "- tool: `ruff`, rule: `ANN001`, severity: **low**" in body
    assert "`app.py:1`" in body
    assert "1. **Understanding**: total() lacks types" in body
    assert "2. **Implementation Plan**: annotate it" in body
    assert "### Verification: **verified**" in body
    assert "| applies | passed | git apply --check: ok |" in body
    assert "3 passed \\| " in body and "x" * 400 not in body
    assert "patch-0123456789abcdef" in body and "a" * 40 in body
    assert secret not in body
    assert pr_title(finding, "item-1") == "autocoder: fix ANN001 in app.py"
    assert pr_title(None, "item-1") == "autocoder: item-1"


def test_a_patch_of_another_item_gets_its_own_branch_and_pull_request(
    github: GitHubServer, remote: BareRemote, tmp_path: Path
) -> None:
    github.add_repo(REPO)
    _publish(github, remote, tmp_path)
    other = replace(publishable(remote, patch_id="patch-1111111111111111"), item_id="item-2")

    published = _publish(github, remote, tmp_path, patch=other)

    assert published.branch == "autocoder/item-2" and published.url.endswith("/pull/2")
    assert github.writes()[-1].json["head"] == "autocoder/item-2"
