"""How the code builds a SQL statement, read off the expression passed to ``execute``: the
literal text and the spliced values in order, plus the string style the new literal keeps.

Reads ``f"..."``, ``"..." % x``, ``"...".format(...)`` and ``"..." + x + "..."``, working on the
source text of the literals (escapes are not evaluated; :mod:`._sql_text` refuses backslashes).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import libcst as cst

from autocoder.workers.implementation.fixers.codemods._common import Refused
from autocoder.workers.implementation.fixers.codemods._sql_text import Part, Spliced

PERCENT_VALUES = frozenset({"s", "d", "i"})
PERCENT_DIRECTIVE = re.compile(r"%(.?)")


class Literal:
    """The prefix (without ``f``) and quotes the new SQL string keeps from the old one."""

    def __init__(self, prefix: str, quote: str) -> None:
        if "b" in prefix.lower():
            raise Refused("the SQL text is bytes")
        self.prefix = prefix.replace("f", "").replace("F", "")
        self.quote = quote


def statement(node: cst.BaseExpression) -> tuple[Literal, list[Part]]:
    """The literal style and the text and values of the SQL the code builds."""
    if node.lpar:
        raise Refused("the SQL expression is parenthesized: not rewritten")
    if isinstance(node, cst.FormattedString):
        return _fstring(node)
    modulo = isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo)
    if modulo and isinstance(node, cst.BinaryOperation) and isinstance(node.left, cst.SimpleString):
        return Literal(node.left.prefix, node.left.quote), _percent(node.left, node.right)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _concatenation(node)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        text = node.func.value
        if node.func.attr.value == "format" and isinstance(text, cst.SimpleString):
            return Literal(text.prefix, text.quote), _format(text, node.args)
    raise Refused(f"the SQL text is a {type(node).__name__}, not a string built in the call")


def _fstring(node: cst.FormattedString) -> tuple[Literal, list[Part]]:
    parts: list[Part] = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            parts.append(part.value.replace("{{", "{").replace("}}", "}"))
        elif not isinstance(part, cst.FormattedStringExpression):
            raise Refused(f"an f-string part of an unknown kind: {type(part).__name__}")
        elif part.conversion or part.format_spec or part.equal:
            raise Refused("an f-string field has a conversion or format spec")
        else:
            parts.append(Spliced(part.expression))
    start = node.start
    return Literal(start.rstrip("'\""), start[len(start.rstrip("'\"")) :]), parts


def _percent(text: cst.SimpleString, right: cst.BaseExpression) -> list[Part]:
    body = text.raw_value
    values = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
    if any(isinstance(v, cst.StarredElement) for v in values):
        raise Refused("the % operands are starred")
    parts: list[Part] = []
    start = 0
    for directive in PERCENT_DIRECTIVE.finditer(body):
        parts.append(body[start : directive.start()])
        start = directive.end()
        kind = directive.group(1)
        if kind == "%":
            parts.append("%")
        elif kind not in PERCENT_VALUES:
            raise Refused(f"a % directive other than %s/%d/%i: %{kind}")
        else:
            used = sum(isinstance(p, Spliced) for p in parts)
            if used >= len(values):
                raise Refused("fewer % operands than directives")
            parts.append(Spliced(values[used]))
    parts.append(body[start:])
    if sum(isinstance(p, Spliced) for p in parts) != len(values):
        raise Refused("the number of % operands and directives differ")
    return _joined(parts)


def _format(text: cst.SimpleString, args: Sequence[cst.Arg]) -> list[Part]:
    if any(a.star for a in args):
        raise Refused(".format() takes *args/**kwargs")
    positional = [a.value for a in args if a.keyword is None]
    named = {a.keyword.value: a.value for a in args if a.keyword is not None}
    parts: list[Part] = []
    used: list[str] = []
    auto = 0
    for literal, written, spec, conversion in string.Formatter().parse(text.raw_value):
        parts.append(literal)
        if written is None:
            continue
        if spec or conversion:
            raise Refused("a .format() field has a conversion or format spec")
        field = written or str(auto)
        auto += 0 if written else 1
        if field.isdigit() and int(field) < len(positional):
            parts.append(Spliced(positional[int(field)]))
        elif field in named:
            parts.append(Spliced(named[field]))
        else:
            raise Refused(f"the .format() field {{{field}}} is not a plain argument")
        used.append(field)
    if len(set(used)) != len(used) or len(used) != len(positional) + len(named):
        raise Refused(".format() arguments are used more or less than once each")
    return _joined(parts)


def _concatenation(node: cst.BinaryOperation) -> tuple[Literal, list[Part]]:
    pieces: list[cst.BaseExpression] = []
    while isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        if node.lpar:
            raise Refused("a parenthesized part of the concatenation")
        pieces.insert(0, node.right)
        node = node.left  # type: ignore[assignment]
    pieces.insert(0, node)
    strings = [p for p in pieces if isinstance(p, cst.SimpleString)]
    styles = {(s.prefix.lower(), s.quote) for s in strings}
    if len(styles) != 1 or not isinstance(pieces[0], cst.SimpleString):
        raise Refused("the concatenation does not start with SQL text in one string style")
    parts: list[Part] = [
        p.raw_value if isinstance(p, cst.SimpleString) else Spliced(p) for p in pieces
    ]
    return Literal(strings[0].prefix, strings[0].quote), _joined(parts)


def _joined(parts: list[Part]) -> list[Part]:
    """Adjacent texts merged, empty texts dropped, so that texts and values alternate."""
    out: list[Part] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        elif part != "":
            out.append(part)
    return out
