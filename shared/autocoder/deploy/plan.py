"""What ``autocoder deploy`` would change on the Hub: read what is there (GET requests only),
compare it with what the Spaces should be, and keep the differences.

A plan is what ``--dry-run`` prints and what :mod:`.apply` carries out, so the two can never
disagree. Secret values cannot be read back from the Hub: a secret that exists is kept unless
``reset_secrets``; variables are compared by value; variables the deploy does not own are left.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from autocoder.deploy.bundle import space_files
from autocoder.deploy.hub import hub_call
from autocoder.deploy.spaces import SpaceApp
from autocoder.deploy.wanted import Wanted, space_secret_names, space_variables

ADDED, CHANGED, DELETED, UNCHANGED = "added", "changed", "deleted", "unchanged"
KEPT_ON_THE_SPACE = frozenset({".gitattributes"})  # the Hub's own file: never deleted


@dataclass
class DatasetPlan:
    repo_id: str
    create: bool
    private: bool  # for a new repo; an existing one keeps its visibility


@dataclass
class SpacePlan:
    """One Space: whether to create it, each file's fate, the settings to send."""

    app: SpaceApp
    repo_id: str
    create: bool
    private: bool | None  # the visibility to set; None: leave it as it is
    files: dict[str, str]  # path -> ADDED | CHANGED | DELETED | UNCHANGED
    content: dict[str, bytes]  # what to upload, by path (added and changed only)
    secrets: dict[str, str]  # name -> value to set (values never printed)
    kept_secrets: list[str]  # already on the Space, kept
    variables: dict[str, str]  # name -> value to set
    unchanged_variables: dict[str, str]
    hardware: str | None  # the flavor to request; None: nothing to request

    @property
    def commit_needed(self) -> bool:
        return any(state != UNCHANGED for state in self.files.values())

    def count(self, state: str) -> int:
        return sum(1 for s in self.files.values() if s == state)


@dataclass
class DeployPlan:
    owner: str
    datasets: list[DatasetPlan] = field(default_factory=list)
    spaces: list[SpacePlan] = field(default_factory=list)
    admin_token_generated: bool = False  # the admin token was made for this run: print it once


def git_blob_sha(data: bytes) -> str:
    """The id the Hub gives a regular file (a git blob sha1), to tell unchanged files apart."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def make_plan(api: HfApi, wanted: Wanted) -> DeployPlan:
    """Read the Hub (GET only) and return what differs from ``wanted``."""
    plan = DeployPlan(wanted.owner, admin_token_generated=wanted.admin_token_generated)
    for dataset in wanted.datasets():
        repo_id = f"{wanted.owner}/{dataset}"
        exists = _exists(api, repo_id, "dataset")
        plan.datasets.append(DatasetPlan(repo_id, not exists, wanted.private is not False))
    for app in wanted.apps:
        plan.spaces.append(_space_plan(api, wanted, app))
    return plan


def _exists(api: HfApi, repo_id: str, repo_type: str) -> bool:
    try:
        hub_call(lambda: api.repo_info(repo_id, repo_type=repo_type), repo_id)
    except RepositoryNotFoundError:
        return False
    return True


def _space_plan(api: HfApi, wanted: Wanted, app: SpaceApp) -> SpacePlan:
    repo_id = f"{wanted.owner}/{app.space}"
    staged = space_files(app.name)
    secrets = {name: wanted.secrets[name] for name in space_secret_names(app, wanted)}
    variables = space_variables(app, wanted)
    try:
        info = hub_call(lambda: api.space_info(repo_id), repo_id)
    except RepositoryNotFoundError:
        files = dict.fromkeys(staged, ADDED)
        return SpacePlan(app, repo_id, True, wanted.private is not False, files, staged,
                         secrets, [], variables, {}, wanted.hardware)  # fmt: skip
    remote = _remote_blobs(api, repo_id)
    files = _file_states(staged, remote)
    existing_secrets = set(hub_call(lambda: api.get_space_secrets(repo_id), repo_id))
    kept = [] if wanted.reset_secrets else sorted(existing_secrets & set(secrets))
    current = {
        key: var.value
        for key, var in hub_call(lambda: api.get_space_variables(repo_id), repo_id).items()
    }
    runtime = info.runtime
    hardware_now = (runtime.requested_hardware or runtime.hardware) if runtime else None
    return SpacePlan(
        app,
        repo_id,
        create=False,
        private=wanted.private if wanted.private not in (None, info.private) else None,
        files=files,
        content={path: staged[path] for path, state in files.items() if state in (ADDED, CHANGED)},
        secrets={k: v for k, v in secrets.items() if k not in kept},
        kept_secrets=kept,
        variables={k: v for k, v in variables.items() if current.get(k) != v},
        unchanged_variables={k: v for k, v in variables.items() if current.get(k) == v},
        hardware=wanted.hardware if wanted.hardware not in (None, hardware_now) else None,
    )


def _remote_blobs(api: HfApi, repo_id: str) -> dict[str, str]:
    """Path -> a content id comparable with :func:`_content_id` (sha256 for LFS files)."""
    entries = hub_call(
        lambda: list(api.list_repo_tree(repo_id, repo_type="space", recursive=True)), repo_id
    )
    blobs: dict[str, str] = {}
    for entry in entries:
        blob_id = getattr(entry, "blob_id", None)
        if blob_id is None:
            continue  # a folder
        lfs = getattr(entry, "lfs", None)
        blobs[entry.path] = f"lfs:{lfs.sha256}" if lfs else blob_id
    return blobs


def _content_id(data: bytes, remote_id: str | None) -> str:
    if remote_id is not None and remote_id.startswith("lfs:"):
        return f"lfs:{hashlib.sha256(data).hexdigest()}"
    return git_blob_sha(data)


def _file_states(staged: dict[str, bytes], remote: dict[str, str]) -> dict[str, str]:
    states = {}
    for path, data in staged.items():
        if path not in remote:
            states[path] = ADDED
        else:
            same = _content_id(data, remote[path]) == remote[path]
            states[path] = UNCHANGED if same else CHANGED
    for path in remote:
        if path not in staged and path not in KEPT_ON_THE_SPACE:
            states[path] = DELETED
    return dict(sorted(states.items()))
