"""Which language model the settings name, if any.

Two ways, one at a time: ``AUTOCODER_LLM_BASE_URL`` + ``AUTOCODER_LLM_API_KEY`` +
``AUTOCODER_LLM_MODEL`` for any OpenAI-compatible endpoint, or ``AUTOCODER_LLM_PROVIDER`` +
``AUTOCODER_LLM_MODEL`` with ``HF_TOKEN`` for Hugging Face Inference Providers. Nothing set
means no model (the worker stays deterministic); a half-set configuration is a ConfigError
naming what is missing, at start-up rather than at the first call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from autocoder.errors import ConfigError
from autocoder.llm.client import ChatModel
from autocoder.llm.hf_chat import HFInferenceModel
from autocoder.llm.openai_chat import OpenAIChatModel
from autocoder.settings import Settings


def model_from_settings(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep
) -> ChatModel | None:
    """The configured model, or None when no ``AUTOCODER_LLM_*`` variable is set."""
    if not any(
        (settings.llm_base_url, settings.llm_provider, settings.llm_model, settings.llm_api_key)
    ):
        return None
    if settings.llm_base_url and settings.llm_provider:
        raise ConfigError(
            f"both {settings.given_as('llm_base_url')} and {settings.given_as('llm_provider')} "
            "are set; set the first for an OpenAI-compatible endpoint, the second for Hugging "
            "Face Inference Providers, not both"
        )
    if settings.llm_base_url:
        return _openai_model(settings, sleep)
    if settings.llm_provider:
        return _provider_model(settings, sleep)
    given = settings.given_as("llm_model" if settings.llm_model else "llm_api_key")
    raise ConfigError(
        f"{given} is set but no endpoint: set {settings.given_as('llm_base_url')} (an "
        f"OpenAI-compatible API root such as http://localhost:8000/v1) or "
        f"{settings.given_as('llm_provider')} (e.g. 'auto', with HF_TOKEN)"
    )


def _openai_model(settings: Settings, sleep: Callable[[float], None]) -> OpenAIChatModel:
    url = str(settings.llm_base_url)
    _check_url(settings, url)
    model = _model_id(settings, "llm_base_url")
    if settings.llm_api_key is None or not settings.llm_api_key.get_secret_value():
        raise ConfigError(
            f"{settings.given_as('llm_api_key')} is not set but {settings.given_as('llm_base_url')}"
            " is; set it to the endpoint's key (any non-empty value for one that needs none)"
        )
    return OpenAIChatModel(
        url,
        settings.llm_api_key.get_secret_value(),
        model,
        timeout_s=settings.llm_timeout_s,
        sleep=sleep,
    )


def _provider_model(settings: Settings, sleep: Callable[[float], None]) -> HFInferenceModel:
    model = _model_id(settings, "llm_provider")
    if settings.hf_token is None or not settings.hf_token.get_secret_value():
        raise ConfigError(
            f"{settings.quoted('llm_provider')} needs HF_TOKEN (a Hugging Face token allowed to "
            "call Inference Providers); set it, or use AUTOCODER_LLM_BASE_URL instead"
        )
    return HFInferenceModel(
        model,
        settings.hf_token.get_secret_value(),
        provider=settings.llm_provider,
        timeout_s=settings.llm_timeout_s,
        sleep=sleep,
    )


def _model_id(settings: Settings, endpoint: str) -> str:
    if not settings.llm_model or not settings.llm_model.strip():
        raise ConfigError(
            f"{settings.given_as('llm_model')} is not set but {settings.given_as(endpoint)} is; "
            "set it to the id of the model to ask (e.g. 'Qwen/Qwen2.5-Coder-32B-Instruct')"
        )
    return settings.llm_model.strip()


def _check_url(settings: Settings, url: str) -> None:
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 address
        usable = False
    if not usable:
        raise ConfigError(
            f"{settings.given_as('llm_base_url')}={_shown(url)} is not an http(s) URL; use the "
            "API root, e.g. http://localhost:8000/v1"
        )


def _shown(url: str) -> str:
    """The URL for a message, without any user:password it holds."""
    return repr(re.sub(r"//[^/@]*@", "//", url))
