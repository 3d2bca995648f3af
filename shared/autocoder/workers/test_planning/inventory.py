"""The target's testable surface: modules, functions, methods and classes, with their signatures.

Extracted with ``ast`` once per file content (cached), so every perspective starts from the same
facts: what exists, where, how complex, who imports it, and which tests reference it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file

TOOL = "autocoder-inventory"
VERSION = f"{__version__}-4"


def importable(module: str) -> bool:
    """Whether ``from <module> import name`` can be written: every part is an identifier."""
    return bool(module) and all(part.isidentifier() for part in module.split("."))


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str | None
    default: str | None  # source text of the default
    kind: str  # positional | keyword | var_positional | var_keyword


@dataclass(frozen=True)
class Subject:
    """A function, method or class of the target that a test can call."""

    module: str
    qualname: str
    file: str
    line: int
    end_line: int
    kind: str  # function | method | class
    is_async: bool
    params: tuple[Param, ...]
    returns: str | None
    decorators: tuple[str, ...]
    complexity: int  # 1 + branches, from the AST
    docstring: str
    bases: tuple[str, ...] = ()  # a class's base classes as written (``models.Model``)

    @property
    def id(self) -> str:
        return f"{self.module}:{self.qualname}"

    @property
    def public(self) -> bool:
        return not any(part.startswith("_") for part in self.qualname.split("."))

    @property
    def owner(self) -> str:
        """The top-level name to import: the class of a method, else the subject itself."""
        return self.qualname.split(".")[0]


def _unparse(node: ast.AST | None) -> str | None:
    return ast.unparse(node) if node is not None else None


def _params(args: ast.arguments) -> list[dict[str, Any]]:
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [
        {
            "name": a.arg,
            "annotation": _unparse(a.annotation),
            "default": _unparse(d),
            "kind": "positional",
        }
        for a, d in zip(positional, defaults, strict=True)
    ]
    if args.vararg:
        out.append(
            {"name": args.vararg.arg, "annotation": None, "default": None, "kind": "var_positional"}
        )
    out += [
        {
            "name": a.arg,
            "annotation": _unparse(a.annotation),
            "default": _unparse(d),
            "kind": "keyword",
        }
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg:
        out.append(
            {"name": args.kwarg.arg, "annotation": None, "default": None, "kind": "var_keyword"}
        )
    return out


BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.ExceptHandler, ast.With,
            ast.IfExp, ast.BoolOp, ast.comprehension, ast.Match)  # fmt: skip


def _complexity(node: ast.AST) -> int:
    return 1 + sum(isinstance(n, BRANCHES) for n in ast.walk(node))


def _subject(node: ast.AST, qualname: str, kind: str) -> dict[str, Any]:
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    is_function = not isinstance(node, ast.ClassDef)
    return {
        "qualname": qualname,
        "line": node.lineno,
        "end_line": node.end_lineno or node.lineno,
        "kind": kind,
        "is_async": isinstance(node, ast.AsyncFunctionDef),
        "params": _params(node.args) if is_function else [],  # type: ignore[union-attr]
        "returns": _unparse(node.returns) if is_function else None,  # type: ignore[union-attr]
        "decorators": [ast.unparse(d) for d in node.decorator_list],
        "complexity": _complexity(node),
        "docstring": (ast.get_docstring(node) or "").split("\n")[0][:200],
        "bases": _bases(node) if isinstance(node, ast.ClassDef) else [],
    }


def _bases(node: ast.ClassDef) -> list[str]:
    """The base classes as written, then keywords such as ``metaclass=ABCMeta``."""
    keywords = [f"{k.arg}={ast.unparse(k.value)}" for k in node.keywords if k.arg]
    return [*(ast.unparse(b) for b in node.bases), *keywords]


def _top_level_subjects(tree: ast.Module) -> list[dict[str, Any]]:
    """Functions, classes and their methods, except names the module deletes (``del Trans``)."""
    subjects: list[dict[str, Any]] = []
    deleted = {
        t.id for n in tree.body if isinstance(n, ast.Delete) for t in n.targets
        if isinstance(t, ast.Name)
    }  # fmt: skip
    for node in (n for n in tree.body if getattr(n, "name", None) not in deleted):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            subjects.append(_subject(node, node.name, "function"))
        elif isinstance(node, ast.ClassDef):
            subjects.append(_subject(node, node.name, "class"))
            subjects.extend(
                _subject(item, f"{node.name}.{item.name}", "method")
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return subjects


def _imports_and_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    imports: set[str] = set()
    names: set[str] = set()
    for child in ast.walk(tree):
        if isinstance(child, ast.Import):
            imports.update(alias.name for alias in child.names)
        elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
            imports.add(child.module)
            imports.update(f"{child.module}.{alias.name}" for alias in child.names)
        elif isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.Attribute):
            names.add(child.attr)
    return imports, names


def extract(tree: ast.Module) -> dict[str, Any]:
    """Subjects, imports and mentioned names of one parsed module, as plain JSON."""
    imports, names = _imports_and_names(tree)
    return {
        "subjects": _top_level_subjects(tree),
        "imports": sorted(imports),
        "names": sorted(names),
        "error": None,
    }


def _extract_files(ctx: RunContext, files: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for file in files:
        try:
            tree = ast.parse(ctx.sources.path(file).read_bytes(), filename=file)
        except (SyntaxError, ValueError) as e:
            out[file] = {
                "subjects": [],
                "imports": [],
                "names": [],
                "error": f"{type(e).__name__}: {e}",
            }
            continue
        out[file] = extract(tree)
    return out


@dataclass
class Inventory:
    """Everything the perspectives share about the target's code, with its indexes built once."""

    subjects: list[Subject]
    modules: dict[str, str]  # module -> file (code, not tests)
    imports: dict[str, list[str]]  # file -> imported dotted names
    test_names: set[str]  # every name and attribute mentioned in test files
    module_of: dict[str, str]  # every Python file -> its dotted name
    unparsable: dict[str, str] = field(default_factory=dict)  # file -> error

    @cached_property
    def by_id(self) -> dict[str, Subject]:
        return {s.id: s for s in self.subjects}

    @cached_property
    def by_name(self) -> dict[str, list[Subject]]:
        """The subjects by the last part of their qualname."""
        found: dict[str, list[Subject]] = {}
        for subject in self.subjects:
            found.setdefault(subject.qualname.split(".")[-1], []).append(subject)
        return found

    @cached_property
    def by_dotted(self) -> dict[str, Subject]:
        """``pkg.mod.Class.method`` -> that subject: what a resolved call names."""
        return {f"{s.module}.{s.qualname}": s for s in self.subjects}

    @cached_property
    def _fan_in(self) -> dict[str, int]:
        """module -> how many other files import it or a name from it (every dotted prefix)."""
        importers: dict[str, set[str]] = {}
        for file, imported in self.imports.items():
            own = self.module_of.get(file)
            for name in imported:
                parts = name.split(".")
                for end in range(1, len(parts) + 1):
                    if (prefix := ".".join(parts[:end])) != own:
                        importers.setdefault(prefix, set()).add(file)
        return {module: len(files) for module, files in importers.items()}

    def fan_in(self, module: str) -> int:
        return self._fan_in.get(module, 0)

    def base_classes(self, cls: Subject) -> list[Subject]:
        """The bases of ``cls`` that are the target's own classes: in its module, or imported
        into it by name (``from pkg.base import Base``); others (a library's) are left out."""
        found: list[Subject] = []
        imported = self.imports.get(cls.file, [])
        for base in cls.bases:
            first, _, rest = base.partition(".")
            names = [f"{cls.module}.{base}"]
            names += [f"{i}.{rest}" if rest else i for i in imported if i.endswith(f".{first}")]
            hit = next((self.by_dotted[n] for n in names if n in self.by_dotted), None)
            if hit is not None and hit.kind == "class":
                found.append(hit)
        return found

    def tested(self, subject: Subject) -> bool:
        """A test file names the subject (its function, method or class name)."""
        return (
            subject.qualname.split(".")[-1] in self.test_names or subject.owner in self.test_names
        )


def _subject_from_json(module: str, file: str, data: dict[str, Any]) -> Subject:
    fields = {k: v for k, v in data.items() if k not in ("params", "decorators", "bases")}
    return Subject(
        module=module,
        file=file,
        params=tuple(Param(**p) for p in data["params"]),
        decorators=tuple(data["decorators"]),
        bases=tuple(data["bases"]),
        **fields,
    )


def build_inventory(ctx: RunContext) -> Inventory:
    files = ctx.sources.python
    facts = cached_per_file(
        ctx.cache, TOOL, VERSION, ctx.sources, files, lambda miss: _extract_files(ctx, miss)
    )
    subjects: list[Subject] = []
    modules: dict[str, str] = {}
    test_names: set[str] = set()
    unparsable: dict[str, str] = {}
    module_of = {file: ctx.sources.module(file) for file in files}
    for file in files:
        fact = facts[file] or {"subjects": [], "imports": [], "names": [], "error": None}
        if fact["error"]:
            unparsable[file] = fact["error"]
        if is_test_file(file):
            test_names.update(fact["names"])
            continue
        module = module_of[file]
        if not importable(module):  # e.g. migrations/0011_x.py: no test can import it by name
            continue
        modules[module] = file
        subjects.extend(_subject_from_json(module, file, s) for s in fact["subjects"])
    imports = {f: facts[f]["imports"] for f in files if facts[f]}
    return Inventory(subjects, modules, imports, test_names, module_of, unparsable)
