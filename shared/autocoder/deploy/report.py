"""A plan as the lines ``autocoder deploy`` prints: every repo, file, secret NAME (never a
value), variable and hardware request, then each Space's page and app URL."""

from __future__ import annotations

from huggingface_hub import constants

from autocoder.deploy.plan import UNCHANGED, DeployPlan, SpacePlan
from autocoder.deploy.wanted import ADMIN_TOKEN, space_url

FILES_LISTED = 12  # more files in one state are counted, except with --dry-run


def page_url(repo_id: str) -> str:
    return f"{constants.ENDPOINT.rstrip('/')}/spaces/{repo_id}"


def app_url(repo_id: str) -> str:
    owner, _, name = repo_id.partition("/")
    return space_url(owner, name)


def plan_lines(plan: DeployPlan, every_file: bool) -> list[str]:
    """What will be done; ``every_file`` lists unchanged files too (``--dry-run``)."""
    lines = []
    for dataset in plan.datasets:
        visibility = "private" if dataset.private else "public"
        state = f"create ({visibility})" if dataset.create else "exists, left as it is"
        lines.append(f"dataset {dataset.repo_id}: {state}")
    for space in plan.spaces:
        lines += _space_lines(space, every_file)
    return lines


def _space_lines(space: SpacePlan, every_file: bool) -> list[str]:
    if space.create:
        head = f"create (gradio, {'public' if space.private is False else 'private'})"
    else:
        visibility = {None: "", True: ", make private", False: ", make public"}[space.private]
        head = f"exists{visibility}"
    lines = [f"Space {space.repo_id} ({space.app.name}): {head}"]
    by_state: dict[str, list[str]] = {}
    for path, state in space.files.items():
        by_state.setdefault(state, []).append(path)
    for state, paths in by_state.items():
        if every_file or (state != UNCHANGED and len(paths) <= FILES_LISTED):
            lines += [f"  file {state:<9} {path}" for path in paths]
        else:  # a new Space's 260 library files: counted; --dry-run lists them
            lines.append(f"  file {state:<9} {len(paths)} files")
    if not space.commit_needed:
        lines.append("  no commit: every file is as staged")
    lines += [f"  secret {name}: set" for name in space.secrets]
    lines += [
        f"  secret {name}: kept (already on the Space; --reset-secrets replaces it)"
        for name in space.kept_secrets
    ]
    lines += [f"  variable {k}={v}: set" for k, v in space.variables.items()]
    lines += [f"  variable {k}={v}: unchanged" for k, v in space.unchanged_variables.items()]
    if space.hardware is not None:
        lines.append(f"  hardware {space.hardware}: request")
    lines.append(f"  page {page_url(space.repo_id)}")
    lines.append(f"  app  {app_url(space.repo_id)}")
    return lines


def sets_generated_admin_token(plan: DeployPlan) -> bool:
    """Whether this run sends the admin token it generated (then it is printed, once)."""
    return plan.admin_token_generated and any(ADMIN_TOKEN in s.secrets for s in plan.spaces)


def admin_token_line(token: str) -> str:
    return (
        f"{ADMIN_TOKEN} (shown this once; keep it: start, stop and submit on the Spaces need "
        f"it): {token}"
    )
