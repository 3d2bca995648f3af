"""What the code around a flagged line is about, read from its names: a hash or a random draw
next to a password or a token protects something; next to an ETag or lorem ipsum it does not.

The text looked at is the file's path and the innermost function around the line (name,
arguments, docstring, body), or the line alone at module level. Parsed with :mod:`ast`,
never imported.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from autocoder.workers.implementation.fixers.codemods._common import read_python
from autocoder.workers.implementation.workitem import WorkItem

# names that say a value guards something (a "key" alone is not one: cache keys are checksums)
GUARDS = (
    r"passw|pwd|token|secret|api_?key|private|(?<![a-z])sign|hmac|(?<![a-z])auth(?!or)"
    r"|session|cookie|nonce|salt|csrf"
)
SECURITY_WORDS = re.compile(GUARDS, re.I)
# a random draw also guards something when it makes a one-time code, a PIN or a key
SECRET_DRAWS = re.compile(
    GUARDS + r"|otp|(?<![a-z])pin(?![a-z])|(?<![a-z])key(?![a-z])|verif|reset|invite", re.I
)


def mentions(root: Path, item: WorkItem, words: re.Pattern[str]) -> bool:
    """The file's path or the function around the flagged line matches ``words``."""
    return bool(words.search(item.file + "\n" + enclosing_text(root, item)))


def enclosing_text(root: Path, item: WorkItem) -> str:
    """The source of the innermost function around the flagged line, or the line itself."""
    source = read_python(root, item.file)
    lines = source.splitlines()
    line = lines[item.line - 1] if 0 < item.line <= len(lines) else ""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return line
    around = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.lineno <= item.line <= (node.end_lineno or node.lineno)
    ]  # fmt: skip
    if not around:
        return line
    inner = max(around, key=lambda node: node.lineno)
    return "\n".join(lines[inner.lineno - 1 : inner.end_lineno])
