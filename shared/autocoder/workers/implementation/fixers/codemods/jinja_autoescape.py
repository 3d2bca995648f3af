"""bandit B701 / AC-WEB-AUTOESCAPE: a jinja2 ``Environment`` without ``autoescape`` (or with
``autoescape=False``) inserts every template variable as raw HTML.

``Environment(...)`` gets ``autoescape=select_autoescape()``: escaping for ``.html``, ``.htm``,
``.xml`` templates and templates from strings, none for ``.txt`` and the like, which is what
jinja2's documentation recommends. ``Template(...)`` (always from a string) gets
``autoescape=True``. An ``autoescape`` that is not the literal ``False`` is the code's choice and
is left alone.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

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
from autocoder.workers.implementation.workitem import WorkItem

NAMES = frozenset({"jinja2.Environment", "jinja2.Template", "jinja2.environment.Environment"})


class Autoescape(LineCallCodemod):
    NAMES = NAMES

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if has_star_args(updated):
            raise Refused(f"{name}() takes *args/**kwargs that may set autoescape")
        value = self._escaping(name, updated.func)
        current = keyword(updated, "autoescape")
        if current is None:
            new_arg = cst.Arg(value, keyword=cst.Name("autoescape"), equal=_equal())
            self.note = f"{name}(..., autoescape={_code(value)})"
            return with_arg(updated, new_arg)
        if not (isinstance(current.value, cst.Name) and current.value.value == "False"):
            raise Refused(f"{name}() has autoescape={_code(current.value)}: the code's choice")
        self.note = f"{name}(autoescape=False) -> autoescape={_code(value)}"
        args = [a.with_changes(value=value) if a is current else a for a in updated.args]
        return updated.with_changes(args=args)

    def _escaping(self, name: str, func: cst.BaseExpression) -> cst.BaseExpression:
        """``True`` for a Template; ``select_autoescape()`` for an Environment, spelled the way
        the file reaches jinja2 (``jinja2.select_autoescape()`` or an added import)."""
        if name.endswith("Template"):
            return cst.Name("True")
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            return cst.Call(cst.Attribute(func.value, cst.Name("select_autoescape")))
        AddImportsVisitor.add_needed_import(self.context, "jinja2", "select_autoescape")
        return cst.Call(cst.Name("select_autoescape"))


def _equal() -> cst.AssignEqual:
    return cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def _code(node: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(node)


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    how = Offer(
        fixer="libcst:jinja2-autoescape",
        safe=False,
        title=lambda note: f"escape template variables: {note}",
        rationale=lambda note: (
            f"{note}: without autoescaping a variable holding '<script>' is sent to the browser "
            "as markup (XSS, CWE-79). Templates that insert HTML on purpose must now mark it "
            "with |safe or Markup(), or it shows escaped: check the rendered pages."
        ),
    )
    return [offer(item, root, Autoescape, how)]
