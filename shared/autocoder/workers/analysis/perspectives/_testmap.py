"""The static map from tests to code: which modules the tests import, which names they reference.

Every Python file is parsed with :mod:`ast` (cached per content); the tests' imports and dotted
references, resolved through their import aliases, are matched against the other modules'
top-level definitions.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autocoder.engine.modules import BENCH_DIRS, DOCS_DIRS, EXAMPLE_DIRS, is_test_file
from autocoder.engine.names import (
    dotted_name,
    from_module,
    import_aliases,
    imported_name,
)
from autocoder.engine.sources import SourceFiles

SCAN_VERSION = f"4-py{sys.version_info.major}.{sys.version_info.minor}"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Whole lowercase words only, with at most two digits: module names ("migrate", "tz"). A token
# of mixed case or many digits (a key, a hash, a password in a URL) is never kept, not even in
# the cache, so no secret of a test file travels through this scan.
_WORD = re.compile(r"(?<![A-Za-z0-9_])[a-z_][a-z0-9_]{0,39}(?![A-Za-z0-9_])")
# Modules a framework loads by name, never by import: a command or tag library is reached by a
# test that names it; an app's hook modules by a test that reaches the app.
BY_NAME_DIRS = ("management.commands", "templatetags")
APP_HOOKS = frozenset({"apps", "admin", "signals", "checks", "urls", "handlers"})
# Code that is not the product under test: documentation, examples, benchmarks, migrations
# (generated schema steps) and the build or task files at the top.
NOT_PRODUCT_DIRS = DOCS_DIRS | EXAMPLE_DIRS | BENCH_DIRS | {"migrations"}
NOT_PRODUCT_FILES = frozenset({"setup.py", "noxfile.py", "fabfile.py", "manage.py", "conftest.py"})


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
        elif _is_dotted_path(node):  # "pkg.backends.db" in settings, mock.patch, import_string
            refs.add(str(getattr(node, "value", "")))
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}) if stars else []
    return {"defs": defs, "statements": len(body), "refs": sorted(refs), "stars": sorted(stars),
            "names": names, "words": sorted(_string_words(tree))}  # fmt: skip


def _string_words(tree: ast.AST) -> set[str]:
    """The identifiers inside string constants: how a test names a command it calls
    (``call_command("migrate")``) or a tag library it loads (``{% load tz %}``)."""
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = _WORD.findall(node.value[:2000])
            words.update(w for w in found if sum(c.isdigit() for c in w) <= 2)
    return words


def _is_dotted_path(node: ast.AST) -> bool:
    """A string constant spelling a dotted name of two parts or more: how settings, plugin
    registries and ``mock.patch`` name a module that they import by name."""
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return False
    parts = node.value.split(".")
    return 1 < len(parts) <= 12 and all(p.isidentifier() for p in parts)


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


def is_product_code(file: str) -> bool:
    """Not a test, and not documentation, an example, a benchmark, a migration or a build file."""
    *dirs, name = file.split("/")
    return not (
        is_test_file(file) or name in NOT_PRODUCT_FILES or any(d in NOT_PRODUCT_DIRS for d in dirs)
    )


@dataclass(frozen=True)
class CodeModule:
    """A module of the code under test and its public top-level definitions."""

    name: str
    file: str
    lines: int
    defs: list[tuple[str, int, str]]  # public top-level (name, line, kind)


def code_modules(sources: SourceFiles, scans: dict[str, Any]) -> list[CodeModule]:
    """The product's modules (:func:`is_product_code`) that parse and have a statement besides
    the docstring."""
    modules = []
    for f in (f for f in sources.python if is_product_code(f)):
        name, scan = sources.module(f), scans[f]
        importable = all(part.isidentifier() for part in name.split("."))
        if importable and "error" not in scan and scan["statements"]:
            defs = [(d[0], int(d[1]), d[2]) for d in scan["defs"]]
            modules.append(CodeModule(name, f, len(sources.lines(f)), defs))
    return modules


def importers(
    sources: SourceFiles, scans: dict[str, Any], modules: list[CodeModule]
) -> dict[str, set[str]]:
    """Module -> the other code modules that import it (its fan-in within the code under test)."""
    names = {m.name for m in modules}
    out: dict[str, set[str]] = {name: set() for name in names}
    for m in modules:
        package = m.name if m.file.endswith("__init__.py") else m.name.rpartition(".")[0]
        for ref in scans[m.file]["refs"]:
            target = _absolute(ref, package)
            if target in names and target != m.name:
                out[target].add(m.name)
    return out


@dataclass
class Reached:
    """Every dotted name (with its prefixes) that the tests import or reference."""

    names: set[str] = field(default_factory=set)
    star_names: dict[str, set[str]] = field(default_factory=dict)  # star-imported module -> names
    words: set[str] = field(default_factory=set)  # identifiers in the tests' strings

    @classmethod
    def of(cls, sources: SourceFiles, scans: dict[str, Any], tests: list[str]) -> Reached:
        reached = cls()
        for test in (t for t in tests if "error" not in scans[t]):
            name = sources.module(test)
            package = name if test.endswith("__init__.py") else name.rpartition(".")[0]
            for ref in scans[test]["refs"]:
                parts = _absolute(ref, package).split(".")
                reached.names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            reached.words.update(scans[test]["words"])
            for star in scans[test]["stars"]:
                names = reached.star_names.setdefault(_absolute(star, package), set())
                names.update(scans[test]["names"])
        return reached

    def imports_module(self, module: str) -> bool:
        return module in self.names or module in self.star_names

    def reaches(self, module: CodeModule) -> bool:
        """A test imports the module or names one of its public definitions (re-exports too),
        or names what a framework loads it by (:data:`BY_NAME_DIRS`, :data:`APP_HOOKS`)."""
        return (
            self.imports_module(module.name)
            or any(self.references(module.name, name) for name, _line, _kind in module.defs)
            or self._loaded_by_name(module.name)
        )

    def _loaded_by_name(self, module: str) -> bool:
        parent, _, last = module.rpartition(".")
        if parent.endswith(BY_NAME_DIRS):
            return last in self.words
        return last in APP_HOOKS and bool(parent) and self.imports_module(parent)

    def references(self, module: str, name: str) -> bool:
        """``module.name``, the name re-exported by an ancestor package, or used after ``*``."""
        parts = module.split(".")
        owners = (".".join(parts[:i]) for i in range(len(parts), 0, -1))
        star = self.star_names.get(module, set())
        return name in star or any(f"{owner}.{name}" in self.names for owner in owners)
