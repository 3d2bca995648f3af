"""What the user asked ``autocoder deploy`` for: which Spaces, whose, and what each should hold.

Which secret and variable goes to which Space is decided here and nowhere else: the dashboard
only reads (``HF_TOKEN``, its worker URLs); a worker Space (and the combined one) also gets the
admin token, the GitHub token and the model key when they are set, and the target.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from autocoder.deploy.cards import COMBINED, DASHBOARD
from autocoder.deploy.spaces import SpaceApp, separate_apps, space_app
from autocoder.errors import ConfigError
from autocoder.workers import catalog

ADMIN_TOKEN = "AUTOCODER_ADMIN_TOKEN"  # noqa: S105 (a name, not a value)
WORKER_SECRETS = ("HF_TOKEN", ADMIN_TOKEN, "GITHUB_TOKEN", "AUTOCODER_LLM_API_KEY")
DASHBOARD_SECRETS = ("HF_TOKEN",)
# Passed on to the worker Spaces as variables when set where deploy runs (never secrets).
WORKER_PASSTHROUGH = (
    "AUTOCODER_INTERVAL_S",
    "AUTOCODER_PUSH_EVERY_S",
    "AUTOCODER_RUN_TARGET_TESTS",
    "AUTOCODER_LLM_BASE_URL",
    "AUTOCODER_LLM_MODEL",
    "AUTOCODER_LLM_PROVIDER",
    "AUTOCODER_LLM_DAILY_TOKENS",
)
DASHBOARD_PASSTHROUGH = ("AUTOCODER_DASHBOARD_REFRESH_S",)


@dataclass(frozen=True)
class Wanted:
    """The Spaces to deploy and every value they may get. ``private`` None: new repos private,
    existing ones left as they are; ``hardware`` None: nothing requested (new Spaces get the
    Hub's default, cpu-basic)."""

    owner: str
    apps: tuple[SpaceApp, ...]
    secrets: Mapping[str, str]  # every secret value known: name -> value
    variables: Mapping[str, str] = field(default_factory=dict)  # worker variables (no HF_USERNAME)
    dashboard_variables: Mapping[str, str] = field(default_factory=dict)
    private: bool | None = None
    hardware: str | None = None
    reset_secrets: bool = False
    admin_token_generated: bool = False

    def datasets(self) -> list[str]:
        """The dataset repos of the workers being deployed (every worker for ``combined``)."""
        names = {app.name for app in self.apps}
        return [
            info.dataset for info in catalog.runnable() if info.name in names or COMBINED in names
        ]


def choose_apps(only: str | None, combined: bool) -> tuple[SpaceApp, ...]:
    """``--only analysis,dashboard`` or ``--combined``; every separate Space by default."""
    if combined:
        if only:
            raise ConfigError(
                f"--only {only!r} and --combined cannot be used together: the combined Space "
                "runs every worker; drop one of them"
            )
        return (space_app(COMBINED),)
    if not only:
        return tuple(separate_apps())
    names = [name.strip() for name in only.split(",") if name.strip()]
    known = {app.name: app for app in separate_apps()}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        what = f"there is no Space app {unknown[0]!r}" if unknown else "no Space app is named"
        hint = " (for one Space running them all: --combined)" if COMBINED in unknown else ""
        raise ConfigError(f"--only {only!r}: {what}; choose from: {', '.join(known)}{hint}")
    return tuple(app for name, app in known.items() if name in names)


def admin_token(given: str | None) -> tuple[str, bool]:
    """The admin token to set: the one given, else a new one (and True: print it once)."""
    if given:
        return given, False
    return secrets.token_urlsafe(32), True


def passthrough(environ: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: environ[name] for name in names if environ.get(name, "").strip()}


def space_url(owner: str, space: str) -> str:
    """A Space's app URL: the owner lowercased, ``_`` and ``.`` turned into ``-``."""
    return f"https://{re.sub(r'[_.]', '-', owner.lower())}-{space}.hf.space"


def space_secret_names(app: SpaceApp, wanted: Wanted) -> list[str]:
    names = DASHBOARD_SECRETS if app.name == DASHBOARD else WORKER_SECRETS
    return [name for name in names if wanted.secrets.get(name)]


def space_variables(app: SpaceApp, wanted: Wanted) -> dict[str, str]:
    """The variables ``app``'s Space should have (others on it are left alone)."""
    variables = {"HF_USERNAME": wanted.owner}
    if app.name == DASHBOARD:
        urls = ",".join(
            f"{info.name}={space_url(wanted.owner, info.space)}" for info in catalog.runnable()
        )
        return variables | {"AUTOCODER_WORKER_URLS": urls, **wanted.dashboard_variables}
    variables |= wanted.variables
    if app.name == COMBINED:
        variables |= wanted.dashboard_variables
    return variables
