"""The optional language model in the stages: each stage's conclusion from the model, grounded in
the evidence the stage collected itself, and a file's new text for a task no fixer serves.

Answers are kept in the result cache by model and prompt, so the stages that offer, compare and
make the same change (Deep Understanding, Approach Evaluation, Implementation Plan) see one
answer and pay for it once. The model never sees anything the stage did not read from the
target; what it writes goes through the same verification as a fixer's change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from autocoder.engine.perspective import RunContext
from autocoder.llm import json_answer
from autocoder.redaction import redact_text

T = TypeVar("T")
PROMPT_CHARS = 24_000  # of evidence sent with one question
NOTE_TOKENS = 700
SYSTEM = (
    "You are a senior software engineer working through one change to a repository, one stage "
    "at a time. Use only the evidence given; do not invent files, names or results. "
)
NOTE_ASK = (
    'Answer with one JSON object: {"conclusion": one sentence a reviewer acts on, "points": up '
    "to five short facts from the evidence that support it}."
)


class StageNote(BaseModel):
    conclusion: str = Field(min_length=1, max_length=600)
    points: list[str] = Field(default_factory=list, max_length=5)


def asked(
    ctx: RunContext, system: str, user: str, max_tokens: int, parse: Callable[[str, str], T]
) -> tuple[T, dict[str, Any]]:
    """The model's answer to ``user`` read by ``parse(text, where)``, and its metadata
    (``model``, token counts, ``cached``). Only an answer that parsed is kept in the cache (by
    model, question and token limit): a malformed one is asked again next time. LLMError when
    the model fails or its answer does not parse."""
    assert ctx.ask_model is not None
    key = hashlib.sha256(
        f"{ctx.ask_model.name}\0{system}\0{user}\0{max_tokens}".encode()
    ).hexdigest()
    known = ctx.cache.get("llm", "2", key)
    if isinstance(known, dict):
        return parse(known["text"], f"model {known['model']!r}"), {**known, "cached": True}
    completion = ctx.ask_model(system, user, max_tokens)
    answer = {"text": completion.text, "model": completion.model,
              "prompt_tokens": completion.prompt_tokens,
              "completion_tokens": completion.completion_tokens}  # fmt: skip
    parsed = parse(completion.text, f"model {completion.model!r}")
    ctx.cache.put("llm", "2", key, answer)
    return parsed, {**answer, "cached": False}


def stage_note(
    ctx: RunContext, stage: str, item: dict[str, Any], evidence: dict[str, Any]
) -> dict[str, Any] | None:
    """The model's conclusion of ``stage`` on ``evidence`` (None without a model): the record's
    ``model`` entry (name, tokens, conclusion, points)."""
    if ctx.ask_model is None:
        return None
    shown, _ = redact_text(  # the code around a hard-coded password goes out without it
        json.dumps({"stage": stage, "item": item, "evidence": evidence}, default=str)
    )
    user = f"Stage: {stage}. {NOTE_ASK}\n\nEvidence (JSON):\n{shown[:PROMPT_CHARS]}"
    note, answer = asked(ctx, SYSTEM + f"You are doing the {stage} stage.", user, NOTE_TOKENS,
                         lambda text, where: json_answer(text, StageNote, where=where))  # fmt: skip
    return {"name": answer["model"], "prompt_tokens": answer["prompt_tokens"],
            "completion_tokens": answer["completion_tokens"], "cached": answer["cached"],
            "conclusion": note.conclusion, "points": note.points}  # fmt: skip
