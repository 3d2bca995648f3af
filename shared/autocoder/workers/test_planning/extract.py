"""The syntax half of the inventory: one module's functions, classes and methods with their
signatures, complexity and bases, its imports and the names it mentions, as plain JSON for the
per-file cache (see :mod:`.inventory`).
"""

from __future__ import annotations

import ast
from typing import Any

from autocoder.engine.sources import SourceFiles


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


def extract_files(sources: SourceFiles, files: list[str]) -> dict[str, Any]:
    """Repo-relative file -> :func:`extract` of it (an ``error`` for a file that does not parse,
    or that is too much for the extraction: it is skipped, the others go on)."""
    out: dict[str, Any] = {}
    for file in files:
        tree = sources.parse(file)
        try:
            out[file] = extract(tree) if tree is not None else None
        except (RecursionError, MemoryError, ValueError) as e:
            sources.unparsed[file] = f"{type(e).__name__}: {e}"
            out[file] = None
        if out[file] is None:
            out[file] = {
                "subjects": [],
                "imports": [],
                "names": [],
                "error": sources.unparsed[file],
            }
    return out
