"""``autocoder deploy``: the worker datasets and one Space per app (or one combined Space), from
the installed package, in one command that can be run again (it changes only what differs).

Secrets cannot be read back from the Hub, so a secret already on a Space is kept unless
``--reset-secrets``; ``AUTOCODER_ADMIN_TOKEN`` is taken from the environment or generated, and
a generated one is printed once, by the run that set it. ``--dry-run`` sends GET requests only.
"""

from __future__ import annotations

import os
from typing import Annotated
from urllib.parse import urlsplit

import typer
from huggingface_hub import get_token

from autocoder.cli.common import invocation
from autocoder.deploy.apply import apply_plan
from autocoder.deploy.cards import DASHBOARD
from autocoder.deploy.hub import hub_call
from autocoder.deploy.plan import DeployPlan, make_plan
from autocoder.deploy.report import admin_token_line, plan_lines, sets_generated_admin_token
from autocoder.deploy.spaces import SpaceApp
from autocoder.deploy.wanted import (
    ADMIN_TOKEN,
    DASHBOARD_PASSTHROUGH,
    WORKER_PASSTHROUGH,
    Wanted,
    admin_token,
    choose_apps,
    passthrough,
)
from autocoder.engine.target import is_url
from autocoder.errors import ConfigError, redact
from autocoder.settings import Settings
from autocoder.store.hub_client import hub_api

Only = Annotated[
    str | None,
    typer.Option(metavar="APPS", help="comma-separated, e.g. analysis,dashboard (default: every "
                 "worker and the dashboard, one Space each)"),
]  # fmt: skip
GitTarget = Annotated[
    str | None,
    typer.Option("--target", metavar="URL", help="git URL the workers analyse "
                 "(AUTOCODER_TARGET; a Space cannot reach this machine's folders)"),
]  # fmt: skip
Combined = Annotated[
    bool, typer.Option("--combined", help="one Space 'autocoder' running every app")
]
Private = Annotated[
    bool | None,
    typer.Option("--private/--public", help="visibility of the repos it creates (default: "
                 "private) and of the existing Spaces; existing datasets are left as they are"),
]  # fmt: skip
Hardware = Annotated[
    str | None,
    typer.Option(metavar="FLAVOR", help="Space hardware, e.g. cpu-basic (default: left as is)"),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="print what would change; send GET requests only")
]
ResetSecrets = Annotated[
    bool, typer.Option("--reset-secrets", help="set every secret again, existing ones included")
]

NO_TARGET_NOTE = (
    "note: no --target or AUTOCODER_TARGET given: the worker Spaces keep the target they have "
    "(a new one has none); give --target https://github.com/OWNER/REPO"
)


def deploy(
    ctx: typer.Context,
    only: Only = None,
    combined: Combined = False,
    private: Private = None,
    hardware: Hardware = None,
    target: GitTarget = None,
    dry_run: DryRun = False,
    reset_secrets: ResetSecrets = False,
) -> None:
    """Create or update the worker datasets and Spaces on the Hub; print their URLs."""
    run = invocation(ctx)
    settings = run.start(target=target)
    apps = choose_apps(only, combined)
    token = hf_token(settings)
    run.secrets.append(token)
    api = hub_api(token)
    owner = settings.hf_username or hub_call(lambda: api.whoami()["name"], "whoami (HF_TOKEN)")
    if private is False and settings.github_token is not None and _has_workers(apps):
        raise ConfigError(
            "--public with GITHUB_TOKEN set: a target that needs a token is private, and public "
            "Spaces and datasets would show its code and findings to anyone; deploy without "
            "--public, or unset GITHUB_TOKEN if the target is public"
        )
    admin, generated = admin_token(_secret(settings.admin_token))
    run.secrets.append(admin)
    wanted = Wanted(
        owner=owner,
        apps=apps,
        secrets=_secrets(settings, token, admin),
        variables=worker_variables(settings) if _has_workers(apps) else {},
        dashboard_variables=passthrough(os.environ, DASHBOARD_PASSTHROUGH),
        private=private,
        hardware=hardware,
        reset_secrets=reset_secrets,
        admin_token_generated=generated,
    )
    plan = make_plan(api, wanted)
    check_one_admin_token(plan)
    hidden = [*run.secrets]

    def say(line: str) -> None:
        print(redact(line, hidden))

    if dry_run:
        say("dry run: only GET requests were sent; this is what `autocoder deploy` would do")
    for line in plan_lines(plan, every_file=dry_run):
        say(line)
    if "AUTOCODER_TARGET" not in wanted.variables and _has_workers(apps):
        say(NO_TARGET_NOTE)
    if dry_run:
        if sets_generated_admin_token(plan):
            say(f"{ADMIN_TOKEN}: a new one would be generated and printed once")
        return
    shown: list[bool] = []

    def show_generated_admin_token() -> None:
        """The one place the token is shown: as soon as it is on a Space, once."""
        if generated and not shown:
            shown.append(True)
            print(admin_token_line(admin), flush=True)

    apply_plan(api, plan, say, show_generated_admin_token)


def _has_workers(apps: tuple[SpaceApp, ...]) -> bool:
    return any(app.name != DASHBOARD for app in apps)


def check_one_admin_token(plan: DeployPlan) -> None:
    """Refuse to give some Spaces a new admin token while others keep the one they have:
    the user would hold one token that works on only some of them."""
    if not plan.admin_token_generated:
        return
    kept = [s.repo_id for s in plan.spaces if ADMIN_TOKEN in s.kept_secrets]
    new = [s.repo_id for s in plan.spaces if ADMIN_TOKEN in s.secrets]
    if kept and new:
        raise ConfigError(
            f"{', '.join(kept)} already has an {ADMIN_TOKEN} and {', '.join(new)} would get a "
            f"new one; export {ADMIN_TOKEN}=<the one printed by the first deploy> so every "
            "Space has the same, or add --reset-secrets to give every Space a new one"
        )


def hf_token(settings: Settings) -> str:
    """HF_TOKEN, else the token of ``hf auth login``; a ConfigError naming both otherwise."""
    token = _secret(settings.hf_token) or get_token()
    if not token:
        raise ConfigError(
            "HF_TOKEN is not set: deploying needs a Hugging Face token with write access; "
            "make one at https://huggingface.co/settings/tokens and export HF_TOKEN=... "
            "(or run `hf auth login`)"
        )
    return token


def worker_variables(settings: Settings) -> dict[str, str]:
    """AUTOCODER_TARGET (a git URL: a Space cannot see this machine's folders) and the
    pass-through settings that are set here."""
    variables = passthrough(os.environ, WORKER_PASSTHROUGH)
    if settings.was_given("target"):
        spec = settings.target.strip()
        if not is_url(spec):
            raise ConfigError(
                f"{settings.quoted('target')} is a local folder, which a Space cannot reach; "
                "give a git URL (https://github.com/OWNER/REPO)"
            )
        if carries_credentials(spec):
            raise ConfigError(
                "--target/AUTOCODER_TARGET carries credentials, and Space variables are public; "
                "give the URL without them and set GITHUB_TOKEN for a private repository"
            )
        variables["AUTOCODER_TARGET"] = spec
    if carries_credentials(variables.get("AUTOCODER_LLM_BASE_URL", "")):
        raise ConfigError(
            "AUTOCODER_LLM_BASE_URL carries credentials, and Space variables are public; give "
            "the URL without them and the key as AUTOCODER_LLM_API_KEY (a secret)"
        )
    return variables


def carries_credentials(url: str) -> bool:
    """``https://user:key@host/...``: userinfo in an http(s) URL."""
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and "@" in parts.netloc


def _secrets(settings: Settings, token: str, admin: str) -> dict[str, str]:
    values = {
        "HF_TOKEN": token,
        ADMIN_TOKEN: admin,
        "GITHUB_TOKEN": _secret(settings.github_token),
        "AUTOCODER_LLM_API_KEY": _secret(settings.llm_api_key),
    }
    return {name: value for name, value in values.items() if value}


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else None


def register(app: typer.Typer) -> None:
    app.command("deploy", help="create or update the datasets and Spaces on the Hub")(deploy)
