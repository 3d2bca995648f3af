"""Finding secrets in strings, many at once: each detector runs once over all of them.

The detectors are detect-secrets' own, run in process: its format-specific plugins (AWS, GitHub,
Slack, Stripe, Twilio, ...; each only over the strings holding its literal prefix), its Base64
high-entropy check inside quotes, Basic Auth in URLs, JWTs (the whole token). Added here: whole
private key blocks, and any non-trivial value assigned to, compared with, passed as or set as a
name like password, secret, token, credential or api_key (``key`` and ``auth`` alone only when
the value looks random). That keyword rule also covers detect-secrets' "name = value" plugins
(IBM, Cloudant, SoftLayer keys), which are skipped. Obvious placeholders are not secrets.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, cast

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters.heuristic import is_potential_uuid, is_sequential_string
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
from detect_secrets.plugins.jwt import JwtTokenDetector

from autocoder.redaction.batch import TRIM, Batch, Secret
from autocoder.redaction.keywords import keyword_secrets
from autocoder.redaction.values import is_placeholder

PRIVATE_KEY, ENTROPY = "Private Key", "Base64 High Entropy String"
BASIC_AUTH, JWT = "Basic Auth Credentials", "JSON Web Token"
PLACEHOLDER = b"<redacted:"  # how every placeholder but the slug one starts
SLUG_PLACEHOLDER = "redacted"  # in place of a slug: valid in an identifier too
# literal prefixes per plugin, looked for first (lower-case ones in lower-cased text); a plugin
# missing here runs over all text; None: no literal to look for
_HINTS: dict[str, tuple[str, ...] | None] = {
    "AWS Access Key": ("A3T", "ABIA", "ACCA", "AKIA", "ASIA", "aws"),
    "Artifactory Credentials": ("AKC", "AP"),
    "Azure Storage Account access key": ("AccountKey",),
    BASIC_AUTH: ("://",),
    "Cloudant Credentials": ("cloudant",),
    "Discord Bot Token": None,
    "GitHub Token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "GitLab Token": (
        "glpat-",
        "gldt-",
        "glft-",
        "glsoat-",
        "glrt-",
        "GR1348941",
        "glcbt-",
        "glimt-",
        "glptt-",
        "glagent-",
        "gloas-",
    ),
    "Mailchimp Access Key": ("-us",),
    "NPM tokens": ("_authToken",),
    "OpenAI Token": ("T3BlbkFJ",),
    "PyPI Token": ("pypi-",),
    "SendGrid API Key": ("SG.",),
    "Slack Token": ("xox", "hooks.slack.com"),
    "SoftLayer Credentials": ("softlayer",),
    "Square OAuth Secret": ("sq0csp-",),
    "Stripe Access Key": ("k_live_",),
    "Telegram Bot Token": None,
    "Twilio API Key": ("AC", "SK"),
}
_SKIPPED = {"Public IP (ipv4)", PRIVATE_KEY, JWT}  # not a secret / matched whole below
_ASSIGNMENT_BUILDER = "(?:(?<=\\W)|(?<=^))"  # how detect-secrets' name = value regexes start
_PRIVATE_KEY = re.compile(
    r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END[ A-Z0-9]*PRIVATE KEY"
    r"(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)|PuTTY-User-Key-File-\d[^\n]*",
    re.IGNORECASE | re.DOTALL,
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.?[A-Za-z0-9_.+/=-]*")
_SRI = re.compile(r"sha(?:256|384|512)-")


@cache
def _plugins() -> tuple[RegexBasedDetector, ...]:
    types = cast(dict[str, type[Any]], get_mapping_from_secret_type_to_class())
    return tuple(
        cls()
        for name, cls in sorted(types.items())
        if issubclass(cls, RegexBasedDetector) and name not in _SKIPPED
    )


@cache
def _base64() -> Base64HighEntropyString:
    return Base64HighEntropyString()


def _format_secrets(batch: Batch) -> None:
    for plugin in _plugins():
        hints = _HINTS.get(plugin.secret_type)
        where = sorted({i for h in hints for i in batch.holding(h)}) if hints else None
        for regex in plugin.denylist:
            if regex.pattern.startswith(_ASSIGNMENT_BUILDER):
                continue  # name = value: the keyword rule covers it
            matches = regex.finditer(batch.big) if where is None else batch.regex_over(regex, where)
            for m in matches:
                start = m.start()
                for group in range(1, regex.groups + 1):  # a group after a context prefix
                    if m.start(group) > start and m.end(group) > m.start(group):
                        start = m.start(group)
                        break
                value = batch.big[start : m.end()].strip(TRIM)
                if not (plugin.secret_type == BASIC_AUTH and is_placeholder(value)):
                    batch.add(start, m.end(), plugin.secret_type)


def _private_keys(batch: Batch) -> None:
    where = sorted({*batch.holding("private key"), *batch.holding("putty-user-key-file")})
    for m in batch.regex_over(_PRIVATE_KEY, where):
        batch.add(m.start(), m.end(), PRIVATE_KEY)


def _jwts(batch: Batch) -> None:
    for m in _JWT.finditer(batch.big):
        if JwtTokenDetector.is_formally_valid(".".join(m.group().split(".")[:2])):
            batch.add(m.start(), m.end(), JWT)


def _high_entropy(batch: Batch) -> None:
    plugin = _base64()
    for m in plugin.regex.finditer(batch.big):
        value = m.group(2)
        if (
            len(value) >= 16
            and plugin.calculate_shannon_entropy(value) > plugin.entropy_limit
            and not (_SRI.match(value) or is_potential_uuid(value))
            and not (is_sequential_string(value) or is_placeholder(value))
        ):
            batch.add(m.start(2), m.end(2), ENTROPY)


def find_secrets_many(texts: list[str]) -> list[list[Secret]]:
    """The secrets in each of ``texts``, without overlaps, in order."""
    batch = Batch(texts)
    for detector in (_format_secrets, _private_keys, _jwts, _high_entropy, keyword_secrets):
        detector(batch)
    return batch.secrets()


def find_secrets(text: str) -> list[Secret]:
    return find_secrets_many([text])[0]


def redact_many(texts: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each text with its secrets replaced by ``<redacted:TYPE>``, and the (value, type) found."""
    return [
        _replaced(text, secrets)
        for text, secrets in zip(texts, find_secrets_many(texts), strict=True)
    ]


def redact_text(text: str) -> tuple[str, list[tuple[str, str]]]:
    return redact_many([text])[0]


def _replaced(text: str, secrets: list[Secret]) -> tuple[str, list[tuple[str, str]]]:
    if not secrets:
        return text, []
    parts, found, pos = [], [], 0
    for s in secrets:
        parts += [text[pos : s.start], _placeholder(text, s)]
        found.append((text[s.start : s.end], s.kind))
        pos = s.end
    return "".join([*parts, text[pos:]]), found


def _placeholder(text: str, secret: Secret) -> str:
    """``<redacted:TYPE>``, or ``redacted`` inside a name (``def test_gh_eq_<token slug>``)."""
    before = text[secret.start - 1 : secret.start]
    after = text[secret.end : secret.end + 1]
    inside_name = (before.isalnum() or before == "_") or (after.isalnum() or after == "_")
    return SLUG_PLACEHOLDER if inside_name else f"<redacted:{secret.kind}>"
