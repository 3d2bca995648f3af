"""The one errors module. Each message names the bad value, where it came from, and the fix."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class AutocoderError(Exception):
    """Base class of every error autocoder raises on purpose."""


class ConfigError(AutocoderError):
    """A setting or argument has a value autocoder cannot use."""


class TargetError(AutocoderError):
    """The repository to analyse is missing, unreachable or unusable."""


class StoreError(AutocoderError):
    """A dataset could not be read or written."""


class HubUnavailable(StoreError):
    """The Hub did not accept a request; the data stays in the local buffer."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ToolError(AutocoderError):
    """An analyser could not run or failed."""


class ToolMissing(ToolError):
    """An analyser is not installed."""

    def __init__(self, tool: str, install: str) -> None:
        super().__init__(f"{tool} is not installed; install it with: {install}")
        self.tool = tool


class ToolTimeout(ToolError):
    """An analyser ran longer than its timeout."""


class PerspectiveSkipped(AutocoderError):
    """A perspective cannot run on this target; the record says why instead of inventing output.

    ``state``, when given, is kept as the perspective's state for its next run, as an ok run's
    is: what it learnt while finding it could not run (e.g. the items it asked in vain)."""

    def __init__(self, message: str, state: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.state = state


class UnsafeName(AutocoderError):
    """A value from the target was to be written into a test as a Python name, and is not one."""


class Unauthorized(AutocoderError):
    """A control action was asked for by a visitor who may not take it."""


class FixerError(AutocoderError):
    """A fixer could not make its change: it crashed, timed out, or found nothing to change."""


class PatchError(AutocoderError):
    """A patch does not apply: to a scratch copy at its base commit, or to the user's checkout."""


class TaskRejected(AutocoderError):
    """A task (from tasks.json or the task API) is not one the worker can take, and why."""


class PublishError(AutocoderError):
    """A verified patch could not be published: the push, the pull request or the Hub failed."""


class PublishRefused(PublishError):
    """Publishing was refused on purpose: the patch is not verified, or the branch is not one
    autocoder made (the default branch, a name outside ``autocoder/``, someone else's commit)."""


class LLMError(AutocoderError):
    """The language model could not give a usable answer: it timed out, refused the request
    (429, 5xx, a bad key), could not be reached, or answered in a form the stage cannot use."""


class LLMRateLimited(LLMError):
    """The language model answered HTTP 429; ``retry_after_s`` is its Retry-After, if any."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class LLMBudgetSpent(LLMError):
    """The daily token budget (AUTOCODER_LLM_DAILY_TOKENS) is spent; no call until it resets."""

    def __init__(self, message: str, resets_at: datetime) -> None:
        super().__init__(message)
        self.resets_at = resets_at


def redact(text: str, secrets: list[str | None]) -> str:
    """Return ``text`` with every non-empty secret value replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def one_line(error: Exception, secrets: list[str | None]) -> str:
    """The message printed when a command or an app cannot start: one line, secrets hidden.

    An OSError that reached the top (full disk, a file where a folder must be, a read-only
    folder) is told as what could not be used and why, never as a traceback.
    """
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        text = f"cannot use{where}: {error.strerror or error}"
        if error.filename2:
            text += f" (and {error.filename2})"
    else:
        text = str(error) or type(error).__name__
    return redact(" ".join(text.split()), secrets)


class DeployError(AutocoderError):
    """``autocoder deploy`` could not create, upload or configure a repo on the Hub."""
