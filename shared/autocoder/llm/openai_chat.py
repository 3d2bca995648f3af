"""A model behind any OpenAI-compatible chat API, through the official ``openai`` client.

``openai`` is imported when a model is made, not with this module: it takes seconds to import,
and every worker start and CLI command would pay for it with no model configured.
The client's own retries are off (``max_retries=0``): :class:`RetryingChatModel` retries a 429
once and nothing else, the same for every client. Errors are built outside the ``except``
block, so they carry no chained ``openai`` exception (whose request holds the key).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from autocoder.errors import LLMError
from autocoder.llm.client import (
    MAX_WAIT_S,
    Completion,
    RetryingChatModel,
    quoted,
    read_answer,
    retry_after,
    server_says,
    status_error,
    timeout_error,
    unreachable_error,
    unreadable_error,
)

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

KEY_VAR = "AUTOCODER_LLM_API_KEY"
URL_VAR = "AUTOCODER_LLM_BASE_URL"


class OpenAIChatModel(RetryingChatModel):
    """Model ``model`` at ``base_url`` (the API root, e.g. ``http://host:8000/v1``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        timeout_s: float,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        super().__init__(
            model,
            f"model {model!r} at {endpoint_host(base_url)}",
            sleep=sleep,
            max_wait_s=max_wait_s,
        )
        self._secrets: list[str | None] = [api_key]
        self._timeout_s = timeout_s
        import openai

        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0
        )

    def complete_once(self, system: str, user: str, *, max_tokens: int) -> Completion:
        import openai
        from openai.types.chat import (
            ChatCompletionSystemMessageParam,
            ChatCompletionUserMessageParam,
        )

        sent: list[ChatCompletionMessageParam] = [
            ChatCompletionSystemMessageParam(role="system", content=system),
            ChatCompletionUserMessageParam(role="user", content=user),
        ]
        try:
            answer = self._client.chat.completions.create(
                model=self.name, messages=sent, max_tokens=max_tokens
            )
        except (openai.OpenAIError, ValueError) as e:
            error = self._explained(e)
        else:
            return read_answer(self, answer, system + user, self._secrets)
        raise error

    def _explained(self, e: Exception) -> LLMError:
        import openai

        if isinstance(e, openai.APITimeoutError):
            return timeout_error(self.where, self._timeout_s)
        if isinstance(e, openai.APIConnectionError):
            cause = e.__cause__ or e
            return unreachable_error(self.where, quoted(str(cause), self._secrets), URL_VAR)
        if isinstance(e, openai.APIStatusError):
            after = retry_after(e.response.headers)
            says = server_says(e.body, self._secrets)
            return status_error(self.where, e.status_code, says, after, KEY_VAR)
        return unreadable_error(self.where, quoted(str(e), self._secrets))


def endpoint_host(url: str) -> str:
    """``host:port`` of an endpoint URL, for messages (never its userinfo or query)."""
    parts = urlsplit(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host
