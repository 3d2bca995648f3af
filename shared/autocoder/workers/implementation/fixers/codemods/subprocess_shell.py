"""bandit B602 / B604: ``subprocess.*(..., shell=True)`` hands the command line to ``/bin/sh``,
so anything spliced into it later is shell syntax.

Only a command that is one string literal with no shell syntax is rewritten: it becomes the
list ``shlex.split`` makes of it, and ``shell=True`` goes. Any ``| & ; $ ` > < * ? ~ ( ) { } [ ]
! # \\`` or newline, a leading ``NAME=value`` or a shell builtin keeps it a shell command
(refused), because the list form would run something else. codemodder's rewrite keeps a string
command with ``shell=False``, which then looks for a program named after the whole line.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import libcst as cst

from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._common import (
    LineCallCodemod,
    Offer,
    Refused,
    has_star_args,
    is_true,
    keyword,
    offer,
    without_arg,
)
from autocoder.workers.implementation.workitem import WorkItem

FUNCTIONS = ("run", "call", "check_call", "check_output", "Popen")
NAMES = frozenset(f"subprocess.{f}" for f in FUNCTIONS)
SHELL_SYNTAX = frozenset("|&;$`><*?~(){}[]!#\\\n\r")
BUILTINS = frozenset(
    {"cd", "export", "source", ".", "alias", "set", "unset", "exit", "exec", "eval", "ulimit",
     "umask", "read", "wait", "trap", "type", "shopt", "pushd", "popd", "history", "builtin"}
)  # fmt: skip


class NoShell(LineCallCodemod):
    NAMES = NAMES

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if has_star_args(updated):
            raise Refused(f"{name}() takes *args/**kwargs")
        shell = keyword(updated, "shell")
        if shell is None or not is_true(shell.value):
            raise Refused(f"{name}() has no literal shell=True")
        if keyword(updated, "executable") is not None:
            raise Refused(f"{name}() names its own shell with executable=")
        command = updated.args[0] if updated.args else None
        if command is None or command.keyword is not None or command.star:
            raise Refused(f"{name}() without the command as its first positional argument")
        words = _words(command.value)
        self.note = f"{name}([{', '.join(repr(w) for w in words)}])"
        listed = cst.List([_element(w, i == len(words) - 1) for i, w in enumerate(words)])
        without = without_arg(updated, shell)
        return without.with_changes(
            args=[without.args[0].with_changes(value=listed), *without.args[1:]]
        )


def _words(node: cst.BaseExpression) -> list[str]:
    """The argument list the shell would have made of the literal command line."""
    if not isinstance(node, cst.SimpleString) or "b" in node.prefix.lower():
        raise Refused("the command is not one str literal: what it holds is unknown here")
    text = node.evaluated_value
    assert isinstance(text, str)
    syntax = sorted(SHELL_SYNTAX & set(text))
    if syntax:
        raise Refused(f"the command uses shell syntax {''.join(syntax)!r}: it needs the shell")
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise Refused(f"the command cannot be split like the shell would: {exc}") from exc
    if not words or "=" in words[0] or words[0] in BUILTINS:
        raise Refused(f"the command starts with {words[:1]}: a shell builtin or assignment")
    return words


def _element(word: str, last: bool) -> cst.Element:
    comma = (
        cst.MaybeSentinel.DEFAULT
        if last
        else cst.Comma(cst.SimpleWhitespace(""), cst.SimpleWhitespace(" "))
    )
    quoted = f'"{word}"' if '"' not in word else repr(word)
    return cst.Element(cst.SimpleString(quoted), comma=comma)


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    how = Offer(
        fixer="libcst:subprocess-no-shell",
        safe=False,
        title=lambda call: f"run without a shell: {call}",
        rationale=lambda call: (
            f"{call}: the program runs directly, with no /bin/sh to parse the line, so "
            "nothing added to the command later can inject shell syntax (CWE-78). The words "
            "are the ones the shell would have split; what changes is that a missing program "
            "raises FileNotFoundError instead of returning exit status 127."
        ),
    )
    return [offer(item, root, NoShell, how)]
