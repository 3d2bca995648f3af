"""A published branch as a draft pull request, through GitHub's REST API with PyGithub.

PyGithub is the well-kept client of that API: it takes ``base_url`` for GitHub Enterprise (and
the tests' server on 127.0.0.1) and speaks the documented shapes: ``GET /repos/{owner}/{repo}/
pulls?head=owner:branch&state=open`` first, so re-publishing finds the open pull request instead
of opening a second, then ``POST /repos/{owner}/{repo}/pulls`` with ``draft: true``. It sends
the token as ``Authorization: token ...``; no retry or throttle is configured here: a failed
publication is recorded in the patch row (``publish_detail``) and the worker does not try it
again, since the item is done at that commit; the patch can be applied by hand
(``autocoder apply``).

Every failure becomes a :class:`PublishError` that names the repository and the fix and never
the token.
"""

from __future__ import annotations

import re
from pathlib import Path

from github import Auth, Github, GithubException

from autocoder.errors import PublishError, PublishRefused, redact
from autocoder.publish.body import Publishable, Published, ensure_publishable
from autocoder.publish.branch import Remote, push_branch

TIMEOUT_S = 30
_OWNER_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# https://github.com/o/n(.git), ssh://git@github.com/o/n.git, git@github.com:o/n.git
_GITHUB_REMOTE = re.compile(
    r"^(?:https?://(?:[^@/]+@)?|ssh://git@|git@)github\.com[/:]"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)


def github_repo(remote_url: str, configured: str | None = None) -> str:
    """``owner/name`` of the pull requests: AUTOCODER_GITHUB_REPO, else the remote's URL."""
    if configured:
        if not _OWNER_NAME.match(configured):
            raise PublishRefused(
                f"AUTOCODER_GITHUB_REPO={configured!r} is not OWNER/NAME; set it like 'octo/shop'"
            )
        return configured
    if m := _GITHUB_REMOTE.match(remote_url.strip()):
        return f"{m['owner']}/{m['name']}"
    shown = Remote(remote_url).display
    raise PublishRefused(
        f"not published: cannot tell the GitHub repository of remote {shown!r}; set "
        "AUTOCODER_GITHUB_REPO=OWNER/NAME"
    )


def publish_github(
    patch: Publishable,
    remote: Remote,
    *,
    repo: str,
    token: str | None,
    api_url: str,
    work_dir: Path,
    publish_checked: bool = False,
) -> Published:
    """Push ``autocoder/<item-id>`` to ``remote`` and open (or find) its draft pull request."""
    ensure_publishable(patch, publish_checked)
    if not token:
        raise PublishRefused(
            f"not published: AUTOCODER_PUBLISH=github needs GITHUB_TOKEN (with contents and "
            f"pull requests: write on {repo})"
        )
    pushed = push_branch(patch, remote, work_dir=work_dir)
    url = open_draft_pr(
        repo=repo, head=pushed.branch, base=pushed.default_branch, title=patch.title,
        body=patch.body, token=token, api_url=api_url,
    )  # fmt: skip
    return Published("github", pushed.branch, url, pushed.commit)


def open_draft_pr(
    *,
    repo: str,
    head: str,
    base: str,
    title: str,
    body: str,
    token: str,
    api_url: str,
    timeout_s: int = TIMEOUT_S,
) -> str:
    """The URL of the open pull request from ``head`` into ``base``: found, or made a draft."""
    client = Github(
        auth=Auth.Token(token), base_url=api_url.rstrip("/"), timeout=timeout_s, retry=None,
        seconds_between_requests=None, seconds_between_writes=None, lazy=True,
    )  # fmt: skip
    owner = repo.split("/", 1)[0]
    try:
        remote_repo = client.get_repo(repo, lazy=True)
        for pull in remote_repo.get_pulls(state="open", head=f"{owner}:{head}"):
            return str(pull.html_url)
        pull = remote_repo.create_pull(base=base, head=head, title=title, body=body, draft=True)
        return str(pull.html_url)
    except GithubException as exc:
        raise PublishError(redact(_explained(exc, repo, head, api_url), [token])) from None
    except OSError as exc:  # requests' errors are OSErrors: refused, reset, timed out, DNS
        raise PublishError(
            redact(
                f"cannot reach the GitHub API at {api_url} for {repo}: {type(exc).__name__}; "
                "check AUTOCODER_GITHUB_API_URL and the network",
                [token],
            )
        ) from None
    finally:
        client.close()


def _explained(exc: GithubException, repo: str, head: str, api_url: str) -> str:
    """GitHub's answer as a sentence: what it said, and what to do about it."""
    said = _github_says(exc)
    where = f"the pull request of {head} on {repo} ({api_url})"
    if exc.status == 401:
        return f"GitHub refused GITHUB_TOKEN for {where}: {said}; set a valid GITHUB_TOKEN"
    if exc.status == 403:
        return (
            f"GitHub forbade {where}: {said}; give GITHUB_TOKEN 'pull requests: write' on "
            f"{repo}, or wait if it is a rate limit"
        )
    if exc.status == 404:
        return (
            f"GitHub does not know {repo} for {where}: {said}; check AUTOCODER_GITHUB_REPO and "
            "that GITHUB_TOKEN can see the repository"
        )
    if exc.status == 422:
        return (
            f"GitHub would not open {where}: {said}; an open pull request for that branch, or "
            "a branch without changes, is to be closed or deleted by hand"
        )
    if exc.status >= 500:
        return (f"GitHub failed on {where} ({exc.status}): {said}; the patch is kept: apply it "
                "with `autocoder apply` and open the pull request by hand")  # fmt: skip
    return f"GitHub answered {exc.status} for {where}: {said}"


def _github_says(exc: GithubException) -> str:
    """``message`` and each ``errors[].message`` of GitHub's JSON answer, on one line."""
    data = exc.data if isinstance(exc.data, dict) else {}
    parts = [str(data.get("message") or exc.message or "no message")]
    for error in data.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
    return " ".join(" - ".join(parts).split())[:400]
