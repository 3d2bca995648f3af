"""bandit B324 / B303: ``hashlib.md5`` / ``sha1`` (or ``hashlib.new("md5")``) are broken for
security: collisions are cheap, and a FIPS build of Python refuses them.

Two candidates, and the flagged line decides which are offered:

* ``usedforsecurity=False`` keeps the digest and says the hash is a checksum or a cache key
  (safe by construction, Python 3.9+: not offered when ``requires-python`` admits 3.8). Not
  offered when the file's path or the function around the line names a password, token,
  secret, signature, session, cookie or nonce: claiming "not for security" there may be false.
* ``sha256`` changes the digest (unsafe: stored digests, cache keys and fixtures no longer
  match). For a password neither is right: it needs a KDF (hashlib.scrypt, argon2), which is a
  design change the rationale points out rather than makes.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._common import (
    LineCallCodemod,
    Offer,
    Refused,
    has_star_args,
    keyword,
    offer,
    with_arg,
)
from autocoder.workers.implementation.fixers.codemods._context import SECURITY_WORDS, mentions
from autocoder.workers.implementation.workitem import WorkItem

WEAK = frozenset({"md5", "sha1"})
NAMES = frozenset({"hashlib.md5", "hashlib.sha1", "hashlib.new"})
MINIMUM_PYTHON = re.compile(r">=?\s*3\.(\d+)")


class WeakHash(LineCallCodemod):
    NAMES = NAMES

    def __init__(self, context: CodemodContext, line: int, stronger: bool) -> None:
        super().__init__(context, line)
        self.stronger = stronger

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if has_star_args(updated):
            raise Refused(f"{name}() takes *args/**kwargs")
        if keyword(updated, "usedforsecurity") is not None:
            raise Refused(f"{name}() already says usedforsecurity=")
        algorithm = self._algorithm(name, updated)
        if not self.stronger:
            self.note = f"{algorithm}(..., usedforsecurity=False)"
            flag = cst.Arg(cst.Name("False"), keyword=cst.Name("usedforsecurity"), equal=_eq())
            return with_arg(updated, flag)
        self.note = f"{algorithm} -> sha256"
        if name == "hashlib.new":
            old = updated.args[0].value
            quote = old.quote if isinstance(old, cst.SimpleString) else '"'
            first = updated.args[0].with_changes(value=cst.SimpleString(f"{quote}sha256{quote}"))
            return updated.with_changes(args=[first, *updated.args[1:]])
        if isinstance(updated.func, cst.Attribute):
            return updated.with_changes(func=updated.func.with_changes(attr=cst.Name("sha256")))
        AddImportsVisitor.add_needed_import(self.context, "hashlib", "sha256")
        RemoveImportsVisitor.remove_unused_import_by_node(self.context, original.func)
        return updated.with_changes(func=cst.Name("sha256"))

    def _algorithm(self, name: str, call: cst.Call) -> str:
        if name != "hashlib.new":
            return name
        first = call.args[0] if call.args else None
        value = first.value if first is not None and first.keyword is None else None
        algorithm = value.evaluated_value if isinstance(value, cst.SimpleString) else None
        if not isinstance(algorithm, str) or algorithm.lower() not in WEAK:
            raise Refused("hashlib.new() without a literal md5/sha1 algorithm")
        return f"hashlib.new({algorithm!r})"


def _eq() -> cst.AssignEqual:
    return cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def supports_python_below_3_9(root: Path) -> bool:
    """``requires-python`` in ``pyproject.toml`` admits a Python without ``usedforsecurity``."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # unknown: the rationale says 3.9+ is needed
    spec = project.get("project", {}).get("requires-python", "")
    floor = MINIMUM_PYTHON.search(spec) if isinstance(spec, str) else None
    return floor is not None and int(floor.group(1)) < 9


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    security = mentions(root, item, SECURITY_WORDS)
    found: list[Fix] = []
    if not security and not supports_python_below_3_9(root):
        found.append(offer(item, root, lambda c, line: WeakHash(c, line, False), CHECKSUM))
    found.append(offer(item, root, lambda c, line: WeakHash(c, line, True), STRONGER))
    return found


CHECKSUM = Offer(
    fixer="libcst:hash-usedforsecurity",
    safe=True,
    title=lambda note: f"mark the hash as not for security: {note}",
    rationale=lambda note: (
        f"{note}: same digest, so stored checksums and cache keys still match; it states that "
        "the hash is not a security control and lets FIPS builds run it. Right for checksums, "
        "ETags and cache keys; wrong if the digest protects anything. Needs Python 3.9+."
    ),
)
STRONGER = Offer(
    fixer="libcst:hash-sha256",
    safe=False,
    title=lambda note: f"use a strong hash: {note}",
    rationale=lambda note: (
        f"{note}: collision resistant, for digests that protect something (the code around "
        "names a password, token, secret or signature when only this is offered). Changes "
        "every digest: stored values, cache keys and test fixtures no longer match. A "
        "password needs a KDF (hashlib.scrypt, argon2) instead: a design change left to you."
    ),
)
