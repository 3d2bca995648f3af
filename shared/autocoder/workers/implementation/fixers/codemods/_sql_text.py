"""Where a value spliced into SQL text may become a bound parameter, decided on the SQL text.

The input is the statement as the code builds it: literal SQL text and spliced values in order.
A value may be bound only where SQL expects a value: after a comparison, ``LIKE``, ``LIMIT`` /
``OFFSET``, or inside a ``VALUES (...)`` list, either bare (``id = {x}``) or as the whole of a
quoted literal (``name = '{x}'``, whose quotes go with it). A value that names a table or column,
sits in part of a literal (``'%{x}%'``), in an ``IN (...)`` list (often a comma-joined string)
or after a comment marker is refused: binding it would change or break the statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from autocoder.workers.implementation.fixers.codemods._common import Refused

MARK = "\0"  # a bound value while the text is analysed; the driver's placeholder at the end
VALUE_OPERATORS = frozenset({"=", "==", "!=", "<>", "<", ">", "<=", ">="})
VALUE_KEYWORDS = frozenset({"LIKE", "ILIKE", "GLOB", "LIMIT", "OFFSET"})
LIST_KEYWORDS = frozenset({"VALUES"})  # after "(" or "," a value only in a VALUES list
FOLLOWERS = (" ", "\t", "\n", ")", ",", ";")
TRAILING_OPERATOR = re.compile(r"[=<>!]+$")
TRAILING_WORD = re.compile(r"([A-Za-z_]+)$")


@dataclass(frozen=True)
class Spliced:
    """A value the code splices into the SQL text."""

    value: cst.BaseExpression


Part = str | Spliced


@dataclass(frozen=True)
class Parameterized:
    sql: str  # the statement text with the driver's placeholders
    values: list[cst.BaseExpression]  # what to bind, in placeholder order
    quoted: int  # how many values were quoted literals whose quotes were removed


def parameterize(parts: list[Part], placeholder: str) -> Parameterized:
    """The statement with a ``placeholder`` for each spliced value; :class:`Refused` where a
    value is not in a value position. ``placeholder`` is ``?`` (qmark) or ``%s`` (format)."""
    parts = list(parts)
    texts = [p for p in parts if isinstance(p, str)]
    _refuse_unsure_text("".join(texts), placeholder)
    sql, values, quoted = "", [], 0
    for index, part in enumerate(parts):
        if isinstance(part, str):
            sql += part
            continue
        after = parts[index + 1] if index + 1 < len(parts) else ""
        if not isinstance(after, str):
            raise Refused("two values are spliced next to each other: they form one token")
        if _opens_quote(sql) and after.startswith("'") and not after.startswith("''"):
            sql = sql[:-1]
            parts[index + 1] = after[1:]  # the closing quote goes with the opening one
            quoted += 1
        elif not _outside_literals(sql) or (after and not after.startswith(FOLLOWERS)):
            raise Refused(f"a value is spliced inside a literal or a name: {_tail(sql)!r}")
        _require_value_position(sql)
        sql += MARK
        values.append(part.value)
    if not values:
        raise Refused("the SQL text has no spliced value to bind")
    if placeholder == "%s":
        sql = sql.replace("%", "%%")  # a literal % must be doubled once parameters are passed
    return Parameterized(sql.replace(MARK, placeholder), values, quoted)


def _refuse_unsure_text(text: str, placeholder: str) -> None:
    if "\\" in text:
        raise Refused("the SQL text has backslash escapes: their meaning is not checked here")
    if "--" in text or "/*" in text:
        raise Refused("the SQL text has a comment: quotes inside it would mislead the check")
    if placeholder == "?" and "?" in text:
        raise Refused("the SQL text already holds a '?': it would read as a placeholder")


def _outside_literals(sql: str) -> bool:
    return sql.count("'") % 2 == 0 and sql.count('"') % 2 == 0


def _opens_quote(sql: str) -> bool:
    """``sql`` ends with the quote that opens a string literal (not one that closes one)."""
    return sql.endswith("'") and _outside_literals(sql[:-1])


def _require_value_position(sql: str) -> None:
    before = sql.rstrip()
    operator = TRAILING_OPERATOR.search(before)
    if operator and operator.group() in VALUE_OPERATORS:
        return
    word = TRAILING_WORD.search(before)
    if word and word.group().upper() in VALUE_KEYWORDS:
        return
    if before.endswith(("(", ",")) and _last_keyword(before) in LIST_KEYWORDS:
        return
    raise Refused(f"a value is spliced where SQL may expect a name or a list: {_tail(sql)!r}")


def _last_keyword(sql: str) -> str:
    words = re.findall(r"[A-Za-z_]+", re.sub(r"'[^']*'", " ", sql.replace(MARK, " ")))
    return words[-1].upper() if words else ""


def _tail(sql: str) -> str:
    return sql.replace(MARK, "?")[-40:]
