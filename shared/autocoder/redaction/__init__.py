"""The one redaction step: whatever autocoder writes from the target passes through :func:`scrub`.

``LocalStore.append`` (records, item rows, state) and ``ResultCache.put_many`` call it, so a
secret in the target's code reaches no dataset, Hub commit, cache file or generated test.
It imports nothing of autocoder but itself, so every layer may use it.
"""

from autocoder.redaction.batch import Secret
from autocoder.redaction.detect import (
    PLACEHOLDER,
    SLUG_PLACEHOLDER,
    find_secrets,
    find_secrets_many,
    redact_many,
    redact_text,
)
from autocoder.redaction.scrub import Scrubber, scrub, scrub_parts, scrub_values_in_place
from autocoder.redaction.values import is_placeholder, looks_random

__all__ = [
    "PLACEHOLDER",
    "SLUG_PLACEHOLDER",
    "Scrubber",
    "Secret",
    "find_secrets",
    "find_secrets_many",
    "is_placeholder",
    "looks_random",
    "redact_many",
    "redact_text",
    "scrub",
    "scrub_parts",
    "scrub_values_in_place",
]
