"""Typed settings from environment variables (prefix ``AUTOCODER_``), read once.

Every setting has a default that works locally with no token. The Hub and git tokens keep their
usual names (``HF_TOKEN``, ``HF_USERNAME``, ``GITHUB_TOKEN``) and are held as ``SecretStr`` so
they never show in a repr, a log line or an error message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from autocoder.errors import ConfigError

ALIASED = {"HF_TOKEN", "HF_USERNAME", "GITHUB_TOKEN", "SPACE_ID", "SPACE_AUTHOR_NAME",
           "SPACE_HOST", "OAUTH_CLIENT_ID"}  # fmt: skip


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTOCODER_", extra="ignore", frozen=True, populate_by_name=True
    )

    target: str = Field(".", description="directory or git URL to analyse")
    data_dir: Path = Field(Path("autocoder-data"), description="where the local datasets live")
    cache_dir: Path | None = Field(
        None, description="analysis cache and clones (default: DATA_DIR/.cache)"
    )
    interval_s: float | None = Field(
        None, description="seconds between iterations (worker default)"
    )
    iteration_timeout_s: float = 900.0
    tool_timeout_s: float = 600.0
    tool_memory_mb: int = Field(
        4096, description="address-space limit of each analyser or test subprocess, in MiB"
    )
    max_file_bytes: int = Field(
        1_000_000, description="target files larger than this are skipped, with the reason"
    )
    max_shard_bytes: int = Field(
        20_000_000,
        description="cap of one iteration's rows per config (0: none); the overflow is counted",
    )
    fetch_interval_s: float = Field(
        600.0, description="how often a git URL target is fetched again"
    )
    run_target_tests: bool = Field(False, description="execute the target's tests (off by default)")
    network: bool = Field(True, description="allow network lookups such as pip-audit")
    port: int = Field(7860, validation_alias=AliasChoices("AUTOCODER_PORT", "GRADIO_SERVER_PORT"))
    host: str | None = Field(
        None, description="bind address (default 127.0.0.1, 0.0.0.0 on a Space)"
    )
    hub_repo: str | None = Field(
        None, description="USER/NAME overriding the dataset repo of one worker"
    )
    hub_private: bool = True
    push_every_s: float = Field(300.0, description="seconds between Hub commits (128/hour limit)")
    admin_token: SecretStr | None = None
    iterations: int = Field(1, description="iterations of `autocoder once`")
    fail_on: str = Field("high", description="severity at which `autocoder gate` fails")
    worker_urls: str | None = Field(
        None,
        description="NAME=URL,... whose /health the dashboard pings (default: derived; '' = none)",
    )
    dashboard_refresh_s: float = Field(10.0, description="seconds between dashboard refreshes")
    dashboard_sessions: int = Field(128, description="browser sessions the dashboard keeps")
    publish: Literal["off", "github", "hub"] = Field(
        "off", description="publish verified patches as a GitHub draft PR or a Hub PR"
    )
    publish_checked: bool = Field(
        False, description="also publish 'checked' patches (static checks only, tests not run)"
    )
    github_api_url: str = Field(
        "https://api.github.com", description="GitHub REST API root (GitHub Enterprise: .../api/v3)"
    )
    github_repo: str | None = Field(
        None, description="OWNER/NAME of the pull requests (default: from the target's remote)"
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible API root of a language model (e.g. .../v1)"
    )
    llm_api_key: SecretStr | None = Field(None, description="the key of AUTOCODER_LLM_BASE_URL")
    llm_model: str | None = Field(None, description="model id asked at the endpoint or provider")
    llm_provider: str | None = Field(
        None, description="Hugging Face Inference Provider (with HF_TOKEN), e.g. 'auto', 'together'"
    )
    llm_daily_tokens: int = Field(
        200_000, ge=0, description="tokens the model may use per UTC day (0: no model calls)"
    )
    llm_timeout_s: float = Field(60.0, gt=0, description="seconds one model answer may take")
    hf_token: SecretStr | None = Field(None, validation_alias="HF_TOKEN")
    hf_username: str | None = Field(None, validation_alias="HF_USERNAME")
    github_token: SecretStr | None = Field(None, validation_alias="GITHUB_TOKEN")
    space_id: str | None = Field(None, validation_alias="SPACE_ID")
    # Set by Hugging Face on a Space: the owner, the public host, and (hf_oauth: true) OAuth.
    space_author_name: str | None = Field(None, validation_alias="SPACE_AUTHOR_NAME")
    space_host: str | None = Field(None, validation_alias="SPACE_HOST")
    oauth_client_id: str | None = Field(None, validation_alias="OAUTH_CLIENT_ID")
    # The settings given as command-line flags (load_settings), so a message names what was typed.
    _flags: frozenset[str] = PrivateAttr(default=frozenset())

    @field_validator(
        "interval_s",
        "push_every_s",
        "iteration_timeout_s",
        "tool_timeout_s",
        "tool_memory_mb",
        "max_file_bytes",
        "max_shard_bytes",
    )
    @classmethod
    def _non_negative(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError(f"{value!r} is negative; use a number of seconds >= 0")
        return value

    @field_validator("dashboard_refresh_s")
    @classmethod
    def _positive_seconds(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"{value!r} is not a positive number of seconds; try 10")
        return value

    @field_validator("dashboard_sessions")
    @classmethod
    def _positive_sessions(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"{value!r} is not a positive whole number of sessions; try 128")
        return value

    @property
    def cache_path(self) -> Path:
        return self.cache_dir or self.data_dir / ".cache"

    @property
    def on_space(self) -> bool:
        return self.space_id is not None

    @property
    def bind_host(self) -> str:
        return self.host or ("0.0.0.0" if self.on_space else "127.0.0.1")  # noqa: S104

    @property
    def hub_mode(self) -> bool:
        return self.hf_token is not None and (self.owner or self.hub_repo) is not None

    @property
    def owner(self) -> str | None:
        """Whose datasets: ``HF_USERNAME``, else on a Space its owner (``SPACE_AUTHOR_NAME``), so
        a Space given only ``HF_TOKEN`` still writes to the Hub instead of its passing disk."""
        return self.hf_username or (self.space_author_name if self.on_space else None)

    def repo_id(self, dataset: str) -> str | None:
        """The Hub repo of a dataset, or None in local mode."""
        if self.hub_repo:
            return self.hub_repo
        return f"{self.owner}/{dataset}" if self.owner else None

    def given_as(self, name: str) -> str:
        """How the user gave setting ``name``: ``--data-dir`` for a flag, else its environment
        variable (the one that is set, for a setting with two: ``GRADIO_SERVER_PORT``)."""
        if name in self._flags:
            return flag_name(name)
        names = env_names(name)
        return next((env for env in names if env in os.environ), names[0])

    def quoted(self, name: str) -> str:
        """Setting ``name`` as the user gave it, for a message: ``--data-dir '/x'``."""
        return as_given(self.given_as(name), getattr(self, name))

    def was_given(self, name: str) -> bool:
        """Whether ``name`` came from a flag or the environment, not from its default."""
        return name in self._flags or any(env in os.environ for env in env_names(name))

    def secrets(self) -> list[str | None]:
        return [
            s.get_secret_value() if s else None
            for s in (self.hf_token, self.github_token, self.admin_token, self.llm_api_key)
        ]


def env_name(loc: tuple[int | str, ...]) -> str:
    """The environment variable a validation error is about: ``AUTOCODER_PORT``, ``HF_TOKEN``."""
    name = "_".join(map(str, loc)).upper()
    named_by_alias = name in ALIASED or name.startswith(("AUTOCODER_", "GRADIO_"))
    return name if named_by_alias else f"AUTOCODER_{name}"


def as_given(given_as: str, value: object) -> str:
    """A value as the user typed it: ``--target '/x'`` for a flag, ``AUTOCODER_TARGET='/x'``."""
    shown = repr(str(value))
    return f"{given_as} {shown}" if given_as.startswith("--") else f"{given_as}={shown}"


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def env_names(name: str) -> list[str]:
    """The environment variables of setting ``name``, the first the one to suggest."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [alias] if isinstance(alias, str) else [env_name((name,))]


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with CLI flags (non-None) taking precedence."""
    flags = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings(**flags)  # type: ignore[arg-type]
    except ValidationError as e:
        problems = "; ".join(_named(err["loc"], flags) + f": {err['msg']}" for err in e.errors())
        raise ConfigError(f"invalid settings: {problems}") from None
    settings._flags = frozenset(flags)
    return settings


def _named(loc: tuple[int | str, ...], flags: dict[str, object]) -> str:
    """A validation error's setting as the user gave it: ``--port 'x'`` or ``AUTOCODER_PORT``."""
    name = str(loc[0]) if loc else ""
    if name in flags:
        return f"{flag_name(name)} {flags[name]!r}"
    for field in Settings.model_fields:  # a setting with two variables: the one that is set
        names = env_names(field)
        if len(names) > 1 and name in names:
            return next((env for env in names if env in os.environ), name)
    return env_name(loc)
