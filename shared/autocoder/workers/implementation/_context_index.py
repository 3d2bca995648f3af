"""Every Python file of the target parsed once: its module name, what its imports bind and which
first-party modules it imports. Built from the syntax trees alone; nothing is imported.

A name is resolved as the file's imports bind it, wherever in the file the import is (a
function-level import binds for the whole file here), and a top-level ``def``/``class`` binds
its own module's name. Assignments (``echo = _echo``), ``getattr``, ``importlib`` and star
imports are not followed.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from autocoder.engine.cache import ResultCache
from autocoder.engine.modules import is_test_file
from autocoder.engine.names import dotted_name
from autocoder.engine.sources import SourceFiles

SUMMARY_TOOL = "autocoder-context-imports"
SUMMARY_VERSION = "1"
_MEMO_LOCK = threading.Lock()
_MEMO: list[tuple[SourceFiles, ProjectIndex]] = []  # the last snapshot indexed, and its index
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


@dataclass(frozen=True)
class Edge:
    """A direct import of a first-party module: the first line, whether any runs at import."""

    imported: str
    line: int
    eager: bool


@dataclass(frozen=True)
class Import:
    """One import statement as the summary of a file keeps it (JSON in the result cache)."""

    level: int  # -1 for ``import a.b``; the dots of ``from ..a import b`` otherwise
    module: str
    names: list[tuple[str, str | None]]  # (name, alias)
    line: int
    eager: bool


@dataclass
class ModuleFacts:
    module: str
    file: str
    test: bool
    bindings: dict[str, str] = field(default_factory=dict)  # local name -> absolute dotted
    edges: dict[str, Edge] = field(default_factory=dict)  # imported module -> its first import
    exports: dict[str, str] = field(default_factory=dict)  # re-exportable: local -> dotted

    @property
    def is_package(self) -> bool:
        return self.file.rpartition("/")[2] == "__init__.py"

    @property
    def package(self) -> str:
        """The package relative imports start from: the module itself for an ``__init__``."""
        return self.module if self.is_package else self.module.rpartition(".")[0]


@dataclass
class ProjectIndex:
    sources: SourceFiles
    files: dict[str, ModuleFacts] = field(default_factory=dict)  # repo file -> facts
    modules: dict[str, str] = field(default_factory=dict)  # module -> its file (product first)
    # dotted name -> (module, local name, whether the module is a package) of each module
    # outside the tests that imports it at module level
    exporters: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    spelled: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # memo

    def known(self, dotted: str) -> str | None:
        """The longest prefix of ``dotted`` that is a module of the target."""
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            if (name := ".".join(parts[:end])) in self.modules:
                return name
        return None

    def facts(self, module: str) -> ModuleFacts | None:
        file = self.modules.get(module)
        return self.files[file] if file is not None else None

    def tree(self, file: str) -> ast.Module | None:
        """A file's syntax tree, parsed again each time (trees are large; few are walked)."""
        return self.sources.parse(file)


def project_index(sources: SourceFiles, cache: ResultCache | None = None) -> ProjectIndex:
    """The index of ``sources``; the last one built is kept while the same snapshot is asked.
    ``cache`` keeps each file's import summary by content, so an unchanged file is not parsed
    again to build the index."""
    with _MEMO_LOCK:
        if _MEMO and _MEMO[0][0] is sources:
            return _MEMO[0][1]
        index = _build(sources, cache)
        _MEMO[:] = [(sources, index)]
        return index


def _build(sources: SourceFiles, cache: ResultCache | None) -> ProjectIndex:
    index = ProjectIndex(sources)
    summaries = _summaries(sources, cache)
    for file in summaries:
        index.files[file] = ModuleFacts(sources.module(file), file, is_test_file(file))
    for facts in sorted(index.files.values(), key=lambda f: (f.test, f.file)):
        index.modules.setdefault(facts.module, facts.file)
    for file, (imports, defs) in summaries.items():
        facts = index.files[file]
        _bind(facts, imports, defs, index)
        for local, dotted in facts.exports.items() if not facts.test else ():
            if dotted not in index.modules:  # a module bound by another is not re-exported
                entry = (facts.module, local, facts.is_package)
                index.exporters.setdefault(dotted, []).append(entry)
    return index


def _summaries(
    sources: SourceFiles, cache: ResultCache | None
) -> dict[str, tuple[list[Import], list[str]]]:
    """Each Python file that parses -> (its imports, its top-level definitions)."""
    digests = {file: sources.digest(file) for file in sources.python}
    known = (
        cache.get_many(SUMMARY_TOOL, SUMMARY_VERSION, sorted(set(digests.values())))
        if cache
        else {}
    )
    fresh: dict[str, Any] = {}
    out: dict[str, tuple[list[Import], list[str]]] = {}
    for file, digest in digests.items():
        if digest not in known and digest not in fresh:
            tree = sources.parse(file)
            fresh[digest] = None if tree is None else _summary(tree)
        raw = fresh[digest] if digest in fresh else known[digest]
        if raw is not None:
            imports = [Import(i[0], i[1], [(n, a) for n, a in i[2]], i[3], i[4]) for i in raw[0]]
            out[file] = (imports, list(raw[1]))
    if cache is not None and fresh:
        cache.put_many(SUMMARY_TOOL, SUMMARY_VERSION, fresh)
    return out


def _summary(tree: ast.Module) -> list[Any]:
    """[imports as lists, top-level def and class names]: what the index needs of a file."""
    imports = []
    for node, eager in imports_of(tree):
        names = [[a.name, a.asname] for a in node.names]
        if isinstance(node, ast.Import):
            imports.append([-1, "", names, node.lineno, eager])
        else:
            imports.append([node.level, node.module or "", names, node.lineno, eager])
    defs = [
        s.name
        for s in tree.body
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    return [imports, defs]


def _bind(facts: ModuleFacts, imports: list[Import], defs: list[str], index: ProjectIndex) -> None:
    for statement in imports:
        for local, dotted, target, attribute in _bound(statement, facts.package, index):
            facts.bindings[local] = dotted
            if statement.eager and attribute:
                facts.exports[local] = dotted
            if target is not None and target != facts.module:
                _add_edge(facts, Edge(target, statement.line, statement.eager))
    for name in defs:
        facts.bindings[name] = f"{facts.module}.{name}"


def _add_edge(facts: ModuleFacts, edge: Edge) -> None:
    seen = facts.edges.get(edge.imported)
    if seen is None:
        facts.edges[edge.imported] = edge
    else:
        facts.edges[edge.imported] = Edge(
            edge.imported, min(seen.line, edge.line), seen.eager or edge.eager
        )


def _bound(
    statement: Import, package: str, index: ProjectIndex
) -> Iterator[tuple[str, str, str | None, bool]]:
    """(local name, absolute dotted name it binds, the first-party module imported or None,
    whether the name is one others would import from the module: not the top-level package a
    plain ``import a.b`` binds)."""
    if statement.level < 0:
        for name, alias in statement.names:
            local = alias or name.split(".")[0]
            yield local, name if alias else local, index.known(name), alias is not None
        return
    base = absolute(statement.level, statement.module, package)
    if base is None:
        return
    for name, alias in statement.names:
        if name == "*":
            continue
        dotted = f"{base}.{name}" if base else name
        target = dotted if dotted in index.modules else index.known(base) if base else None
        yield alias or name, dotted, target, True


def absolute(level: int, module: str, package: str) -> str | None:
    """The absolute module a ``from`` import reads (``..x`` from ``pkg.sub`` -> ``pkg.x``), or
    None when its dots climb above the top of the tree."""
    if not level:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def imports_of(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement with whether it runs when the module is imported (not inside a
    function, not under ``if TYPE_CHECKING``). Only statements are walked: an import is one."""
    stack: list[tuple[ast.AST, bool]] = [(stmt, True) for stmt in reversed(tree.body)]
    while stack:
        node, eager = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, eager
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            eager = False
        checking = isinstance(node, ast.If) and _type_checking(node.test)
        for name in reversed(_BODIES):
            inner = eager and not (checking and name == "body")
            stack += [(child, inner) for child in reversed(getattr(node, name, None) or [])]


def _type_checking(test: ast.expr) -> bool:
    name = dotted_name(test)
    return name is not None and name.rpartition(".")[2] == "TYPE_CHECKING"
