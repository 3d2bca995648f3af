"""A model on Hugging Face Inference Providers, through ``huggingface_hub.InferenceClient``.

With ``provider`` (``auto``, ``together``, ...) the client routes the call through the Hub's
router with ``HF_TOKEN``; with ``base_url`` it calls that OpenAI-compatible root directly (an
Inference Endpoint, a local TGI server, the tests' server). Errors become
:class:`~autocoder.errors.LLMError`, built outside the ``except`` block so no library exception
(holding the request and its token) is chained to them.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Callable
from typing import Any

import httpx2
from huggingface_hub import InferenceClient, InferenceTimeoutError
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.inference._providers import PROVIDER_OR_POLICY_T

from autocoder.errors import ConfigError, LLMError
from autocoder.llm.client import (
    MAX_WAIT_S,
    Completion,
    RetryingChatModel,
    messages,
    quoted,
    read_answer,
    retry_after,
    server_says,
    status_error,
    timeout_error,
    unreachable_error,
    unreadable_error,
)
from autocoder.llm.openai_chat import endpoint_host

KEY_VAR = "HF_TOKEN"
PROVIDER_VAR = "AUTOCODER_LLM_PROVIDER"


def known_providers() -> list[str]:
    """The provider names this huggingface_hub accepts, ``auto`` (the Hub picks) first."""
    names = [str(v) for arg in typing.get_args(PROVIDER_OR_POLICY_T) for v in typing.get_args(arg)]
    return sorted(set(names), key=lambda name: (name != "auto", name))


class HFInferenceModel(RetryingChatModel):
    """Model ``model`` at ``provider`` (Inference Providers) or at ``base_url``, never both."""

    def __init__(
        self,
        model: str,
        token: str,
        *,
        provider: str | None = None,
        base_url: str | None = None,
        timeout_s: float,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        if (provider is None) == (base_url is None):
            raise ConfigError("HFInferenceModel needs exactly one of provider and base_url")
        if provider is not None and provider not in known_providers():
            raise ConfigError(
                f"{PROVIDER_VAR}={provider!r} is not an Inference Provider; use 'auto' or one of "
                + ", ".join(repr(p) for p in known_providers()[1:])
            )
        where = (
            f"model {model!r} on Hugging Face Inference Providers (provider {provider!r})"
            if provider is not None
            else f"model {model!r} at {endpoint_host(str(base_url))}"
        )
        super().__init__(model, where, sleep=sleep, max_wait_s=max_wait_s)
        self.provider = provider
        self._secrets: list[str | None] = [token]
        self._timeout_s = timeout_s
        self._url_var = PROVIDER_VAR if provider is not None else "the base URL"
        self._key_var = KEY_VAR if provider is not None else "the API key"
        self._client = InferenceClient(
            provider=typing.cast(PROVIDER_OR_POLICY_T | None, provider),
            base_url=base_url,
            api_key=token,
            timeout=timeout_s,
        )

    def complete_once(self, system: str, user: str, *, max_tokens: int) -> Completion:
        try:
            answer = self._client.chat_completion(
                typing.cast(list[Any], messages(system, user)),
                model=self.name,
                max_tokens=max_tokens,
            )
        except (HfHubHTTPError, httpx2.HTTPError, InferenceTimeoutError, ValueError) as e:
            error = self._explained(e)
        else:
            return read_answer(self, answer, system + user, self._secrets)
        raise error

    def _says(self, e: HfHubHTTPError) -> str:
        try:
            body: object = e.response.json()
        except (ValueError, httpx2.HTTPError):  # not JSON, or a stream not read
            body = e.server_message
        return server_says(body, self._secrets)

    def _explained(self, e: Exception) -> LLMError:
        if isinstance(e, InferenceTimeoutError | httpx2.TimeoutException):
            return timeout_error(self.where, self._timeout_s)
        if isinstance(e, HfHubHTTPError):
            status, after = e.response.status_code, retry_after(e.response.headers)
            return status_error(self.where, status, self._says(e), after, self._key_var)
        if isinstance(e, httpx2.HTTPError):
            return unreachable_error(self.where, quoted(str(e), self._secrets), self._url_var)
        return unreadable_error(self.where, quoted(str(e), self._secrets))
