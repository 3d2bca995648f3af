"""Publishing a verified patch for review: a branch and a draft pull request on GitHub, or a
Hub pull request. Off by default (``AUTOCODER_PUBLISH=off``); the implementation worker calls
:func:`publish` after verification and records the :class:`Published` it returns.

Only ``verified`` patches are published, ``checked`` ones too with
``AUTOCODER_PUBLISH_CHECKED=1``; anything else, and every branch autocoder did not make, is
refused with :class:`autocoder.errors.PublishRefused`, whose message is the reason to record.
"""

from __future__ import annotations

from pathlib import Path

from autocoder.errors import PublishRefused
from autocoder.publish.body import (
    Publishable,
    Published,
    ensure_publishable,
    pr_body,
    pr_title,
)
from autocoder.publish.branch import (
    BRANCH_PREFIX,
    TRAILER,
    PushedBranch,
    Remote,
    branch_for,
    push_branch,
    remote_of,
)
from autocoder.publish.github import github_repo, open_draft_pr, publish_github
from autocoder.publish.hub import hub_repo, publish_hub
from autocoder.settings import Settings

__all__ = [
    "BRANCH_PREFIX",
    "TRAILER",
    "Publishable",
    "Published",
    "PushedBranch",
    "Remote",
    "branch_for",
    "ensure_publishable",
    "github_repo",
    "hub_repo",
    "open_draft_pr",
    "pr_body",
    "pr_title",
    "publish",
    "publish_github",
    "publish_hub",
    "push_branch",
    "remote_of",
]


def publish(patch: Publishable, settings: Settings, remote_url: str, work_dir: Path) -> Published:
    """Publish ``patch`` the way ``AUTOCODER_PUBLISH`` says, to ``remote_url`` (the target's
    remote: :func:`remote_of`); ``work_dir`` holds the scratch repository (the worker's cache).

    Raises PublishRefused (publishing is off, the patch is not publishable, the branch is not
    autocoder's) or PublishError (git, GitHub or the Hub failed), never with a token in it."""
    if settings.publish == "off":
        raise PublishRefused("not published: publishing is off; set AUTOCODER_PUBLISH=github|hub")
    ensure_publishable(patch, settings.publish_checked)
    github_token = settings.github_token.get_secret_value() if settings.github_token else None
    hf_token = settings.hf_token.get_secret_value() if settings.hf_token else None
    if settings.publish == "hub":
        return publish_hub(
            patch, remote_url, token=hf_token, publish_checked=settings.publish_checked
        )
    return publish_github(
        patch, Remote.of(remote_url, github_token, hf_token),
        repo=github_repo(remote_url, settings.github_repo), token=github_token,
        api_url=settings.github_api_url, work_dir=work_dir,
        publish_checked=settings.publish_checked,
    )  # fmt: skip
