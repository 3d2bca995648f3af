"""Code facts the stages present: the lines around a finding, the definition holding it, its
module's place in the import graph, its callers, the tests that refer to it and whether it is
public API.

Everything is read from the target's syntax trees (:class:`.sources.SourceFiles`); the target is
never imported. The index of every file's imports is built once per snapshot, and with a
``cache`` (the run's :class:`.cache.ResultCache`) each file's part of it once per content (see
:mod:`._context_index`). Where static
resolution stops is told in :mod:`._context_refs`. Lists that go into a record are bounded to
:data:`MAX_LISTED` entries with their total (:func:`bounded`).
"""

from __future__ import annotations

import ast
from collections import Counter, deque
from collections.abc import Iterator

from autocoder.engine.cache import ResultCache
from autocoder.engine.sources import SourceFiles
from autocoder.errors import TargetError
from autocoder.workers.implementation._context_api import public_api
from autocoder.workers.implementation._context_index import ProjectIndex, project_index
from autocoder.workers.implementation._context_model import (
    MAX_LISTED,
    Definition,
    DefinitionKind,
    ImportPlace,
    PublicApi,
    Reference,
    References,
)
from autocoder.workers.implementation._context_refs import child_qualname, references, scoped

__all__ = [
    "MAX_LISTED", "Definition", "ImportPlace", "PublicApi", "Reference", "References", "bounded",
    "callers", "enclosing", "import_place", "module_of", "public_api", "snippet",
    "tests_referring",
]  # fmt: skip

DOC_CHARS = 200
_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def snippet(sources: SourceFiles, file: str, line: int, radius: int = 4) -> str:
    """The lines ``line - radius`` to ``line + radius`` of ``file``, numbered, the line itself
    marked with ``>``; "" when the file is not a listed one or has no such line."""
    lines = sources.lines(file)
    if not 0 < line <= len(lines):
        return ""
    first, last = max(1, line - radius), min(len(lines), line + radius)
    width = len(str(last))
    return "\n".join(
        f"{'>' if n == line else ' '} {n:>{width}} | {lines[n - 1]}" for n in range(first, last + 1)
    )


def enclosing(sources: SourceFiles, file: str, line: int) -> Definition | None:
    """The innermost ``def`` or ``class`` of ``file`` whose lines (decorators included) hold
    ``line``; None at module level, or when the file does not parse."""
    tree = sources.parse(file) if file.endswith(".py") and file in sources else None
    if tree is None:
        return None
    best: Definition | None = None
    for definition in _definitions(tree):
        if definition.start <= line <= definition.end and (
            best is None or definition.start >= best.start
        ):
            best = definition
    return best


def _definitions(tree: ast.Module) -> Iterator[Definition]:
    for node, scope, in_function in scoped(tree):
        if isinstance(node, _Def):
            kind: DefinitionKind = (
                "class" if isinstance(node, ast.ClassDef)
                else "method" if scope != "<module>" and not in_function
                else "function"
            )  # fmt: skip
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield Definition(
                child_qualname(scope, in_function, node.name), kind, start,
                node.end_lineno or node.lineno, _signature(node), _doc_line(node),
            )  # fmt: skip


def _signature(node: _Def) -> str:
    if isinstance(node, ast.ClassDef):
        bases = [ast.unparse(b) for b in [*node.bases, *node.keywords]]
        return f"class {node.name}" + (f"({', '.join(bases)})" if bases else "")
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"


def _doc_line(node: _Def) -> str:
    """The docstring's first paragraph on one line (its first line often stops mid-sentence),
    cut at :data:`DOC_CHARS`."""
    doc = (ast.get_docstring(node) or "").strip()
    first = " ".join(doc.split("\n\n", maxsplit=1)[0].split())
    return first if len(first) <= DOC_CHARS else first[: DOC_CHARS - 3].rstrip() + "..."


def module_of(sources: SourceFiles, file: str, cache: ResultCache | None = None) -> str | None:
    """The dotted name ``file`` is imported by (``src/click/utils.py`` -> ``click.utils``; a file
    outside any package as a namespace package, see :func:`.modules.module_name`); None when it
    is not a listed Python file that parses."""
    if not file.endswith(".py") or file not in sources:
        return None
    index = project_index(sources, cache)
    return index.files[file].module if file in index.files else None


def fan_in(sources: SourceFiles, cache: ResultCache | None = None) -> dict[str, int]:
    """File -> how many first-party modules (tests left out) import its module: how far a
    defect in it reaches, one index for every file."""
    index = project_index(sources, cache)
    counts = Counter(m for f in index.files.values() if not f.test for m in f.edges)
    return {file: counts[facts.module] for file, facts in index.files.items()}


def import_place(
    sources: SourceFiles, module: str, cache: ResultCache | None = None
) -> ImportPlace:
    """Where ``module`` sits among the target's first-party modules (see :class:`ImportPlace`)."""
    index = project_index(sources, cache)
    facts = index.facts(module)
    if facts is None:
        raise TargetError(
            f"{module!r} is not a module of the target that parses; module_of() names them"
        )
    imports = sorted(facts.edges)
    importers = sorted(f.module for f in index.files.values() if not f.test and module in f.edges)
    package = facts.package
    cycle = _shortest_cycle(index, module)
    return ImportPlace(
        module, facts.file, package, imports[:MAX_LISTED], len(imports),
        importers[:MAX_LISTED], len(importers), bool(cycle), cycle[: MAX_LISTED + 1],
    )  # fmt: skip


def _shortest_cycle(index: ProjectIndex, module: str) -> list[str]:
    """``[module, ..., module]`` through imports that run at import time, or []."""
    came_from: dict[str, str] = {}
    queue = deque([module])
    while queue:
        current = queue.popleft()
        facts = index.facts(current)
        for imported, edge in sorted(facts.edges.items()) if facts else []:
            if not edge.eager:
                continue
            if imported == module:
                path = [current]
                while path[-1] != module:
                    path.append(came_from[path[-1]])
                return [module, *reversed(path[:-1]), module]
            if imported not in came_from:
                came_from[imported] = current
                queue.append(imported)
    return []


def callers(
    sources: SourceFiles, module: str, qualname: str, cache: ResultCache | None = None
) -> list[Reference]:
    """Every place outside the test files that calls or names ``module:qualname`` through any
    import form or re-export (see :mod:`._context_refs` for where resolution stops), the
    definition itself excluded; sorted by file and line."""
    index = project_index(sources, cache)
    product = [f for f in index.files.values() if not f.test]
    return references(index, module, qualname, product)


def tests_referring(
    sources: SourceFiles, module: str, qualname: str, cache: ResultCache | None = None
) -> list[Reference]:
    """The test files (:func:`.modules.is_test_file`) that import ``module`` (``how="import"``)
    or name ``module:qualname``: one reference per test that names it (its first line there;
    the test is the outermost definition, a function defined inside a test counts as the test),
    sorted by file and line."""
    index = project_index(sources, cache)
    tests = [f for f in index.files.values() if f.test]
    imports = [
        Reference(f.file, f.edges[module].line, "<module>", "import", 1)
        for f in tests if module in f.edges
    ]  # fmt: skip
    first: dict[tuple[str, str], Reference] = {}
    for ref in references(index, module, qualname, tests):
        test = ref.caller.split(".<locals>.")[0]
        first.setdefault((ref.file, test), Reference(ref.file, ref.line, test, ref.how, ref.column))
    return sorted([*imports, *first.values()], key=lambda r: (r.file, r.line, r.caller))


def bounded(found: list[Reference], limit: int = MAX_LISTED) -> References:
    """The first ``limit`` references, how many there are and in how many files."""
    return References(found[:limit], len(found), len({r.file for r in found}))
