"""What the code a finding points at says: the lines around it, the function around it, whether
a hash belongs to an HMAC, whether an undefined name only sits in a local annotation.

Read from :class:`SourceFiles` (text and parsed trees, never imported); used by :mod:`.severity`.
"""

from __future__ import annotations

import ast
import re

from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding

UNDEFINED = re.compile(r"Undefined name `([^`]+)`")


def window(sources: SourceFiles, f: Finding, after: int = 3) -> str:
    """The flagged line and the few after it (a statement bandit reports may span lines)."""
    lines = sources.lines(f.file) if f.file in sources else []
    return "\n".join(lines[max(f.line - 1, 0) : f.line + after])


def enclosing_function(sources: SourceFiles, f: Finding) -> tuple[str, str]:
    """The name and source of the innermost function around ``f``'s line ("" and the line)."""
    tree = sources.parse(f.file) if f.file.endswith(".py") and f.file in sources else None
    spans = [
        (node.lineno, node.end_lineno or node.lineno, node.name)
        for node in (ast.walk(tree) if tree else [])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.lineno <= f.line <= (node.end_lineno or node.lineno)
    ]
    if not spans:
        return "", window(sources, f, after=0)
    first, last, name = max(spans)  # the innermost starts last
    return name, "\n".join(sources.lines(f.file)[first - 1 : last])


def hmac_use(sources: SourceFiles, f: Finding) -> bool:
    """The hash is an HMAC's: named at the line, or its function is handed on as a digest."""
    if re.search(r"hmac|digestmod", window(sources, f, after=2), re.IGNORECASE):
        return True
    name, _ = enclosing_function(sources, f)
    return bool(name) and any(
        name in text and re.search(r"digest_?method|digestmod|hmac", text, re.IGNORECASE)
        for text in sources.lines(f.file)
    )


def only_in_local_annotations(f: Finding, sources: SourceFiles) -> bool:
    """True when every use of the undefined name on ``f``'s line is in the annotation of a
    variable inside a function (PEP 526: such annotations are never evaluated)."""
    name = UNDEFINED.search(f.message)
    tree = sources.parse(f.file) if f.file in sources else None
    if name is None or tree is None:
        return False
    uses = {id(n) for n in ast.walk(tree) if _is_use(n, name.group(1), f.line)}
    in_annotations: set[int] = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in _own_scope(function):
                if isinstance(node, ast.AnnAssign):
                    in_annotations |= {id(n) for n in ast.walk(node.annotation)}
    return bool(uses) and uses <= in_annotations


def _is_use(node: ast.AST, name: str, line: int) -> bool:
    return isinstance(node, ast.Name) and node.id == name and node.lineno == line


def _own_scope(function: ast.AST) -> list[ast.AST]:
    """The statements of a function, not descending into nested classes (evaluated bodies)."""
    out: list[ast.AST] = []
    pending = list(ast.iter_child_nodes(function))
    while pending:
        node = pending.pop()
        out.append(node)
        if not isinstance(node, ast.ClassDef):
            pending.extend(ast.iter_child_nodes(node))
    return out


def is_text_constant_line(f: Finding, sources: SourceFiles) -> bool:
    """Whether the flagged line is a module-level ``NAME = "text"`` (or a tuple/list of texts)
    and nothing else: data, such as a locale's date formats, not code a reader could misread."""
    tree = sources.parse(f.file)
    for node in tree.body if tree else []:
        if node.lineno <= f.line <= (node.end_lineno or node.lineno):
            if not (
                isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)
            ):
                return False
            value = node.value
            items = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
            return all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items)
    return False
