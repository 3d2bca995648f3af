"""What every language model client shares: the answer type, the protocol, one retry, messages.

The clients (:mod:`autocoder.llm.openai_chat`, :mod:`autocoder.llm.hf_chat`) turn every error of
their library into an :class:`~autocoder.errors.LLMError` here, so a stage sees one error type
whose message names the endpoint, the model and the fix, never the key. A 429 is retried once,
after its Retry-After if that is short; anything else fails at once: the next iteration is the
retry, and a stage never waits minutes on a model.
"""

from __future__ import annotations

import email.utils
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from autocoder.errors import LLMError, LLMRateLimited, redact

MAX_WAIT_S = 10.0  # the longest Retry-After honoured before the one retry
DEFAULT_WAIT_S = 1.0  # the wait before the retry of a 429 without Retry-After
MAX_QUOTED = 200  # characters of a server message or an answer quoted in an error
CHARS_PER_TOKEN = 4  # the estimate of tokens used when an answer reports no usage


@dataclass(frozen=True)
class Completion:
    """One answer of a model: its text and the tokens it cost (what records and the budget
    need). ``model`` is the model id the endpoint says answered, else the one asked."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatModel(Protocol):
    """A chat model as the stages use it: one system and one user message in, text out."""

    @property
    def name(self) -> str:
        """The model id, as configured (AUTOCODER_LLM_MODEL)."""
        ...

    @property
    def where(self) -> str:
        """The model and its endpoint for a message: ``model 'm' at host:port``."""
        ...

    def complete(self, system: str, user: str, *, max_tokens: int) -> Completion: ...


class RetryingChatModel(ABC):
    """A :class:`ChatModel` whose subclasses make one request; this class retries a 429 once.

    ``sleep`` is injectable so tests can see the wait without waiting."""

    def __init__(
        self,
        name: str,
        where: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        self._name = name
        self._where = where
        self._sleep = sleep
        self._max_wait_s = max_wait_s

    @property
    def name(self) -> str:
        return self._name

    @property
    def where(self) -> str:
        return self._where

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._where})"

    def complete(self, system: str, user: str, *, max_tokens: int) -> Completion:
        try:
            return self.complete_once(system, user, max_tokens=max_tokens)
        except LLMRateLimited as e:
            first = e  # handled below, outside the except block: nothing chained
        wait = self._wait_before_retry(first)
        self._sleep(wait)
        try:
            return self.complete_once(system, user, max_tokens=max_tokens)
        except LLMRateLimited as e:
            second = e
        again = f"{second} (again, after one retry {wait:g} s later)"
        raise LLMRateLimited(again, second.retry_after_s)

    def _wait_before_retry(self, error: LLMRateLimited) -> float:
        wait = DEFAULT_WAIT_S if error.retry_after_s is None else max(error.retry_after_s, 0.0)
        if wait > self._max_wait_s:
            longer = f"{error}; its Retry-After of {wait:g} s is longer than autocoder waits"
            raise LLMRateLimited(
                f"{longer} ({self._max_wait_s:g} s), so the next iteration tries again",
                error.retry_after_s,
            )
        return wait

    @abstractmethod
    def complete_once(self, system: str, user: str, *, max_tokens: int) -> Completion:
        """One request, every library error turned into an :class:`LLMError`."""


def messages(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def read_answer(
    model: RetryingChatModel, answer: Any, prompt: str, secrets: list[str | None]
) -> Completion:
    """The :class:`Completion` of a chat completion object (``openai``'s or
    ``huggingface_hub``'s: the same shape). Without usage counts the tokens are estimated
    (characters / 4) so the budget still counts the call."""
    try:
        text = answer.choices[0].message.content
        usage = answer.usage
        counts = None if usage is None else (int(usage.prompt_tokens), int(usage.completion_tokens))
        answered_by = answer.model if isinstance(answer.model, str) else None
    except (AttributeError, IndexError, TypeError, KeyError, ValueError):
        error = unreadable_error(model.where, quoted(str(answer), secrets))
    else:
        return _completion(model, text, answered_by, counts, prompt)
    raise error


def _completion(
    model: RetryingChatModel,
    text: object,
    answered_by: str | None,
    usage: tuple[int, int] | None,
    prompt: str,
) -> Completion:
    if not isinstance(text, str) or not text.strip():
        raise LLMError(
            f"{model.where} answered with no text; check that AUTOCODER_LLM_MODEL is a chat model"
        )
    if usage is None:
        usage = (_estimate(prompt), _estimate(text))
    return Completion(text, answered_by or model.name, usage[0], usage[1])


def _estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def status_error(
    where: str, status: int, says: str, retry_after_s: float | None, key_var: str
) -> LLMError:
    """The error of an HTTP error answer, with what to do about it."""
    said = f": {says}" if says else ""
    if status == 429:
        after = "" if retry_after_s is None else f", Retry-After {retry_after_s:g} s"
        return LLMRateLimited(
            f"{where} is rate limited (HTTP 429{after}){said}; wait, or use an endpoint with a "
            "higher limit",
            retry_after_s,
        )
    if status in (401, 403):
        return LLMError(f"{where} refused the key (HTTP {status}){said}; check {key_var}")
    if status == 404:
        return LLMError(
            f"{where} answered HTTP 404{said}; check AUTOCODER_LLM_MODEL and the endpoint "
            "(an OpenAI-compatible AUTOCODER_LLM_BASE_URL usually ends in /v1)"
        )
    if status >= 500:
        return LLMError(
            f"{where} failed with HTTP {status}{said}; the endpoint has a problem, the next "
            "iteration tries again"
        )
    return LLMError(
        f"{where} refused the request with HTTP {status}{said}; check AUTOCODER_LLM_MODEL"
    )


def timeout_error(where: str, timeout_s: float) -> LLMError:
    return LLMError(
        f"{where} did not answer within AUTOCODER_LLM_TIMEOUT_S={timeout_s:g} s; raise it, or "
        "use a faster model"
    )


def unreachable_error(where: str, says: str, url_var: str) -> LLMError:
    return LLMError(f"{where} could not be reached: {says}; check {url_var} and the network")


def unreadable_error(where: str, says: str) -> LLMError:
    return LLMError(
        f"{where} sent an answer that is not an OpenAI chat completion: {says}; check that the "
        "endpoint speaks the OpenAI chat API"
    )


def server_says(body: object, secrets: list[str | None]) -> str:
    """The server's own message in an error body: OpenAI's ``{"error": {"message": ...}}``,
    ``{"error": "..."}`` or ``{"message": ...}``; else the body as text."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        body = inner.get("message", inner) if isinstance(inner, dict) else inner
    return quoted(str(body) if body else "", secrets)


def quoted(text: str, secrets: list[str | None]) -> str:
    """A server message or an answer as an error may quote it: one line, short, no secret."""
    flat = " ".join(redact(text, secrets).split())
    return flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 3] + "..."


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a 429 answer asks to wait: ``retry-after-ms``, ``retry-after`` in seconds or as
    an HTTP date; None when absent or unreadable."""
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        return None if math.isnan(seconds) else seconds  # inf: never retry
    date = headers.get("retry-after")
    parsed = email.utils.parsedate_tz(date) if date else None
    return None if parsed is None else float(email.utils.mktime_tz(parsed) - time.time())
