"""Reading a model's answer: a JSON object into a pydantic model, or one fenced code block.

A model's answer is untrusted text. What a stage cannot use is an :class:`LLMError` that says
what was wrong and quotes the start of the answer, so the failed stage's record shows it.
Code comes whole (the new text of a file) and autocoder computes the diff itself: models get
line numbers wrong.
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from autocoder.errors import LLMError
from autocoder.llm.client import quoted

M = TypeVar("M", bound=BaseModel)

_OPENING = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*\r?\n?$")
MAX_PROBLEMS = 5  # validation problems listed in a message


def json_answer(text: str, model_cls: type[M], *, where: str = "the model") -> M:
    """The answer as a ``model_cls``: a bare JSON object, or the one fenced in ```json```."""
    raw = _json_text(text, where)
    try:
        value = json.loads(raw)
    except ValueError as e:
        problem = f"is not valid JSON ({e})"
        raise LLMError(_bad(where, problem, text)) from None
    if not isinstance(value, dict):
        raise LLMError(_bad(where, f"is JSON but a {type(value).__name__}, not an object", text))
    try:
        return model_cls.model_validate(value)
    except ValidationError as e:
        problems = [f"{_loc(err['loc'])}: {err['msg']}" for err in e.errors()]
        listed = "; ".join(problems[:MAX_PROBLEMS])
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        problem = f"does not fit {model_cls.__name__}: {listed}{more}"
        raise LLMError(_bad(where, problem, text)) from None


def code_answer(text: str, *, where: str = "the model") -> str:
    """The content of the answer's one fenced code block: the new full text of a file."""
    blocks = fenced_blocks(text, where)
    if len(blocks) != 1:
        problem = (
            "has no fenced code block (```...```)"
            if not blocks
            else f"has {len(blocks)} fenced code blocks"
        )
        raise LLMError(_bad(where, f"{problem}; exactly one is needed: the whole new file", text))
    return blocks[0][1]


def fenced_blocks(text: str, where: str = "the model") -> list[tuple[str, str]]:
    """The (info string, content) of each fenced block; a block is closed by a fence of the
    same character at least as long, so a ````-fenced block may hold ``` lines."""
    lines = text.splitlines(keepends=True)
    blocks: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        opening = _OPENING.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening["fence"]
        end = next((j for j in range(i + 1, len(lines)) if _closes(lines[j], fence)), None)
        if end is None:
            problem = f"opens a code block at line {i + 1} that is never closed (cut off?)"
            raise LLMError(_bad(where, problem, text))
        blocks.append((opening["info"], "".join(lines[i + 1 : end])))
        i = end + 1
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and len(stripped) >= len(fence)
        and set(stripped) == {fence[0]}
    )


def _json_text(text: str, where: str) -> str:
    """The JSON part of an answer: all of it if it starts with ``{``, else its one JSON fence."""
    if text.strip().startswith("{"):
        return text.strip()
    blocks = [body for info, body in fenced_blocks(text, where) if info.lower() in ("json", "")]
    if len(blocks) != 1:
        found = "no" if not blocks else str(len(blocks))
        problem = f"has {found} JSON blocks; it must be one JSON object, bare or in ```json```"
        raise LLMError(_bad(where, problem, text))
    return blocks[0]


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(map(str, loc)) or "(the object)"


def _bad(where: str, problem: str, text: str) -> str:
    return f"{where}'s answer {problem}; it began: {quoted(text, [])!r}"
