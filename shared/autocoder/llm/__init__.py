"""The optional language model: a small client the implementation worker's stages call.

    model = model_from_settings(settings)          # None: no model, stay deterministic
    budget = TokenBudget.from_state(state.get("llm_budget"), settings.llm_daily_tokens)
    completion = ask(model, budget, system, user, max_tokens=2000)
    plan = json_answer(completion.text, Plan)      # or code_answer(completion.text)
    state["llm_budget"] = budget.to_state()

Every failure (timeout, 429, 5xx, unreachable, a bad key, a malformed answer, a spent budget)
is an :class:`~autocoder.errors.LLMError` whose message names the model and its endpoint and
never the key. This package sits between ``engine`` and ``workers``.
"""

from autocoder.llm.answers import code_answer, fenced_blocks, json_answer
from autocoder.llm.budget import TokenBudget, ask
from autocoder.llm.client import ChatModel, Completion
from autocoder.llm.hf_chat import HFInferenceModel, known_providers
from autocoder.llm.openai_chat import OpenAIChatModel
from autocoder.llm.settings import model_from_settings

__all__ = [
    "ChatModel",
    "Completion",
    "HFInferenceModel",
    "OpenAIChatModel",
    "TokenBudget",
    "ask",
    "code_answer",
    "fenced_blocks",
    "json_answer",
    "known_providers",
    "model_from_settings",
]
