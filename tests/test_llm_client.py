"""The language model clients: the real `openai` client and the real `InferenceClient`, talking
to tests/llmserver.py on 127.0.0.1. Every failure is an LLMError; the key never leaks."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator

import pytest

from autocoder.errors import ConfigError, LLMError, LLMRateLimited
from autocoder.llm import Completion, HFInferenceModel, OpenAIChatModel, known_providers
from autocoder.llm.client import RetryingChatModel

from llmserver import LLM_TEST_KEY, LLMServer, running_llm_server

MODEL = "test-org/coder-7b"
Factory = Callable[..., RetryingChatModel]


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    with running_llm_server(api_key=LLM_TEST_KEY) as server:
        yield server


@pytest.fixture
def waits() -> list[float]:
    """The waits the models asked for (their ``sleep``), without waiting."""
    return []


@pytest.fixture(params=["openai", "huggingface_hub"])
def make_model(request: pytest.FixtureRequest, llm: LLMServer, waits: list[float]) -> Factory:
    """Builds the model of one client library, pointed at the test server."""

    def build(
        timeout_s: float = 5.0, key: str = LLM_TEST_KEY, url: str = llm.url
    ) -> RetryingChatModel:
        if request.param == "openai":
            return OpenAIChatModel(url, key, MODEL, timeout_s=timeout_s, sleep=waits.append)
        return HFInferenceModel(MODEL, key, base_url=url, timeout_s=timeout_s, sleep=waits.append)

    return build


def test_good_answer_becomes_completion_with_token_counts(
    llm: LLMServer, make_model: Factory
) -> None:
    llm.answer("the plan", prompt_tokens=123, completion_tokens=45)

    completion = make_model().complete("you plan", "plan this", max_tokens=321)

    assert completion == Completion("the plan", MODEL, 123, 45)
    assert completion.total_tokens == 168
    [sent] = llm.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.json["model"] == MODEL
    assert sent.json["max_tokens"] == 321
    assert sent.json["messages"] == [
        {"role": "system", "content": "you plan"},
        {"role": "user", "content": "plan this"},
    ]
    assert sent.headers["authorization"] == f"Bearer {LLM_TEST_KEY}"


def test_completion_names_the_model_that_answered(llm: LLMServer, make_model: Factory) -> None:
    llm.answer("ok", model="test-org/coder-7b-2026-11")

    assert make_model().complete("s", "u", max_tokens=5).model == "test-org/coder-7b-2026-11"


def test_answer_without_usage_still_counts_tokens(llm: LLMServer, make_model: Factory) -> None:
    llm.answer("x" * 40, usage=False)

    completion = make_model().complete("s" * 400, "u" * 400, max_tokens=50)

    assert (completion.prompt_tokens, completion.completion_tokens) == (200, 10)


def test_rate_limit_is_retried_once_after_its_retry_after(
    llm: LLMServer, make_model: Factory, waits: list[float]
) -> None:
    llm.rate_limit(retry_after="3")
    llm.answer("after the wait")

    completion = make_model().complete("s", "u", max_tokens=5)

    assert completion.text == "after the wait"
    assert waits == [3.0]
    assert len(llm.chat_requests) == 2


def test_rate_limit_without_retry_after_waits_a_second(
    llm: LLMServer, make_model: Factory, waits: list[float]
) -> None:
    llm.rate_limit(retry_after=None)
    llm.answer("ok")

    make_model().complete("s", "u", max_tokens=5)

    assert waits == [1.0]


def test_second_rate_limit_fails_without_a_third_request(
    llm: LLMServer, make_model: Factory, waits: list[float]
) -> None:
    llm.rate_limit(retry_after="0")
    llm.rate_limit(retry_after="0")
    llm.answer("never asked for")

    with pytest.raises(LLMRateLimited, match=r"HTTP 429.*again, after one retry") as caught:
        make_model().complete("s", "u", max_tokens=5)

    assert len(llm.chat_requests) == 2
    assert waits == [0.0]
    assert MODEL in str(caught.value)
    assert f"127.0.0.1:{llm.port}" in str(caught.value)


def test_long_retry_after_fails_at_once_without_waiting(
    llm: LLMServer, make_model: Factory, waits: list[float]
) -> None:
    llm.rate_limit(retry_after="600")
    llm.answer("never asked for")

    with pytest.raises(LLMRateLimited, match="Retry-After of 600 s is longer") as caught:
        make_model().complete("s", "u", max_tokens=5)

    assert caught.value.retry_after_s == 600.0
    assert waits == []
    assert len(llm.chat_requests) == 1


def test_server_error_fails_at_once(
    llm: LLMServer, make_model: Factory, waits: list[float]
) -> None:
    llm.fail(500, "The server had an error while processing your request")
    llm.answer("never asked for")

    with pytest.raises(LLMError, match="failed with HTTP 500: The server had an error") as caught:
        make_model().complete("s", "u", max_tokens=5)

    assert not isinstance(caught.value, LLMRateLimited)
    assert len(llm.chat_requests) == 1
    assert waits == []


def test_slow_answer_past_the_timeout_is_an_error(llm: LLMServer, make_model: Factory) -> None:
    llm.slow(30.0)

    with pytest.raises(LLMError, match=r"did not answer within AUTOCODER_LLM_TIMEOUT_S=0.2 s"):
        make_model(timeout_s=0.2).complete("s", "u", max_tokens=5)


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'{"object": "chat.completion"}', b'"just a string"', b"[1, 2]"]
)
def test_unreadable_answer_is_an_error(llm: LLMServer, make_model: Factory, body: bytes) -> None:
    llm.raw(body)

    with pytest.raises(LLMError, match="sent an answer that is not an OpenAI chat completion"):
        make_model().complete("s", "u", max_tokens=5)


def test_answer_without_text_is_an_error(llm: LLMServer, make_model: Factory) -> None:
    llm.answer(None)

    with pytest.raises(LLMError, match="answered with no text"):
        make_model().complete("s", "u", max_tokens=5)


def test_refused_key_is_an_error_that_says_so(llm: LLMServer, make_model: Factory) -> None:
    with pytest.raises(LLMError, match=r"refused the key \(HTTP 401\)"):
        make_model(key="sk-some-other-key-123").complete("s", "u", max_tokens=5)


def test_unreachable_endpoint_is_an_error(make_model: Factory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"

    with pytest.raises(LLMError, match="could not be reached"):
        make_model(url=closed).complete("s", "u", max_tokens=5)


def _script_every_outcome(llm: LLMServer) -> None:
    llm.answer("fine")
    llm.fail(401, f"Incorrect API key provided: {LLM_TEST_KEY}")  # servers echo keys
    llm.fail(500, f"boom near {LLM_TEST_KEY}")
    llm.rate_limit("600", f"slow down, {LLM_TEST_KEY}")
    llm.raw(f"not json {LLM_TEST_KEY}".encode())
    llm.slow(30.0)


def test_key_appears_in_no_error_log_or_completion(
    llm: LLMServer, make_model: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _script_every_outcome(llm)
    model = make_model(timeout_s=0.5)
    completions: list[Completion] = []
    errors: list[LLMError] = []
    for _ in range(6):
        try:
            completions.append(model.complete("s", "u", max_tokens=5))
        except LLMError as e:
            assert e.__cause__ is None and e.__context__ is None  # no library error chained
            errors.append(e)

    assert (len(completions), len(errors)) == (1, 5)
    seen = [model, *completions, *errors, *(arg for e in errors for arg in e.args)]
    shown = [str(x) for x in seen] + [repr(x) for x in seen]
    shown += [r.getMessage() for r in caplog.records]
    assert [text for text in shown if LLM_TEST_KEY in text] == []
    assert any("***" in text for text in shown)  # the echoed key was there, redacted


def test_key_is_sent_only_in_the_authorization_header(llm: LLMServer, make_model: Factory) -> None:
    llm.answer("fine")

    make_model().complete("s", "u", max_tokens=5)

    [sent] = llm.requests
    carrying = [name for name, value in sent.headers.items() if LLM_TEST_KEY in value]
    assert carrying == ["authorization"]
    assert LLM_TEST_KEY not in repr(sent.json) + sent.path


def test_known_providers_start_with_auto_and_hold_the_hub_ones() -> None:
    providers = known_providers()

    assert providers[0] == "auto"
    assert {"together", "hf-inference", "groq"} <= set(providers)


def test_provider_model_names_the_provider_without_a_request() -> None:
    model = HFInferenceModel(MODEL, LLM_TEST_KEY, provider="together", timeout_s=5)

    assert (model.name, model.provider) == (MODEL, "together")
    assert "provider 'together'" in model.where
    assert LLM_TEST_KEY not in repr(model)


def test_unknown_provider_is_a_config_error_listing_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"AUTOCODER_LLM_PROVIDER='togther' .*'together'"):
        HFInferenceModel(MODEL, LLM_TEST_KEY, provider="togther", timeout_s=5)


def test_provider_and_base_url_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="exactly one of provider and base_url"):
        HFInferenceModel(MODEL, "t", provider="auto", base_url="http://x/v1", timeout_s=5)
