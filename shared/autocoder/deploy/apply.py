"""Carry out a :class:`~autocoder.deploy.plan.DeployPlan`: the only module that writes to the Hub.

Per Space: create it (with its secrets, variables and hardware in the same request), else set
what differs; then ONE commit with the added, changed and deleted files, and none when nothing
differs. Every call goes through :func:`~autocoder.deploy.hub.hub_call` (retries, clear errors).
"""

from __future__ import annotations

from collections.abc import Callable

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

from autocoder.deploy.hub import hub_call
from autocoder.deploy.plan import ADDED, CHANGED, DELETED, DeployPlan, SpacePlan
from autocoder.deploy.wanted import ADMIN_TOKEN

Say = Callable[[str], None]


def apply_plan(
    api: HfApi, plan: DeployPlan, say: Say = print, admin_sent: Callable[[], None] = lambda: None
) -> None:
    """Carry out ``plan``; ``admin_sent`` is called each time the admin token reaches a Space,
    at once, so a token shown only once is shown even when a later step fails."""
    for dataset in plan.datasets:
        if dataset.create:
            hub_call(
                lambda d=dataset: api.create_repo(  # type: ignore[misc]
                    d.repo_id, repo_type="dataset", private=d.private, exist_ok=True
                ),
                f"dataset repo {dataset.repo_id!r}",
            )
            say(f"created dataset {dataset.repo_id}")
    for space in plan.spaces:
        _apply_space(api, space, say, admin_sent)


def _apply_space(api: HfApi, space: SpacePlan, say: Say, admin_sent: Callable[[], None]) -> None:
    what = f"Space {space.repo_id!r}"
    if space.create:
        hub_call(
            lambda: api.create_repo(
                space.repo_id,
                repo_type="space",
                space_sdk="gradio",
                private=space.private is not False,
                space_hardware=space.hardware,  # type: ignore[arg-type]
                space_secrets=[{"key": k, "value": v} for k, v in space.secrets.items()],
                space_variables=[{"key": k, "value": v} for k, v in space.variables.items()],
                exist_ok=True,
            ),
            what,
        )
        say(f"created Space {space.repo_id} with {len(space.secrets)} secrets, "
            f"{len(space.variables)} variables")  # fmt: skip
        if ADMIN_TOKEN in space.secrets:
            admin_sent()
    else:
        _update_settings(api, space, what, say, admin_sent)
    _commit(api, space, what, say)


def _update_settings(
    api: HfApi, space: SpacePlan, space_name: str, say: Say, admin_sent: Callable[[], None]
) -> None:
    what = f"the settings of {space_name}"
    if space.private is not None:
        hub_call(
            lambda: api.update_repo_settings(
                space.repo_id, repo_type="space", private=space.private
            ),
            what,
        )
        say(f"{space.repo_id}: made {'private' if space.private else 'public'}")
    for key, value in space.secrets.items():
        hub_call(lambda k=key, v=value: api.add_space_secret(space.repo_id, k, v), what)  # type: ignore[misc]
        say(f"{space.repo_id}: secret {key} set")
        if key == ADMIN_TOKEN:
            admin_sent()
    for key, value in space.variables.items():
        hub_call(lambda k=key, v=value: api.add_space_variable(space.repo_id, k, v), what)  # type: ignore[misc]
        say(f"{space.repo_id}: variable {key}={value} set")
    if space.hardware is not None:
        hardware = space.hardware
        hub_call(
            lambda: api.request_space_hardware(space.repo_id, hardware),  # type: ignore[arg-type]
            f"the hardware {hardware} of {space_name}",
        )
        say(f"{space.repo_id}: hardware {hardware} requested")


def _commit(api: HfApi, space: SpacePlan, what: str, say: Say) -> None:
    if not space.commit_needed:
        say(f"{space.repo_id}: files unchanged, no commit")
        return

    def operations() -> list[CommitOperationAdd | CommitOperationDelete]:
        """Made afresh for each attempt: an operation remembers its upload state."""
        adds = [
            CommitOperationAdd(path_in_repo=path, path_or_fileobj=data)
            for path, data in sorted(space.content.items())
        ]
        deletes = [
            CommitOperationDelete(path_in_repo=path)
            for path, state in space.files.items()
            if state == DELETED
        ]
        return [*adds, *deletes]

    counts = ", ".join(
        f"{space.count(state)} {state}" for state in (ADDED, CHANGED, DELETED) if space.count(state)
    )
    hub_call(
        lambda: api.create_commit(
            space.repo_id,
            operations(),
            commit_message=f"autocoder deploy: {counts}",
            repo_type="space",
        ),
        f"the commit to {what}",
    )
    say(f"{space.repo_id}: one commit, {counts}")
