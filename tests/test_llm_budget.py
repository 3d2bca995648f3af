"""The daily token budget and `ask`: refused before any request when spent, charged after,
kept across restarts, reset on a new UTC day (the clock is injected, never slept on)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from autocoder.errors import ConfigError, LLMBudgetSpent, LLMError
from autocoder.llm import Completion, OpenAIChatModel, TokenBudget, ask

from llmserver import LLM_TEST_KEY, LLMServer, running_llm_server

MODEL = "test-org/coder-7b"


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    with running_llm_server(api_key=LLM_TEST_KEY) as server:
        yield server


@pytest.fixture
def model(llm: LLMServer) -> OpenAIChatModel:
    return OpenAIChatModel(llm.url, LLM_TEST_KEY, MODEL, timeout_s=5, sleep=lambda _: None)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 21, 30, tzinfo=UTC))


def test_ask_charges_the_tokens_the_endpoint_reports(
    llm: LLMServer, model: OpenAIChatModel, clock: Clock
) -> None:
    budget = TokenBudget(1000, clock=clock)
    llm.answer("one", prompt_tokens=300, completion_tokens=50)
    llm.answer("two", prompt_tokens=100, completion_tokens=25)

    ask(model, budget, "s", "u", max_tokens=100)
    ask(model, budget, "s", "u", max_tokens=100)

    assert (budget.used, budget.remaining) == (475, 525)
    assert budget.to_state() == {"day": "2026-12-07", "used": 475}


def test_spent_budget_refuses_before_any_request(
    llm: LLMServer, model: OpenAIChatModel, clock: Clock
) -> None:
    budget = TokenBudget(400, clock=clock)
    llm.answer("spends it", prompt_tokens=350, completion_tokens=60)
    llm.answer("never asked for")
    ask(model, budget, "s", "u", max_tokens=100)

    with pytest.raises(LLMBudgetSpent) as caught:
        ask(model, budget, "s", "u", max_tokens=100)

    assert len(llm.requests) == 1
    message = str(caught.value)
    assert "AUTOCODER_LLM_DAILY_TOKENS=400 is spent for today" in message
    assert "410 tokens used on 2026-12-07" in message
    assert "resets at 2026-12-08 00:00 UTC (in 2 h 30 min)" in message
    assert caught.value.resets_at == datetime(2026, 12, 8, tzinfo=UTC)
    assert isinstance(caught.value, LLMError)


def test_zero_budget_makes_no_call(llm: LLMServer, model: OpenAIChatModel, clock: Clock) -> None:
    llm.answer("never asked for")

    with pytest.raises(LLMBudgetSpent, match="AUTOCODER_LLM_DAILY_TOKENS=0 allows no model calls"):
        ask(model, TokenBudget(0, clock=clock), "s", "u", max_tokens=100)

    assert llm.requests == []


def test_budget_starts_again_on_a_new_utc_day(clock: Clock) -> None:
    budget = TokenBudget(100, clock=clock)
    budget.charge(Completion("x", MODEL, 80, 30))
    with pytest.raises(LLMBudgetSpent):
        budget.check()

    clock.now += timedelta(hours=2, minutes=31)  # 00:01 UTC the next day

    budget.check()
    assert budget.used == 0
    assert budget.to_state() == {"day": "2026-12-08", "used": 0}


def test_day_is_the_utc_day_whatever_the_clocks_zone(clock: Clock) -> None:
    clock.now = datetime(2026, 12, 7, 20, 0, tzinfo=timezone(timedelta(hours=-5)))  # 01:00 UTC

    assert TokenBudget(100, clock=clock).to_state()["day"] == "2026-12-08"


def test_budget_kept_in_state_survives_a_restart(clock: Clock) -> None:
    before = TokenBudget(100, clock=clock)
    before.charge(Completion("x", MODEL, 60, 40))

    after = TokenBudget.from_state(before.to_state(), 100, clock=clock)

    assert after.used == 100
    with pytest.raises(LLMBudgetSpent):
        after.check()


def test_yesterdays_state_gives_a_fresh_budget(clock: Clock) -> None:
    budget = TokenBudget.from_state({"day": "2026-12-06", "used": 999}, 100, clock=clock)

    budget.check()
    assert budget.used == 0


def test_a_raised_limit_applies_to_the_kept_count(clock: Clock) -> None:
    budget = TokenBudget.from_state({"day": "2026-12-07", "used": 150}, 200, clock=clock)

    assert budget.remaining == 50


@pytest.mark.parametrize(
    "state",
    [None, {}, {"day": "yesterday", "used": 5}, {"day": "2026-12-07", "used": "5"},
     {"day": 20261207, "used": 5}, {"day": "2026-12-07", "used": True}],
)  # fmt: skip
def test_unreadable_state_starts_at_zero(clock: Clock, state: dict[str, object] | None) -> None:
    assert TokenBudget.from_state(state, 100, clock=clock).to_state() == {
        "day": "2026-12-07",
        "used": 0,
    }


def test_failed_call_is_not_charged(llm: LLMServer, model: OpenAIChatModel, clock: Clock) -> None:
    budget = TokenBudget(1000, clock=clock)
    llm.fail(500)

    with pytest.raises(LLMError, match="HTTP 500"):
        ask(model, budget, "s", "u", max_tokens=100)

    assert budget.used == 0


def test_negative_budget_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="AUTOCODER_LLM_DAILY_TOKENS=-1 is negative"):
        TokenBudget(-1)


def test_ask_logs_the_model_and_tokens_but_not_the_key(
    llm: LLMServer, model: OpenAIChatModel, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm.answer("fine", prompt_tokens=7, completion_tokens=3)

    ask(model, TokenBudget(1000, clock=clock), "s", "u", max_tokens=100)

    ours = [r.getMessage() for r in caplog.records if r.name == "autocoder.llm"]
    assert ours == [
        f"model '{MODEL}' at 127.0.0.1:{llm.port} answered: 7 prompt + 3 completion tokens; "
        "990 of AUTOCODER_LLM_DAILY_TOKENS=1000 left today"
    ]
    assert not [r for r in caplog.records if LLM_TEST_KEY in r.getMessage()]


def test_repr_says_what_is_used(clock: Clock) -> None:
    budget = TokenBudget(100, clock=clock)
    budget.charge(Completion("x", MODEL, 1, 2))

    assert repr(budget) == "TokenBudget(3 of 100 tokens used on 2026-12-07)"
