"""Reading model answers: one JSON object into a pydantic model, or one fenced code block;
anything else is an LLMError that says what was wrong and quotes only the answer's start."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from autocoder.errors import LLMError
from autocoder.llm import code_answer, fenced_blocks, json_answer


class Plan(BaseModel):
    summary: str
    files: list[str]
    risk: int


PLAN = '{"summary": "guard the division", "files": ["shop/cart.py"], "risk": 2}'
EXPECTED = Plan(summary="guard the division", files=["shop/cart.py"], risk=2)


@pytest.mark.parametrize(
    "text",
    [
        PLAN,
        f"  \n{PLAN}\n",
        f"```json\n{PLAN}\n```",
        f"```\n{PLAN}\n```",
        f"Here is the plan:\n\n```JSON\n{PLAN}\n```\nHope this helps.",
    ],
)
def test_json_answer_reads_a_bare_or_fenced_object(text: str) -> None:
    assert json_answer(text, Plan) == EXPECTED


def test_invalid_json_says_so_and_quotes_the_answer() -> None:
    with pytest.raises(LLMError, match=r"is not valid JSON \(Expecting") as caught:
        json_answer('{"summary": "x",}', Plan, where="model 'm' at h")

    assert str(caught.value).startswith("model 'm' at h's answer")
    assert """it began: '{"summary": "x",}'""" in str(caught.value)


def test_long_answer_is_quoted_only_in_part() -> None:
    answer = "I think " + "very " * 500 + "much."

    with pytest.raises(LLMError, match="has no JSON blocks") as caught:
        json_answer(answer, Plan)

    assert "I think very" in str(caught.value)
    assert len(str(caught.value)) < 400
    assert "much." not in str(caught.value)


def test_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(LLMError, match="is JSON but a list, not an object"):
        json_answer("```json\n[1, 2]\n```", Plan)


def test_fields_that_do_not_fit_are_named() -> None:
    with pytest.raises(LLMError, match="does not fit Plan") as caught:
        json_answer('{"summary": "x", "risk": "high"}', Plan)

    assert "files: Field required" in str(caught.value)
    assert "risk: Input should be a valid integer" in str(caught.value)


def test_two_json_blocks_are_refused() -> None:
    with pytest.raises(LLMError, match="has 2 JSON blocks"):
        json_answer(f"```json\n{PLAN}\n```\nor\n```json\n{PLAN}\n```", Plan)


def test_code_answer_is_the_one_blocks_content_exactly() -> None:
    text = "The new file:\n```python\nimport os\n\n\ndef f():\n    return 1\n```\nDone."

    assert code_answer(text) == "import os\n\n\ndef f():\n    return 1\n"


def test_a_longer_fence_may_hold_backtick_lines() -> None:
    readme = "# Title\n\n```sh\npip install x\n```\n"

    assert code_answer(f"````markdown\n{readme}````\n") == readme


def test_tilde_fences_count_too() -> None:
    assert code_answer("~~~\nx = 1\n~~~") == "x = 1\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("def f():\n    return 1\n", "has no fenced code block"),
        ("```py\na = 1\n```\nand\n```py\nb = 2\n```", "has 2 fenced code blocks"),
        ("```python\ndef f():\n    return", "opens a code block at line 1 that is never closed"),
    ],
)
def test_code_answer_needs_exactly_one_closed_block(text: str, problem: str) -> None:
    with pytest.raises(LLMError, match=problem):
        code_answer(text, where="model 'm'")


def test_fenced_blocks_keep_each_info_string() -> None:
    text = "```python\na\n```\ntext\n```diff\n-b\n```"

    assert fenced_blocks(text) == [("python", "a\n"), ("diff", "-b\n")]
