"""Strings a secret scanner flags that are not secrets: Subresource Integrity and lock-file
content hashes, git revisions pinned in ``.pre-commit-config.yaml`` or a workflow's ``uses:``,
and obvious placeholders (``changeme``, ``your-key-here``, ``xxx``, ``<token>``).

detect-secrets reports only a type and a line, so :func:`is_not_a_secret` works from the line's
text; when the flagged value is known it is checked too, so a real key on the same line as a
hash is still reported.
"""

from __future__ import annotations

import re

# integrity="sha384-..." (HTML), "integrity": "sha512-..." (package-lock.json)
_SRI = re.compile(r"""integrity["']?\s*[:=]\s*["']?(sha(?:256|384|512)-[A-Za-z0-9+/=]{20,})""")
# sha256:<hex> digests in lock files and requirements (--hash=sha256:...)
_DIGEST = re.compile(r"\bsha(?:1|256|384|512)[:=]([0-9a-f]{40,128})\b")
_PRE_COMMIT_REV = re.compile(r"""^\s*rev:\s*["']?([0-9a-f]{40})["']?\s*(#.*)?$""")
_ACTION_PIN = re.compile(
    r"""^\s*-?\s*uses:\s*["']?[\w.-]+/[\w./-]+@([0-9a-f]{40})["']?\s*(#.*)?$"""
)
_PRE_COMMIT_FILES = frozenset({".pre-commit-config.yaml", ".pre-commit-hooks.yaml"})
_PLACEHOLDER = re.compile(
    r"""^(
        x{3,} | \*{3,} | \.{3} | -+ | 0{8,}
        | change[-_ ]?(me|it|this)(?:[-_ ]\w+)? | replace[-_ ]?(me|this)(?:[-_ ]\w+)?
        | your[-_ ][\w-]+ | (my|some|the)[-_]?(secret|token|key|password)
        | <[^<>]+> | \$\{?[A-Za-z_][\w]*\}? | \{\{[^{}]+\}\} | %\([\w]+\)s | \$\([^)]+\)
        | placeholder | dummy[-_\w]* | redacted | todo | tbd | fixme | example | sample
        | (secret|token|key|password|passwd|apikey|api[-_]key)[-_ ]?(here|goes[-_ ]here)
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_QUOTED = re.compile(r"""(["'])(.*?)\1""")
_SCHEME = re.compile(r"^(bearer|token|basic)\s+", re.IGNORECASE)


def is_not_a_secret(file: str, line_text: str, value: str | None = None) -> str | None:
    """Why the flagged string on ``line_text`` of ``file`` is not a secret, or None when it may be
    one. ``value`` is the flagged string when the scanner gives it; otherwise every string on the
    line is judged, and the line is cleared only when none of them could be a credential."""
    name = file.rsplit("/", 1)[-1]
    for reason, match in _structural(name, file, line_text):
        if match is not None and (value is None or value in match):
            return reason
    candidates = [value] if value is not None else _candidates(line_text)
    placeholders = [c for c in candidates if _is_placeholder(c)]
    if placeholders and all(c in placeholders or not _could_be_credential(c) for c in candidates):
        return f"a placeholder ({placeholders[0][:40]!r}), not a credential"
    return None


def _structural(name: str, file: str, line_text: str) -> list[tuple[str, str | None]]:
    """(reason, the hash or revision on the line or None) for each kind of known non-secret."""
    workflow = file.startswith(".github/workflows/") and name.endswith((".yml", ".yaml"))
    return [
        ("a Subresource Integrity hash of a public file", _group(_SRI, line_text)),
        ("a content digest of a published file", _group(_DIGEST, line_text)),
        (
            "a git revision pinned in the pre-commit configuration",
            _group(_PRE_COMMIT_REV, line_text) if name in _PRE_COMMIT_FILES else None,
        ),
        (
            "a git revision pinning a GitHub Action",
            _group(_ACTION_PIN, line_text) if workflow else None,
        ),
    ]


def _group(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def _candidates(line_text: str) -> list[str]:
    """The quoted strings on the line, or the value after its last ``=``/``:`` when none is."""
    quoted = [m.group(2) for m in _QUOTED.finditer(line_text)]
    if quoted:
        return quoted
    tail = re.split(r"[=:]", line_text, maxsplit=1)
    return [tail[1].split("#", 1)[0].strip()] if len(tail) == 2 else []


def _is_placeholder(text: str) -> bool:
    return bool(_PLACEHOLDER.match(_SCHEME.sub("", text.strip())))


def _could_be_credential(text: str) -> bool:
    """Long enough and mixed enough to be a key: not a word such as ``Authorization``."""
    text = text.strip()
    if " " in text or len(text) < 8:
        return False
    return len(text) >= 20 or (any(c.isdigit() for c in text) and any(c.isalpha() for c in text))


_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----")
_KEY_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY( BLOCK)?-----")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{16,}")
KEY_BODY_CHARS = 100  # the smallest real private key (EC P-256, PEM) has ~160 base64 characters
KEY_LINES = 60  # how far below the BEGIN line a key body is looked for


def empty_private_key(lines: list[str], line: int) -> str | None:
    """Why the private key flagged at ``line`` (1-based) holds no key, or None when it may: the
    text between its BEGIN and END markers (escaped ``\\n`` included) has too few base64
    characters to be one, as in a template (``{body}``) or a truncated sample."""
    window = "\n".join(lines[line - 1 : line - 1 + KEY_LINES]).replace("\\n", "\n")
    begin = _KEY_BEGIN.search(window)
    if begin is None:
        return None
    end = _KEY_END.search(window, begin.end())
    body = window[begin.end() : end.start() if end else len(window)]
    found = sum(len(run) for run in _BASE64_RUN.findall(body))
    if found >= KEY_BODY_CHARS:
        return None
    return f"a private key marker with no key in it ({found} base64 characters)"
