"""What counts as a secret value, and as a secret-like name."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Literal

STRONG = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|credentials?|api_?key|apikey|priv_?key|"
    r"private_?key|access_?key|(?:auth|service|account|client|db|database)_?key|contrase[ñn]a"
)
_STRONG = re.compile(STRONG, re.IGNORECASE)
_WEAK = re.compile(r"key|auth", re.IGNORECASE)
# A name that ends in one of these holds something about a secret, not the secret itself:
# ``usable_password_field_name``, ``TOKEN_URL``, ``password_help_text``, ``SECRET_KEY_ENV``.
_ABOUT = re.compile(
    r"[_\-]?(?:names?|fields?|labels?|urls?|uri|paths?|files?|dir|types?|class|help|texts?|"
    r"messages?|msg|prefix|suffix|length|len|count|hint|header|params?|env|var|widget|"
    r"validators?|min|max|pattern|regex|format|template|id|attr|column|col|kwarg|arg)$",
    re.IGNORECASE,
)
_NAME = re.compile(r"[\w\-]+")
_PLACEHOLDER_TEXT = (
    "changeme change me placeholder example sample dummy fake test testing mock your my the a "
    "here goes insert put enter redacted none null nil undefined todo fixme secret password "
    "passwd pass pwd token key api apikey access auth value default str string xxx foo bar "
    "baz qux user username admin root env local localhost"
)
_PLACEHOLDER_WORDS = frozenset(_PLACEHOLDER_TEXT.split(" "))
_TEMPLATE = re.compile(r"\$\{.*\}|\{\{.*\}\}|<[^<>]*>|\{[^{}]*\}|\$\w+|%\(\w+\)s|\.\.\.+")
_WORDS = re.compile(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])")
_KINDS = tuple(re.compile(p) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^\w]|_"))


@lru_cache(maxsize=4096)
def strength(name: str) -> Literal["strong", "weak"] | None:
    """How surely a name holds a secret: ``db_password`` strong, ``sort_key`` weak, else None
    (also for a name about a secret: ``password_field_name``, ``TOKEN_URL``)."""
    if _ABOUT.search(name):
        return None
    if _STRONG.search(name):
        return "strong"
    return "weak" if _WEAK.search(name) else None


@lru_cache(maxsize=4096)
def name_strength(text: str) -> Literal["strong", "weak"] | None:
    """:func:`strength` of a string that is a bare name (``api_key``), None for any other."""
    return strength(text) if _NAME.fullmatch(text) else None


def is_placeholder(value: str) -> bool:
    """True for values no one would call a secret: empty, ``xxx``, ``${VAR}``, ``<your-key>``,
    ``os.environ[...]``, ``changeme``, a value made only of words like test, dummy, your, key."""
    text = value.strip()
    if len(text) < 4 or len(set(text.lower())) <= 2 or not re.search(r"[A-Za-z0-9]", text):
        return True
    if _TEMPLATE.fullmatch(text) or "<redacted" in text.lower():
        return True
    if re.match(r"(?:os\.)?(?:environ|getenv)\b", text):
        return True
    words = [w for w in _WORDS.split(text.lower()) if w]
    return all(w in _PLACEHOLDER_WORDS or (w.isdigit() and len(w) <= 3) for w in words)


def looks_random(value: str) -> bool:
    """At least 12 characters, no whitespace, and three kinds of character (or 20 characters of
    high entropy, as a hex key has)."""
    if len(value) < 12 or re.search(r"\s", value):
        return False
    kinds = sum(bool(kind.search(value)) for kind in _KINDS)
    return kinds >= 3 or (len(value) >= 20 and entropy(value) > 4.0)


def mixed(value: str) -> bool:
    """Letters and digits, and not a dotted name (``settings.db_password2``)."""
    if re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", value):
        return False
    return bool(re.search(r"\d", value)) and bool(re.search(r"[A-Za-z]", value))


_CODE_PATH = re.compile(r"[A-Za-z_]\w*(?:[.:][A-Za-z_]\w*)*")
_CODE_WORDS = re.compile(r"[A-Z]?[a-z]{2,}|[A-Z]{2,}(?![a-z])")


def is_code_name(value: str) -> bool:
    """A name of code, not a secret: ``auth_tests.CustomUser``, ``Command.handle``,
    ``usable_password``, ``PasswordResetView``. Identifiers joined by dots or colons, of words
    (CamelCase or snake_case pieces) that cover most of its letters, with at most two digits;
    one lowercase word (``hunter2``) is not a name of code."""
    if not _CODE_PATH.fullmatch(value) or sum(c.isdigit() for c in value) > 2:
        return False
    words = _CODE_WORDS.findall(value)
    letters = sum(c.isalpha() for c in value)
    covered = sum(len(w) for w in words)
    return len(words) >= 2 and covered >= 0.8 * letters


def is_prose(value: str) -> bool:
    """``"Enter your password"``: three or more words, all but the last alphabetic."""
    words = value.split()
    return len(words) >= 3 and all(w.isalpha() for w in words[:-1])


def entropy(value: str) -> float:
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def is_secret_value(value: str, name_strength: str | None, quoted: bool) -> bool:
    """A value bound to a name of that strength: any non-trivial quoted value of a strong name
    but a dotted name of code (``PASSWORD_HASHERS = ["django...PBKDF2PasswordHasher"]``), a
    random or mixed unquoted one that is not a name of code (not ``password: str``, not
    ``tokens:PasswordResetTokenGenerator``), a random one of a weak name that is not a name of
    code (not ``sort(key="name")``, not ``AUTH_USER_MODEL = "accounts.CustomUser"``)."""
    if not name_strength or is_placeholder(value) or is_prose(value):
        return False
    if name_strength == "strong":
        dotted = "." in value or ":" in value
        if is_code_name(value) and (dotted or not quoted or strength(value)):
            return False  # a reference to code: a setting, a class, a field (usable_password)
        return quoted or looks_random(value) or mixed(value)
    return looks_random(value) and not is_code_name(value)
