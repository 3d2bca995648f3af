"""A verified patch as a Hugging Face Hub pull request, for a target that is a Hub repo.

``HfApi.create_commit(..., create_pr=True)`` opens a pull request (revision ``refs/pr/N``) from
the patch's base commit and leaves ``main`` alone. A Hub commit carries whole files, so the
patch's new texts are sent (the same texts its diff was made from and verified with). The
commit description ends with the trailer ``Autocoder-Patch: <id>``: before opening a pull
request, the open ones are read, and one whose head commit has this patch's trailer is
answered instead, so re-publishing the same patch opens no second one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants
from huggingface_hub.errors import HfHubHTTPError

from autocoder.errors import PublishError, PublishRefused, redact
from autocoder.publish.body import Publishable, Published, ensure_publishable
from autocoder.publish.branch import TRAILER
from autocoder.store.hub_client import hub_api
from autocoder.store.hub_errors import NETWORK_ERRORS

HUB_HOSTS = ("huggingface.co", "hf.co")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_TYPES = {"datasets": "dataset", "spaces": "space", "models": "model"}


def hub_repo(target_url: str, endpoint: str | None = None) -> tuple[str, str, str] | None:
    """``(endpoint, repo_type, repo_id)`` of a Hub repo URL (``https://huggingface.co/datasets/
    ns/name``, ``.../spaces/ns/name``, ``.../ns/name`` for a model), else None. The Hub is
    huggingface.co or ``endpoint`` (default: the one huggingface_hub is configured with)."""
    parts = urlsplit(target_url.strip())
    base = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    known = (endpoint or constants.ENDPOINT).rstrip("/")
    if parts.scheme not in ("http", "https") or (parts.hostname not in HUB_HOSTS and base != known):
        return None
    segments = [s for s in parts.path.removesuffix(".git").split("/") if s]
    repo_type = _TYPES.get(segments[0], "") if segments else ""
    if repo_type:
        segments = segments[1:]
    if len(segments) != 2:
        return None
    return base, repo_type or "model", "/".join(segments)


def publish_hub(
    patch: Publishable,
    target_url: str,
    *,
    token: str | None,
    endpoint: str | None = None,
    publish_checked: bool = False,
) -> Published:
    """Open (or find) the Hub pull request of ``patch`` on the Hub repo ``target_url`` names."""
    ensure_publishable(patch, publish_checked)
    found = hub_repo(target_url, endpoint)
    if found is None:
        raise PublishRefused(
            f"not published: AUTOCODER_PUBLISH=hub needs a target that is a Hub repo URL "
            f"(https://huggingface.co/datasets/NS/NAME), not {target_url!r}"
        )
    if not token:
        raise PublishRefused("not published: AUTOCODER_PUBLISH=hub needs HF_TOKEN (write access)")
    base, repo_type, repo_id = found
    api = hub_api(token, endpoint=base)
    try:
        return _open_pr(api, patch, repo_type, repo_id)
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "no answer"
        said = " ".join(str(exc).split())[:300]
        raise PublishError(
            redact(
                f"the Hub answered {status} for a pull request on {repo_type} {repo_id}: {said}; "
                "check that HF_TOKEN may write to it (401/403), that it exists (404), or try "
                "again later (429, 5xx)",
                [token],
            )
        ) from None
    except NETWORK_ERRORS as exc:
        raise PublishError(
            redact(f"the Hub at {base} could not be reached for {repo_id}: {exc}", [token])
        ) from None


def _open_pr(api: HfApi, patch: Publishable, repo_type: str, repo_id: str) -> Published:
    if (existing := _open_pr_of(api, patch, repo_type, repo_id)) is not None:
        return existing
    parent = patch.base_commit if patch.base_commit and _COMMIT.match(patch.base_commit) else None
    info = api.create_commit(
        repo_id, repo_type=repo_type, operations=_operations(patch), create_pr=True,
        commit_message=patch.title, parent_commit=parent,
        commit_description=f"{patch.body.rstrip()}\n\n{TRAILER}: {patch.patch_id}\n",
    )  # fmt: skip
    if info.pr_url is None or info.pr_revision is None:
        raise PublishError(
            f"the Hub opened no pull request for patch {patch.patch_id} on {repo_id}: its files "
            "already hold the change"
        )
    return Published("hub", info.pr_revision, info.pr_url, info.oid)


def _open_pr_of(api: HfApi, patch: Publishable, repo_type: str, repo_id: str) -> Published | None:
    """The open pull request whose head commit is this patch's, if there is one."""
    mark = f"{TRAILER}: {patch.patch_id}"
    for pr in api.get_repo_discussions(
        repo_id, repo_type=repo_type, discussion_type="pull_request", discussion_status="open"
    ):
        if pr.git_reference is None:
            continue
        commits = api.list_repo_commits(repo_id, repo_type=repo_type, revision=pr.git_reference)
        if commits and mark in commits[0].message.splitlines():
            return Published("hub", pr.git_reference, pr.url, commits[0].commit_id)
    return None


def _operations(patch: Publishable) -> list[CommitOperationAdd | CommitOperationDelete]:
    deleted = set(patch.deleted)
    missing = [f for f in patch.files if f not in deleted and f not in patch.new_texts]
    if missing:
        raise PublishError(
            f"patch {patch.patch_id} has no new text for {', '.join(missing)}; the patch row "
            "is incomplete, so nothing was published"
        )
    return [
        CommitOperationDelete(path)
        if path in deleted
        else CommitOperationAdd(path, patch.new_texts[path].encode())
        for path in patch.files
    ]
