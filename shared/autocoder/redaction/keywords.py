"""The keyword rule: a value bound to a secret-like name, wherever the name occurs.

Each occurrence of a root (pass, pwd, secret, token, credential, key, auth) is widened to its
name (``db_password``, the last part of ``self.api_key``) and the text around it is tried:
``name = "x"`` (also ``:``, ``==``, ``!=``, ``=>``, ``name: str = "x"``, ``"name": "x"``),
``"x" == name``, ``getenv("NAME", "x")`` and ``NAME=x`` alone on a line.
"""

from __future__ import annotations

import re

from autocoder.redaction.batch import Batch
from autocoder.redaction.values import is_secret_value, strength

KEYWORD = "Secret Keyword"
ROOTS = ("pass", "pwd", "secret", "token", "credential", "key", "auth", "contrase")
_VALUE = r"[bfruBFRU]{0,2}(?P<q>['\"`])(?P<value>(?:(?!(?P=q))[^\\\n]|\\.)*)(?P=q)"
_ASSIGN = re.compile(
    rf"['\"\]]{{0,2}}(?:[ \t]*:[ \t]*[\w.\[\]|, ]{{1,40}}?)?\s*(?::=|===?|!==?|=>|=|:)\s*@?{_VALUE}"
)
_CALL_TAIL = re.compile(rf"[\w.\-]*['\"]\s*,\s*{_VALUE}")
_CALL_HEAD = re.compile(r"[A-Za-z_]\w*\(\s*['\"][\w.\-]*\Z")
# ``NAME=value`` or YAML's ``name: value`` (a colon needs the blank YAML requires after it, so a
# ``module.tokens:Class`` reference is no config line)
_CONFIG_TAIL = re.compile(
    r"(?:[ \t]*=[ \t]*|[ \t]*:[ \t]+)(?P<value>[^\s'\"#()\[\]{},]+)[ \t]*(?=\n|\Z)"
)
_CONFIG_HEAD = re.compile(r"[ \t]*(?:export[ \t]+)?(?:[A-Za-z_][\w\-]*\.)*")
_REVERSE = re.compile(rf"{_VALUE}\s*(?:===?|!==?)\s*(?:[A-Za-z_][\w\-]*\.)*\Z")
_SCHEME = re.compile(r"(?:Bearer|Basic|Token)\s+", re.IGNORECASE)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
WINDOW = 200  # characters before a name looked at for a call or a reversed comparison


def keyword_secrets(batch: Batch) -> None:
    done: set[int] = set()
    for root in ROOTS:
        at = batch.low.find(root)
        while at >= 0:
            start, end = _name_around(batch.big, at, at + len(root))
            if start not in done:
                done.add(start)
                _try_name(batch, start, end)
            at = batch.low.find(root, end)


def _name_around(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and text[start - 1] in _NAME_CHARS:
        start -= 1
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    return start, end


def _try_name(batch: Batch, start: int, end: int) -> None:
    big, level = batch.big, strength(batch.big[start:end])
    if level is None:
        return
    window = max(0, start - WINDOW)
    if (
        m := _ASSIGN.match(big, end)
        or _call(big, start, end)
        or _REVERSE.search(big, window, start)
    ):
        _found(batch, m, level, quoted=True)
        return
    line = big.rfind("\n", 0, start) + 1
    if (m := _CONFIG_TAIL.match(big, end)) and _CONFIG_HEAD.fullmatch(big, line, start):
        _found(batch, m, level, quoted=False)


def _call(big: str, start: int, end: int) -> re.Match[str] | None:
    """``f("NAME", "x")``: the name is the first argument, quoted, of a call."""
    tail = _CALL_TAIL.match(big, end)
    return tail if tail and _CALL_HEAD.search(big, max(0, start - WINDOW), start) else None


def _found(batch: Batch, m: re.Match[str], level: str, quoted: bool) -> None:
    value, end = m.group("value"), m.end("value")
    value = value[scheme.end() :] if (scheme := _SCHEME.match(value)) else value
    if is_secret_value(value, level, quoted):
        batch.add(end - len(value), end, KEYWORD)
