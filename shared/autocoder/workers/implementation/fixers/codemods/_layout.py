"""Keeping a rewritten call within the target's line length, the way black and ruff format
would lay it out: first all arguments on one indented line, else one argument per line.

An added ``timeout=30`` or ``usedforsecurity=False`` can push a line past the limit, and a
patch that fails the target's own line-length check is a patch a reviewer sends back. Only a
call that was on one line is re-laid out; a multi-line call keeps its own layout.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import libcst as cst
from libcst.metadata import CodeRange

DEFAULT_LINE_LENGTH = 88  # black's and ruff's default


def project_line_length(root: Path) -> int:
    """``line-length`` of ``[tool.ruff]`` or ``[tool.black]`` in ``pyproject.toml``, else 88."""
    try:
        tools = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("tool")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return DEFAULT_LINE_LENGTH
    for tool in ("ruff", "black"):
        length = (tools or {}).get(tool, {}).get("line-length")
        if isinstance(length, int) and length > 0:
            return length
    return DEFAULT_LINE_LENGTH


def fit_line(
    new: cst.BaseExpression, where: CodeRange, lines: list[str], limit: int
) -> cst.BaseExpression:
    """``new`` (the rewrite of the one-line call at ``where``) wrapped when its line is too long."""
    if not isinstance(new, cst.Call) or not new.args or where.start.line != where.end.line:
        return new
    line = lines[where.start.line - 1] if where.start.line <= len(lines) else ""
    before, after = line[: where.start.column], line[where.end.column :]
    code = _code(new)
    if "\n" in code or len(before) + len(code) + len(after) <= limit:
        return new
    lead = re.match(r"[ \t]*", line).group()  # type: ignore[union-attr]
    inner = lead + "    "
    args = list(new.args)
    args[-1] = args[-1].with_changes(whitespace_after_arg=_newline(lead))
    wrapped = new.with_changes(whitespace_before_args=_newline(inner), args=args)
    widest = max(len(text) for text in _code(wrapped).splitlines()[1:-1] or [""])
    if widest <= limit:
        return wrapped
    per_line = [
        a.with_changes(comma=cst.Comma(whitespace_after=_newline(inner))) for a in args[:-1]
    ]
    last = args[-1].with_changes(
        comma=cst.Comma(whitespace_after=_newline(lead)),
        whitespace_after_arg=cst.SimpleWhitespace(""),
    )
    return wrapped.with_changes(args=[*per_line, last])


def _newline(indent: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(), indent=False, last_line=cst.SimpleWhitespace(indent)
    )


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)
