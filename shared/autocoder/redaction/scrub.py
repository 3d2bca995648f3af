"""Scrubbing JSON-like data: every string, every mapping key, and the echoes of what was found.

A first pass replaces what :func:`find_secrets` finds in each string (all distinct strings of
the payload at once), and quoted values that sit in one mapping with a secret-like name
(``{"name": "token", "default": "'x'"}``, as parsers report parameters). A second pass
replaces, anywhere in the same payload, other spellings of each value found: the same text,
upper, lower and swapped case (an edge case's neighbour), a cut-off copy, and the slug a
generated test's name is made of (``test_f_token_eq_<slug>``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from autocoder.redaction.detect import SLUG_PLACEHOLDER, redact_many
from autocoder.redaction.keywords import KEYWORD
from autocoder.redaction.values import (
    is_placeholder,
    is_secret_value,
    looks_random,
    mixed,
    name_strength,
)

SEED = 12  # an echo is replaced from its first SEED characters on, as far as it matches
_QUOTED = re.compile(r"[bfruBFRU]{0,2}(['\"])(?P<value>.*)\1", re.DOTALL)
_SWAP = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
)
_VALUE_KEYS = ("value", "default")  # {"name": "password", "value": "x"}


class Scrubber:
    """Scrubs the parts of one payload (an iteration's record, rows and state) together: what
    is found in any part is also chased in every other. Counts replacements per part."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}  # value -> type
        self._count = 0

    def parts(self, parts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
        texts = list(dict.fromkeys(_strings(list(parts.values()))))
        table: dict[str, tuple[str, int]] = {}
        for text, (clean, found) in zip(texts, redact_many(texts), strict=True):
            if found:
                table[text] = (clean, len(found))
                self.found.update((v, k) for v, k in found if v not in self.found)
        clean_parts, counts = self._pass(parts, table, self._mapping)
        echoes = _Echoes(self.found)
        texts = list(dict.fromkeys(_strings(list(clean_parts.values()))))
        if echoes and echoes.present(texts):
            table = {t: echoed for t in texts if (echoed := echoes.replace(t))[1]}
            clean_parts, more = self._pass(clean_parts, table, None)
            counts = {name: counts[name] + more[name] for name in counts}
        return clean_parts, counts

    def _pass(
        self,
        parts: dict[str, Any],
        table: dict[str, tuple[str, int]],
        mapping: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> tuple[dict[str, Any], dict[str, int]]:
        def text(value: str) -> str:
            clean, n = table.get(value, (value, 0))
            self._count += n
            return clean

        out, counts = {}, {}
        for name, data in parts.items():
            self._count = 0
            out[name] = _walk(data, text, mapping)
            counts[name] = self._count
        return out, counts

    def _mapping(self, mapping: dict[str, Any]) -> dict[str, Any]:
        """Quoted values next to a secret-like name, and secret values under a secret-like key."""
        sibling = any(_is_name(v) and name_strength(v) == "strong" for v in mapping.values())
        if not sibling and not any(_is_name(k) and name_strength(k) for k in mapping):
            return mapping
        out: dict[str, Any] = {}
        for key, value in mapping.items():
            keyed = name_strength(key) if _is_name(key) else None
            if sibling and key in _VALUE_KEYS:
                keyed = "strong"
            out[key] = self._value(value, sibling, keyed) if isinstance(value, str) else value
        return out

    def _value(self, value: str, sibling: bool, keyed: str | None) -> str:
        quoted = _QUOTED.fullmatch(value)
        inner = quoted.group("value") if quoted else value
        level = "strong" if quoted and sibling else keyed
        if "\n" in inner or not is_secret_value(inner, level, quoted=bool(quoted)):
            return value
        self._count += 1
        self.found.setdefault(inner, KEYWORD)
        mark = f"<redacted:{KEYWORD}>"
        return value.replace(inner, mark) if quoted else mark


class _Echoes:
    """The spellings of found values worth chasing: long enough, not a plain word."""

    def __init__(self, found: dict[str, str]) -> None:
        self.forms: dict[str, list[tuple[str, str]]] = {}  # seed -> [(form, placeholder)]
        for value, kind in found.items():
            if not _worth_chasing(value, kind):
                continue
            mark = f"<redacted:{kind}>"
            slug = re.sub(r"[^0-9a-z]+", "_", value.lower()).strip("_")
            spellings = [(value, mark), (value.upper(), mark), (value.lower(), mark),
                         (value.translate(_SWAP), mark), (slug, SLUG_PLACEHOLDER)]  # fmt: skip
            for form, placeholder in spellings:
                if len(form) >= 8:
                    self.forms.setdefault(form[:SEED], []).append((form, placeholder))
        self.pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self.forms)

    def present(self, texts: list[str]) -> bool:
        """Keep only the seeds that occur at all (one search of all text per seed)."""
        everything = "\0".join(texts)
        self.forms = {seed: forms for seed, forms in self.forms.items() if seed in everything}
        if self.forms:
            alternatives = sorted(self.forms, key=len, reverse=True)
            self.pattern = re.compile("|".join(map(re.escape, alternatives)))
        return bool(self.forms)

    def replace(self, text: str) -> tuple[str, int]:
        assert self.pattern is not None
        parts, pos, count = [], 0, 0
        for m in self.pattern.finditer(text):
            if m.start() < pos:
                continue
            candidates = self.forms[m.group()]
            span, placeholder = max((_common_prefix(text, m.start(), f), p) for f, p in candidates)
            before = text[m.start() - 1 : m.start()]
            if before.isalnum() or before == "_":  # inside a name: keep it a name
                placeholder = SLUG_PLACEHOLDER
            parts += [text[pos : m.start()], placeholder]
            pos, count = m.start() + span, count + 1
        return ("".join([*parts, text[pos:]]), count) if count else (text, 0)


def _is_name(value: object) -> bool:
    return isinstance(value, str) and len(value) < 60


def _worth_chasing(value: str, kind: str) -> bool:
    """Not short or plain words (``token == "return"`` must not rewrite every ``return``)."""
    if len(value) < 8 or is_placeholder(value):
        return False
    return kind != KEYWORD or mixed(value) or looks_random(value)


def _common_prefix(text: str, start: int, form: str) -> int:
    n = 0
    while n < len(form) and start + n < len(text) and text[start + n] == form[n]:
        n += 1
    return n


def _walk(
    data: Any,
    text: Callable[[str], str],
    mapping: Callable[[dict[str, Any]], dict[str, Any]] | None,
) -> Any:
    """A copy of ``data`` with ``text`` applied to every string and mapping key."""
    if isinstance(data, str):
        return text(data)
    if isinstance(data, dict):
        walked = {
            (text(k) if isinstance(k, str) else k): _walk(v, text, mapping) for k, v in data.items()
        }
        return mapping(walked) if mapping is not None else walked
    if isinstance(data, list | tuple):
        return type(data)(_walk(item, text, mapping) for item in data)
    return data


def _strings(data: Any) -> list[str]:
    out: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            out.extend(k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return out


def scrub(data: Any) -> tuple[Any, int]:
    """A copy of JSON-like ``data`` (dicts, lists, tuples, strings, numbers) with every secret
    replaced by a placeholder, and how many values were replaced."""
    clean, counts = Scrubber().parts({"data": data})
    return clean["data"], counts["data"]


def scrub_parts(parts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    """:func:`scrub` of several parts of one payload at once, with a count per part."""
    return Scrubber().parts(parts)


def scrub_values_in_place(values: dict[str, Any]) -> int:
    """Scrub each value of ``values``; a dict or list value is changed in place, so whoever still
    holds it goes on with what a reader of the stored copy will see. Returns the count."""
    keys = list(values)
    clean, count = scrub([values[key] for key in keys])
    for key, new in zip(keys, clean, strict=True):
        old = values[key]
        if isinstance(old, dict):
            old.clear()
            old.update(new)
        elif isinstance(old, list):
            old[:] = new
        else:
            values[key] = new
    return count
