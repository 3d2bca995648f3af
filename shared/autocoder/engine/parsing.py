"""Parsing the target's Python files so that no single file can take a perspective down.

``ast.parse`` and the analysers built on a parser (ruff, deptry, grimp, radon, griffe and our own
AST walks) recurse over the syntax tree. A hostile file (``1+1+...`` a hundred thousand times, two
thousand nested brackets, ``-----...1``) makes them raise ``RecursionError`` or
``MemoryError``, or overflow the stack of a native tool, which aborts it. So every Python file
gets a verdict once (see :func:`unsafe_reason`); a file with a reason is left out of
:class:`.sources.SourceFiles` and nothing reads it. A file that merely has a syntax error stays:
ruff reports it (``syntax-error``), and in-process parsers get ``None`` from :func:`parse_module`.

What "cannot be parsed safely" means here:

- a NUL byte (a binary file), or bytes that are not UTF-8 (a coding cookie is not honoured:
  ruff reads UTF-8 only);
- a syntax tree deeper than :data:`MAX_NESTING` levels (the deepest real module we measured in
  the standard library and a large set of packages is 87; the AST walks of the perspectives are
  safe to well over twice that), or ``ast.parse`` failing with ``RecursionError`` or
  ``MemoryError``;
- a file with a syntax error whose tokens show brackets or indentation nested deeper than
  :data:`MAX_NESTING`, or more than :data:`MAX_CHAIN` operators in one statement (ruff overflows
  its stack on such chains at about five thousand).
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
import warnings
from pathlib import Path

from autocoder.engine.cache import ResultCache

MAX_NESTING = 100
MAX_CHAIN = 1000
VERDICT_TOOL = "autocoder-python-verdict"
VERDICT_VERSION = f"1-{MAX_NESTING}-{MAX_CHAIN}-py{sys.version_info.major}.{sys.version_info.minor}"

BINARY = "binary (NUL bytes)"
NOT_UTF8 = "not valid UTF-8"
TOO_DEEP = f"nesting deeper than {MAX_NESTING}"
LONG_CHAIN = f"does not parse and chains more than {MAX_CHAIN} operators in one statement"
UNREADABLE = "cannot be read"
UNREADABLE_DIGEST = "unreadable"  # what a content hash is when the file cannot be read

_BRACKETS = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}
_INDENTS = {tokenize.INDENT: 1, tokenize.DEDENT: -1}
_NOT_CHAINING = frozenset(",:;=()[]{}")  # separators: a long flat list or dict is not deep
_CHAINING_WORDS = frozenset({"not", "and", "or", "if", "else", "lambda", "await", "in", "is"})


def parse_module(data: bytes, filename: str) -> tuple[ast.Module | None, str | None]:
    """(the tree, None), or (None, why it does not parse) for any failure of the parser.

    Warnings are silenced (the target's invalid escapes must not become errors in a worker that
    runs with warnings as errors)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(data, filename=filename), None
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return None, f"{type(e).__name__}: {e}"


def python_verdicts(
    files: dict[str, tuple[Path, str]], limit: int, cache: ResultCache | None
) -> dict[str, str | None]:
    """Each file's reason for being unsafe (:func:`unsafe_reason`), None when it is safe.

    ``files`` maps a name to (its path, its content digest); verdicts are taken from ``cache`` by
    digest, else checked and put there, so unchanged content is never parsed twice."""
    digests = sorted({digest for _, digest in files.values()} - {UNREADABLE_DIGEST})
    known = cache.get_many(VERDICT_TOOL, VERDICT_VERSION, digests) if cache else {}
    fresh: dict[str, str] = {}
    out: dict[str, str | None] = {}
    for name, (path, digest) in files.items():
        if digest == UNREADABLE_DIGEST:
            out[name] = UNREADABLE
            continue
        if digest not in known and digest not in fresh:
            try:
                fresh[digest] = _checked(read_at_most(path, limit)) or ""
            except OSError:  # gone, or grown past the limit, since it was listed
                out[name] = UNREADABLE
                continue
        out[name] = (fresh[digest] if digest in fresh else known[digest]) or None
    if cache is not None and fresh:
        cache.put_many(VERDICT_TOOL, VERDICT_VERSION, fresh)
    return out


def read_at_most(path: Path, limit: int) -> bytes:
    """The content of ``path``; OSError when it holds more than ``limit`` bytes."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path} holds more than {limit} bytes")
    return data


def _checked(data: bytes) -> str | None:
    try:
        return unsafe_reason(data)
    except Exception as e:  # the check itself must not be what one file knocks out
        return f"cannot be checked ({type(e).__name__})"


def unsafe_reason(data: bytes) -> str | None:
    """Why a Python file's content cannot be parsed safely, or None when it can (also when it
    only has a syntax error that the analysers report)."""
    if b"\0" in data:
        return BINARY
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    tree, error = parse_module(data, "<verdict>")
    if tree is not None:
        return TOO_DEEP if deeper_than(tree, MAX_NESTING) else None
    if error and error.startswith(("RecursionError", "MemoryError")):
        return TOO_DEEP
    return _token_reason(text)


def deeper_than(tree: ast.AST, limit: int) -> bool:
    """Whether the tree has more than ``limit`` levels (walked level by level, no recursion)."""
    level, depth = [tree], 1
    while level:
        if depth > limit:
            return True
        level = [child for node in level for child in ast.iter_child_nodes(node)]
        depth += 1
    return False


def _token_reason(text: str) -> str | None:
    """For a file with a syntax error: nesting or chains that would crash a native parser."""
    brackets = indents = chain = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.OP:
                brackets = max(0, brackets + _BRACKETS.get(token.string, 0))
            indents = max(0, indents + _INDENTS.get(token.type, 0))
            chain = 0 if token.type == tokenize.NEWLINE else chain + _chains(token)
            if brackets > MAX_NESTING or indents > MAX_NESTING:
                return TOO_DEEP
            if chain > MAX_CHAIN:
                return LONG_CHAIN
    except (tokenize.TokenError, SyntaxError) as e:  # IndentationError too; what came before counts
        if "too many" in str(e):  # "too many nested parentheses", "... levels of indentation"
            return TOO_DEEP
    return None


def _chains(token: tokenize.TokenInfo) -> int:
    """1 for a token that can add a level to an expression (an operator, ``not``, ``lambda``)."""
    if token.type == tokenize.OP:
        return int(token.string not in _NOT_CHAINING)
    return int(token.type == tokenize.NAME and token.string in _CHAINING_WORDS)
