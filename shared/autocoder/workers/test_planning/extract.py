"""The syntax half of the inventory: one module's functions, classes and methods with their
signatures, complexity and bases, a data class's fields, its imports, the names it mentions and
how it constructs classes with literal arguments (code and doctests), as plain JSON for the
per-file cache (see :mod:`.inventory`).
"""

from __future__ import annotations

import ast
from typing import Any

from autocoder.engine.sources import SourceFiles
from autocoder.workers.test_planning.examples_scan import constructions, doctest_source


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


FIELD_DECORATORS = {"dataclass", "define", "frozen", "mutable", "attrs", "s", "dataclass_transform"}
FIELD_BASES = {"NamedTuple", "BaseModel", "BaseSettings"}  # classes whose annotations are fields


def _field_class(node: ast.ClassDef) -> bool:
    """A dataclass, an attrs class, a NamedTuple or a pydantic model: its ``__init__`` is made
    from the annotated (or ``attr.ib()``) class attributes."""
    decorators = {ast.unparse(d).split("(")[0].split(".")[-1] for d in node.decorator_list}
    bases = {ast.unparse(b).split("[")[0].split(".")[-1] for b in node.bases}
    return bool(decorators & FIELD_DECORATORS or bases & FIELD_BASES)


def _field_default(value: ast.expr | None) -> str | None:
    """The default of a field as source text: ``field(default=1)`` -> ``1``, a factory ->
    ``factory()``, ``attr.ib()`` with neither -> None (required)."""
    if value is None:
        return None
    if isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1] in (
        "field", "ib", "attrib", "Field",
    ):  # fmt: skip
        for keyword in value.keywords:
            if keyword.arg == "default":
                return ast.unparse(keyword.value)
            if keyword.arg in ("default_factory", "factory"):
                return f"{ast.unparse(keyword.value)}()"
        return None
    return ast.unparse(value)


def _fields(node: ast.ClassDef) -> list[dict[str, Any]]:
    """The constructor parameters of a field class, in order (``ClassVar`` and ``init=False``
    fields left out; empty for other classes)."""
    if not _field_class(node):
        return []
    out: list[dict[str, Any]] = []
    style = _field_style(node)
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            name, annotation, value = item.target.id, _unparse(item.annotation), item.value
        elif (
            isinstance(item, ast.Assign) and len(item.targets) == 1
            and isinstance(item.targets[0], ast.Name) and isinstance(item.value, ast.Call)
            and ast.unparse(item.value.func).split(".")[-1] in ("ib", "attrib")
        ):  # fmt: skip
            name, annotation, value = item.targets[0].id, None, item.value
        else:
            continue
        no_init = isinstance(value, ast.Call) and any(
            k.arg == "init" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in value.keywords
        )
        if "ClassVar" in (annotation or "") or no_init:
            continue
        out.append({"name": name.lstrip("_") if style == "attrs" else name,
                    "annotation": annotation, "default": _field_default(value),
                    "kind": "keyword" if style == "pydantic" else "positional"})  # fmt: skip
    return out


ATTRS_DECORATORS = {"define", "frozen", "mutable", "attrs", "s"}


def _field_style(node: ast.ClassDef) -> str:
    """attrs (a private ``_x`` is the parameter ``x``), pydantic (keywords only), or plain."""
    decorators = {ast.unparse(d).split("(")[0].split(".")[-1] for d in node.decorator_list}
    bases = {ast.unparse(b).split("[")[0].split(".")[-1] for b in node.bases}
    if decorators & ATTRS_DECORATORS:
        return "attrs"
    return "pydantic" if bases & {"BaseModel", "BaseSettings"} else "plain"


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
        "fields": _fields(node) if isinstance(node, ast.ClassDef) else [],
        "not_implemented": _not_implemented(node),
        "self_calls": _self_calls(node) if qualname.endswith(".__init__") else [],
    }


def _self_calls(node: ast.AST) -> list[str]:
    """The ``self.name(...)`` methods an ``__init__`` calls: an abstract one among them means
    no instance can be built, not only that one method fails."""
    return sorted({
        n.func.attr for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"
    })  # fmt: skip


def _not_implemented(node: ast.AST) -> bool:
    """A function whose body (after its docstring) only raises ``NotImplementedError``: an
    abstract method in all but name (click's ``Parameter._parse_decls``)."""
    if isinstance(node, ast.ClassDef):
        return False
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    raised = body[0].exc if len(body) == 1 and isinstance(body[0], ast.Raise) else None
    raised = raised.func if isinstance(raised, ast.Call) else raised
    return raised is not None and ast.unparse(raised) == "NotImplementedError"


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
    """Subjects, imports, mentioned names and literal constructions (in the code and in its
    doctests) of one parsed module, as plain JSON."""
    imports, names = _imports_and_names(tree)
    return {
        "subjects": _top_level_subjects(tree),
        "imports": sorted(imports),
        "names": sorted(names),
        "constructions": constructions(tree),
        "doctest_constructions": constructions(ast.parse(doctest_source(tree))),
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
                "constructions": {},
                "doctest_constructions": {},
                "error": sources.unparsed[file],
            }
    return out
