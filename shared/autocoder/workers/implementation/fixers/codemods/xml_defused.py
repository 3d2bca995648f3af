"""bandit B313 / B314 / B317 / B318 / B319: the standard library's XML parsers expand entities
(a "billion laughs" document exhausts memory) and some fetch external ones.

The flagged parse call becomes the same call of ``defusedxml``'s drop-in module, which builds
the same trees and raises ``defusedxml.DefusedXmlException`` on entity declarations and
external references. Offered only when the project already declares ``defusedxml``: adding a
dependency is the dependency fixer's change, and a patch importing an undeclared package
breaks every install that lacks it. Refused for calls whose extra arguments mean something
else in defusedxml (``fromstring(text, parser)``), for lxml (defusedxml.lxml is deprecated)
and for the import-only findings B405-B411 (swapping a whole import loses ``Element``,
``SubElement`` and the other builders defusedxml does not re-export).
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._common import (
    LineCallCodemod,
    Offer,
    Refused,
    has_star_args,
    offer,
)
from autocoder.workers.implementation.workitem import WorkItem

# stdlib module -> (defusedxml module, {function: most positional arguments with one meaning})
ELEMENT_TREE = {"parse": 2, "iterparse": 2, "fromstring": 1, "XML": 1}
DEFUSED: dict[str, tuple[str, dict[str, int]]] = {
    "xml.etree.ElementTree": ("defusedxml.ElementTree", ELEMENT_TREE),
    "xml.etree.cElementTree": ("defusedxml.ElementTree", ELEMENT_TREE),
    "xml.dom.minidom": ("defusedxml.minidom", {"parse": 3, "parseString": 2}),
    "xml.dom.pulldom": ("defusedxml.pulldom", {"parse": 3, "parseString": 2}),
    "xml.sax": ("defusedxml.sax", {"parse": 3, "parseString": 3}),
}  # fmt: skip
NAMES = frozenset(f"{module}.{f}" for module, (_, fs) in DEFUSED.items() for f in fs)
DECLARATIONS = ("pyproject.toml", "setup.cfg", "setup.py", "requirements.txt", "Pipfile")


class Defused(LineCallCodemod):
    NAMES = NAMES

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        module, function = name.rsplit(".", 1)
        defused, most = DEFUSED[module]
        if has_star_args(updated) or any(a.keyword is not None for a in updated.args):
            raise Refused(
                f"{name}() takes keyword or starred arguments: not checked against defusedxml"
            )
        if len(updated.args) > most[function]:
            raise Refused(
                f"{name}() with {len(updated.args)} positional arguments: defusedxml reads "
                "them differently"
            )
        AddImportsVisitor.add_needed_import(self.context, defused)
        RemoveImportsVisitor.remove_unused_import_by_node(self.context, original.func)
        self.note = f"{name}(...) -> {defused}.{function}(...)"
        func = cst.parse_expression(f"{defused}.{function}")
        return updated.with_changes(func=func)


def declares_defusedxml(root: Path) -> bool:
    """A declaration file of the project names defusedxml (requirements*.txt included)."""
    files = [root / name for name in DECLARATIONS] + sorted(root.glob("requirements*.txt"))
    for path in files:
        try:
            if "defusedxml" in path.read_text(encoding="utf-8").lower():
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    if not declares_defusedxml(root):
        raise Refused(
            "the project does not declare defusedxml: declare it first, then this fix applies"
        )
    how = Offer(
        fixer="libcst:defusedxml",
        safe=False,
        title=lambda note: f"parse XML with defusedxml: {note}",
        rationale=lambda note: (
            f"{note}: the standard parsers expand entity declarations, so a small document can "
            "exhaust memory or (sax, pulldom) fetch external files (CWE-776, CWE-611). "
            "defusedxml builds the same objects but raises DefusedXmlException on entity "
            "declarations and external references, which callers may need to handle; it "
            "relies on the defusedxml dependency the project already declares."
        ),
    )
    return [offer(item, root, Defused, how)]
