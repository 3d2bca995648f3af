"""Which model the AUTOCODER_LLM_* variables name: none, one, or a ConfigError naming what is
missing; the key is a secret of the settings and shows in no message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autocoder.errors import ConfigError
from autocoder.llm import HFInferenceModel, OpenAIChatModel, TokenBudget, ask, model_from_settings
from autocoder.settings import load_settings

from llmserver import LLM_TEST_KEY, LLMServer, running_llm_server

LLM_VARS = ("BASE_URL", "API_KEY", "MODEL", "PROVIDER", "DAILY_TOKENS", "TIMEOUT_S")


@pytest.fixture(autouse=True)
def no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LLM_VARS:
        monkeypatch.delenv(f"AUTOCODER_LLM_{name}", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    with running_llm_server(api_key=LLM_TEST_KEY) as server:
        yield server


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        var = name if name == "HF_TOKEN" else f"AUTOCODER_LLM_{name.upper()}"
        monkeypatch.setenv(var, value)


def test_no_llm_variable_means_no_model() -> None:
    settings = load_settings()

    assert model_from_settings(settings) is None
    assert (settings.llm_daily_tokens, settings.llm_timeout_s) == (200_000, 60.0)


def test_endpoint_variables_give_a_working_model(
    monkeypatch: pytest.MonkeyPatch, llm: LLMServer
) -> None:
    _env(monkeypatch, base_url=llm.url, api_key=LLM_TEST_KEY, model="m-1", daily_tokens="500")
    _env(monkeypatch, timeout_s="7.5")
    settings = load_settings()
    llm.answer("hi", prompt_tokens=2, completion_tokens=1)

    model = model_from_settings(settings)
    assert isinstance(model, OpenAIChatModel)
    completion = ask(model, TokenBudget(settings.llm_daily_tokens), "s", "u", max_tokens=9)

    assert (completion.text, completion.model) == ("hi", "m-1")
    assert llm.requests[0].headers["x-stainless-read-timeout"] == "7.5"


def test_provider_variables_give_an_inference_providers_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _env(monkeypatch, provider="auto", model="Qwen/Qwen2.5-Coder-32B-Instruct", HF_TOKEN="hf_x1")

    model = model_from_settings(load_settings())

    assert isinstance(model, HFInferenceModel)
    assert (model.name, model.provider) == ("Qwen/Qwen2.5-Coder-32B-Instruct", "auto")


@pytest.mark.parametrize(
    ("given", "named"),
    [
        (
            {"base_url": "http://127.0.0.1:9/v1", "api_key": "k" * 8},
            "AUTOCODER_LLM_MODEL is not set",
        ),
        ({"base_url": "http://127.0.0.1:9/v1", "model": "m"}, "AUTOCODER_LLM_API_KEY is not set"),
        ({"model": "m"}, "AUTOCODER_LLM_MODEL is set but no endpoint: set AUTOCODER_LLM_BASE_URL"),
        ({"api_key": "k" * 8}, "AUTOCODER_LLM_API_KEY is set but no endpoint"),
        ({"provider": "auto"}, "AUTOCODER_LLM_MODEL is not set but AUTOCODER_LLM_PROVIDER is"),
        ({"provider": "auto", "model": "m"}, "AUTOCODER_LLM_PROVIDER='auto' needs HF_TOKEN"),
        ({"provider": "nope", "model": "m", "HF_TOKEN": "hf_x1"}, "'nope' is not an Inference"),
        (
            {"provider": "auto", "base_url": "http://h/v1", "model": "m"},
            "both AUTOCODER_LLM_BASE_URL and AUTOCODER_LLM_PROVIDER are set",
        ),
        (
            {"base_url": "localhost:8000", "model": "m", "api_key": "k" * 8},
            "AUTOCODER_LLM_BASE_URL='localhost:8000' is not an http(s) URL",
        ),
    ],
)
def test_half_set_configuration_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, str], named: str
) -> None:
    _env(monkeypatch, **given)

    with pytest.raises(ConfigError) as caught:
        model_from_settings(load_settings())

    assert named in str(caught.value)


def test_bad_url_message_hides_the_password_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, base_url="ftp://me:pw-SECRET-1@host/v1", model="m", api_key=LLM_TEST_KEY)

    with pytest.raises(ConfigError, match="'ftp://host/v1' is not an http") as caught:
        model_from_settings(load_settings())

    assert "pw-SECRET-1" not in str(caught.value)
    assert LLM_TEST_KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("var", "value"), [("AUTOCODER_LLM_DAILY_TOKENS", "-5"), ("AUTOCODER_LLM_TIMEOUT_S", "0")]
)
def test_out_of_range_numbers_are_config_errors(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)

    with pytest.raises(ConfigError, match=var):
        load_settings()


def test_api_key_is_a_secret_of_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, base_url="http://127.0.0.1:9/v1", api_key=LLM_TEST_KEY, model="m")

    settings = load_settings()

    assert LLM_TEST_KEY in settings.secrets()  # what logs, records and errors are scrubbed of
    assert LLM_TEST_KEY not in repr(settings) + str(settings)
    assert LLM_TEST_KEY not in repr(model_from_settings(settings))
