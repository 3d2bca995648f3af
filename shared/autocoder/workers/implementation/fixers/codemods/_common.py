"""What every security codemod shares: find the one call on the flagged line, rewrite it, and
turn the rewrite into a :class:`Fix` that redoes it on the scratch copy.

A codemod is a libcst :class:`VisitorBasedCodemodCommand`, so imports it needs or frees are
added and removed by libcst's ``AddImportsVisitor`` / ``RemoveImportsVisitor`` (run by
``transform_module``), and every byte outside the rewritten call keeps its formatting.
A codemod refuses (:class:`Refused`) rather than guess: no call or several calls on the line,
a shape it cannot prove equivalent, a file that does not parse.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.metadata import CodeRange, PositionProvider, QualifiedNameProvider, ScopeProvider

from autocoder.errors import FixerError
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._layout import (
    DEFAULT_LINE_LENGTH,
    fit_line,
    project_line_length,
)
from autocoder.workers.implementation.workitem import WorkItem


class Refused(Exception):
    """The codemod cannot make this change safely; the message says why (it becomes no Fix)."""


class LineCallCodemod(VisitorBasedCodemodCommand):
    """Rewrites the single call whose span covers ``line`` and whose qualified name is one of
    :attr:`NAMES`; :meth:`rewrite` does the change or raises :class:`Refused`."""

    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider, ScopeProvider)
    NAMES: Collection[str] = ()

    def __init__(self, context: CodemodContext, line: int) -> None:
        super().__init__(context)
        self.line = line
        self.matched: list[str] = []  # qualified names of the calls found on the line
        self.note = ""  # what the rewrite did, for the Fix's title and rationale
        self.source_lines: list[str] = []  # set by rewrite_source, for the line length check
        self.line_length = DEFAULT_LINE_LENGTH

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        name = self.target_name(original_node)
        if name is None:
            return updated_node
        self.matched.append(name)
        where = self.get_metadata(PositionProvider, original_node)
        assert isinstance(where, CodeRange)
        new = self.rewrite(name, original_node, updated_node)
        return fit_line(new, where, self.source_lines, self.line_length)

    def target_name(self, call: cst.Call) -> str | None:
        """The call's qualified name when it is one this codemod rewrites on the flagged line."""
        where = self.get_metadata(PositionProvider, call)
        assert isinstance(where, CodeRange)
        if not where.start.line <= self.line <= where.end.line:
            return None
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, call.func, set())}
        hits = sorted(names & set(self.NAMES))
        return hits[0] if len(hits) == 1 else None

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        """The flagged call made safe; each codemod module's subclass says how (this base class
        is never used on its own: a codemod without its rewrite is a bug, hence the error)."""
        raise NotImplementedError(f"{type(self).__name__} has no rewrite for {name}")


Factory = Callable[[CodemodContext, int], LineCallCodemod]


@dataclass(frozen=True)
class Rewritten:
    """A codemod's result on one file: its new text and what the codemod said it did."""

    code: str
    note: str


def rewrite_source(
    source: str, line: int, factory: Factory, line_length: int = DEFAULT_LINE_LENGTH
) -> Rewritten:
    """``source`` with the flagged call rewritten; :class:`Refused` when nothing or several
    things matched, or the file does not parse."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise Refused(f"the file does not parse: {exc.message} (line {exc.raw_line})") from exc
    codemod = factory(CodemodContext(), line)
    codemod.source_lines, codemod.line_length = source.splitlines(), line_length
    new = codemod.transform_module(module)
    if len(codemod.matched) != 1:
        what = ", ".join(codemod.matched) or "none"
        raise Refused(f"expected one matching call on line {line}, found {what}")
    if new.code == source:
        raise Refused(f"the call on line {line} needs no change")
    return Rewritten(new.code, codemod.note)


def read_python(root: Path, file: str) -> str:
    path = root / file
    if not path.is_file():
        raise Refused(f"{file!r} is not a file under {root}")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"{file!r} cannot be read as UTF-8 text: {exc}") from exc


def applier(item: WorkItem, factory: Factory) -> Callable[[Path], list[str]]:
    """The ``Fix.apply`` that redoes the rewrite on a scratch tree (FixerError when it can't)."""

    def apply(tree: Path) -> list[str]:
        try:
            source, length = read_python(tree, item.file), project_line_length(tree)
            rewritten = rewrite_source(source, item.line, factory, length)
        except Refused as exc:
            raise FixerError(f"{item.file}:{item.line}: {exc}; the fix was not applied") from exc
        (tree / item.file).write_text(rewritten.code, encoding="utf-8")
        return [item.file]

    return apply


@dataclass(frozen=True)
class Offer:
    """How to present one codemod's change: title and rationale built from its note."""

    fixer: str
    safe: bool
    title: Callable[[str], str]
    rationale: Callable[[str], str]


def offer(item: WorkItem, root: Path, factory: Factory, how: Offer) -> Fix:
    """A :class:`Fix` for ``item`` when the codemod can rewrite the call in ``root`` (read
    only): the rewrite is tried now so that a refusal is known before any scratch copy."""
    source, length = read_python(root, item.file), project_line_length(root)
    rewritten = rewrite_source(source, item.line, factory, length)
    return Fix(
        fixer=how.fixer,
        title=how.title(rewritten.note),
        safe=how.safe,
        rationale=how.rationale(rewritten.note),
        apply=applier(item, factory),
    )


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def has_star_args(call: cst.Call) -> bool:
    """``*args`` or ``**kwargs``: what they hold is unknown here, so the call cannot be judged."""
    return any(a.star for a in call.args)


def without_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """``call`` without ``arg``; the new last argument keeps the removed one's trailing comma
    (or lack of it), so ``f(a, b=1)`` becomes ``f(a)`` and a one-per-line call stays so."""
    args = list(call.args)
    index = args.index(arg)
    del args[index]
    if args and index == len(args):
        args[-1] = args[-1].with_changes(
            comma=arg.comma, whitespace_after_arg=arg.whitespace_after_arg
        )
    return call.with_changes(args=args)


def with_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """``call`` with ``arg`` appended in the call's own layout: ``f(a)`` becomes ``f(a, arg)``;
    a call written one argument per line with a trailing comma gets one more such line."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[arg])
    last = args[-1]
    if not isinstance(last.comma, cst.Comma):
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return call.with_changes(args=[*args, arg])
    before = (
        args[-2].comma if len(args) > 1 else cst.Comma(whitespace_after=call.whitespace_before_args)
    )
    args[-1] = last.with_changes(comma=before)
    return call.with_changes(args=[*args, arg.with_changes(comma=last.comma)])


def is_true(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"
