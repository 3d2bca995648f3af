"""A verified patch of a Hub repo target becomes a Hub pull request (create_commit with
create_pr=True) on the protocol-level test Hub: the PR revision holds the change, main does not."""

from __future__ import annotations

from dataclasses import replace

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from autocoder.errors import PublishError, PublishRefused
from autocoder.publish import Publishable, hub_repo, publish_hub
from autocoder.publish.branch import TRAILER

from githubserver import APP_TEXT, PATCHED_TEXT
from hubserver import TEST_TOKEN, TEST_USER, HubServer

REPO_ID = f"{TEST_USER}/shop"


def _target(hub: HubServer) -> tuple[str, str]:
    """A dataset repo holding app.py and README.md: its URL and its one commit."""
    api = HfApi(token=TEST_TOKEN)
    api.create_repo(REPO_ID, repo_type="dataset")
    info = api.create_commit(
        REPO_ID, repo_type="dataset", commit_message="initial",
        operations=[CommitOperationAdd("app.py", APP_TEXT.encode()),
                    CommitOperationAdd("README.md", b"# shop\n")],
    )  # fmt: skip
    return f"{hub.url}/datasets/{REPO_ID}", info.oid


def _patch(base: str, status: str = "verified") -> Publishable:
    return Publishable(
        patch_id="patch-0123456789abcdef", item_id="item-1", base_commit=base,
        diff="(a diff)", files=("app.py",), new_texts={"app.py": PATCHED_TEXT}, status=status,
        title="autocoder: fix ANN001 in app.py", body="### Finding\n\nmissing annotations\n",
    )  # fmt: skip


def test_a_hub_pull_request_holds_the_change_and_main_does_not(hub: HubServer) -> None:
    url, base = _target(hub)
    commits = hub.commit_count(REPO_ID)

    published = publish_hub(_patch(base), url, token=TEST_TOKEN)

    assert published.kind == "hub" and published.branch == "refs/pr/1"
    assert published.url == f"{hub.url}/datasets/{REPO_ID}/discussions/1"
    assert hub.files(REPO_ID, revision="refs/pr/1")["app.py"].decode() == PATCHED_TEXT
    assert hub.files(REPO_ID)["app.py"].decode() == APP_TEXT
    assert hub.commit_count(REPO_ID) == commits
    commit = [r for r in hub.requests if r.method == "POST" and "/commit/" in r.path][-1]
    assert commit.query["create_pr"] == ["1"] and commit.has_auth
    pr_head = HfApi(token=TEST_TOKEN).list_repo_commits(
        REPO_ID, repo_type="dataset", revision="refs/pr/1"
    )[0]
    assert pr_head.commit_id == published.commit
    assert f"{TRAILER}: patch-0123456789abcdef" in pr_head.message.splitlines()


def test_republishing_the_same_patch_opens_no_second_pull_request(hub: HubServer) -> None:
    url, base = _target(hub)
    first = publish_hub(_patch(base), url, token=TEST_TOKEN)

    second = publish_hub(_patch(base), url, token=TEST_TOKEN)

    assert second == first
    assert list(hub.repos[("dataset", REPO_ID)].prs) == [1]


def test_the_pull_request_starts_from_the_base_commit_when_main_moved_on(
    hub: HubServer,
) -> None:
    url, base = _target(hub)
    HfApi(token=TEST_TOKEN).create_commit(
        REPO_ID, repo_type="dataset", commit_message="later",
        operations=[CommitOperationAdd("later.txt", b"later\n")],
    )  # fmt: skip

    published = publish_hub(_patch(base), url, token=TEST_TOKEN)

    files = hub.files(REPO_ID, revision=published.branch)
    assert sorted(files) == [".gitattributes", "README.md", "app.py"]
    assert "later.txt" in hub.files(REPO_ID)


def test_a_deleted_file_is_deleted_in_the_pull_request(hub: HubServer) -> None:
    url, base = _target(hub)
    patch = replace(_patch(base), files=("README.md", "app.py"), deleted=("README.md",))

    published = publish_hub(patch, url, token=TEST_TOKEN)

    assert sorted(hub.files(REPO_ID, revision=published.branch)) == [".gitattributes", "app.py"]
    assert "README.md" in hub.files(REPO_ID)


def test_a_checked_patch_needs_the_opt_in(hub: HubServer) -> None:
    url, base = _target(hub)

    with pytest.raises(PublishRefused, match="AUTOCODER_PUBLISH_CHECKED=1"):
        publish_hub(_patch(base, status="checked"), url, token=TEST_TOKEN)
    assert hub.repos[("dataset", REPO_ID)].prs == {}

    published = publish_hub(_patch(base, "checked"), url, token=TEST_TOKEN, publish_checked=True)
    assert published.branch == "refs/pr/1"


def test_a_target_that_is_no_hub_repo_or_no_token_is_refused(hub: HubServer) -> None:
    url, base = _target(hub)

    with pytest.raises(PublishRefused, match="needs a target that is a Hub repo URL"):
        publish_hub(_patch(base), "https://github.com/octo/shop", token=TEST_TOKEN)
    with pytest.raises(PublishRefused, match="needs HF_TOKEN"):
        publish_hub(_patch(base), url, token=None)


def test_a_refused_token_is_an_error_without_the_token(hub: HubServer) -> None:
    url, base = _target(hub)
    wrong = "hf_" + "WrongTokenThatMustNeverBeShown0000"

    with pytest.raises(PublishError) as failed:
        publish_hub(_patch(base), url, token=wrong)

    assert "401" in str(failed.value) and REPO_ID in str(failed.value)
    assert wrong not in str(failed.value)


def test_a_hub_that_is_down_is_an_error_naming_the_repo(hub: HubServer) -> None:
    url, base = _target(hub)
    hub.down()

    with pytest.raises(PublishError, match="the Hub answered 503") as failed:
        publish_hub(_patch(base), url, token=TEST_TOKEN)

    assert TEST_TOKEN not in str(failed.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://huggingface.co/datasets/ns/shop",
            ("https://huggingface.co", "dataset", "ns/shop"),
        ),
        ("https://huggingface.co/spaces/ns/app", ("https://huggingface.co", "space", "ns/app")),
        ("https://huggingface.co/ns/model.git", ("https://huggingface.co", "model", "ns/model")),
        ("https://github.com/ns/shop", None),
        ("https://huggingface.co/datasets/ns", None),
        ("/srv/git/shop", None),
    ],
)
def test_hub_repo_reads_a_hub_url(url: str, expected: tuple[str, str, str] | None) -> None:
    assert hub_repo(url) == expected


def test_hub_repo_knows_the_configured_endpoint(hub: HubServer) -> None:
    assert hub_repo(f"{hub.url}/datasets/{REPO_ID}") == (hub.url, "dataset", REPO_ID)
