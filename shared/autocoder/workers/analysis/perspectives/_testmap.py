"""The static map from tests to code: which modules the tests import, which names they reference.

Every Python file is parsed with :mod:`ast` (cached per content); the tests' imports and dotted
references, resolved through their import aliases, are matched against the other modules'
top-level definitions.
"""

from __future__ import annotations

import ast
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autocoder.engine.modules import is_test_file
from autocoder.engine.names import (
    dotted_name,
    from_module,
    import_aliases,
    imported_name,
)
from autocoder.engine.sources import SourceFiles

SCAN_VERSION = f"1-py{sys.version_info.major}.{sys.version_info.minor}"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def scan_module(path: Path) -> dict[str, Any]:
    """A file's public top-level definitions and the dotted names it imports or references."""
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning for the target's invalid escapes
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return {"error": type(exc).__name__}
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    defs = [[n.name, n.lineno, "class" if isinstance(n, ast.ClassDef) else "function"]
            for n in body if isinstance(n, _DEFS) and not n.name.startswith("_")]  # fmt: skip
    refs, stars = _imported(tree)
    aliases = import_aliases(tree, relative=True)
    for node in ast.walk(tree):
        head, _, rest = (dotted_name(node) or "").partition(".")
        if head in aliases:
            refs.add(aliases[head] + (f".{rest}" if rest else ""))
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}) if stars else []
    return {"defs": defs, "statements": len(body), "refs": sorted(refs), "stars": sorted(stars),
            "names": names}  # fmt: skip


def _imported(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Every module and name the imports name (``.x`` when relative), and the star-imported
    modules."""
    refs: set[str] = set()
    stars: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            refs.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = from_module(node)
            refs.add(module)
            stars.update(module for a in node.names if a.name == "*")
            refs.update(imported_name(module, a.name) for a in node.names if a.name != "*")
    return refs, stars


def _absolute(ref: str, package: str) -> str:
    """Resolve a relative import (``.x``, ``..y``) against the importing file's package."""
    level = len(ref) - len(ref.lstrip("."))
    if level == 0:
        return ref
    base = package.split(".") if package else []
    base = base[: len(base) - level + 1] if level > 1 else base
    return ".".join([*base, ref[level:]] if ref[level:] else base)


@dataclass(frozen=True)
class CodeModule:
    """A module of the code under test and its public top-level definitions."""

    name: str
    file: str
    lines: int
    defs: list[tuple[str, int, str]]  # public top-level (name, line, kind)


def code_modules(sources: SourceFiles, scans: dict[str, Any]) -> list[CodeModule]:
    """The non-test modules that parse and have a statement besides the docstring."""
    modules = []
    for f in (f for f in sources.python if not is_test_file(f) and f != "setup.py"):
        name, scan = sources.module(f), scans[f]
        importable = all(part.isidentifier() for part in name.split("."))
        if importable and "error" not in scan and scan["statements"]:
            defs = [(d[0], int(d[1]), d[2]) for d in scan["defs"]]
            modules.append(CodeModule(name, f, len(sources.lines(f)), defs))
    return modules


@dataclass
class Reached:
    """Every dotted name (with its prefixes) that the tests import or reference."""

    names: set[str] = field(default_factory=set)
    star_names: dict[str, set[str]] = field(default_factory=dict)  # star-imported module -> names

    @classmethod
    def of(cls, sources: SourceFiles, scans: dict[str, Any], tests: list[str]) -> Reached:
        reached = cls()
        for test in (t for t in tests if "error" not in scans[t]):
            name = sources.module(test)
            package = name if test.endswith("__init__.py") else name.rpartition(".")[0]
            for ref in scans[test]["refs"]:
                parts = _absolute(ref, package).split(".")
                reached.names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            for star in scans[test]["stars"]:
                names = reached.star_names.setdefault(_absolute(star, package), set())
                names.update(scans[test]["names"])
        return reached

    def imports_module(self, module: str) -> bool:
        return module in self.names or module in self.star_names

    def references(self, module: str, name: str) -> bool:
        """``module.name``, the name re-exported by an ancestor package, or used after ``*``."""
        parts = module.split(".")
        owners = (".".join(parts[:i]) for i in range(len(parts), 0, -1))
        star = self.star_names.get(module, set())
        return name in star or any(f"{owner}.{name}" in self.names for owner in owners)
