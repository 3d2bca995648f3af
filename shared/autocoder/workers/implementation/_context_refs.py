"""Where a definition is named: every spelling of it across the target's imports, and the places
that use one of them.

Static resolution follows imports (``from m import f``, ``import m``, ``import m as x``,
``from pkg import m``, aliases, relative imports) and re-exports (``from .m import f`` in a
package's ``__init__``, transitively), and method calls on ``self``/``cls`` inside the
method's own class. It stops at what only running code knows: calls through an instance whose
type is not spelled (``obj.method()``), subclasses calling an inherited method, ``getattr`` and
strings (``importlib``, entry points, ``__all__`` lists), assignments that rename
(``say = echo``) and star imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from autocoder.engine.names import dotted_name
from autocoder.workers.implementation._context_index import ModuleFacts, ProjectIndex
from autocoder.workers.implementation._context_model import Reference, ReferenceHow

MAX_SPELLINGS = 200  # names one definition may be imported by
MAX_ROUNDS = 5  # re-exports of re-exports followed


def spellings(index: ProjectIndex, module: str, qualname: str) -> dict[str, str]:
    """Every absolute dotted name that means ``module:qualname`` -> the module that binds it:
    the definition's own (``click.utils.echo``) and each module-level import of it outside the
    tests (``click.echo`` from ``click/__init__.py``; ``django.template.defaultfilters.escape``,
    which Django's tests import). Only a package's ``__init__`` is followed further (its
    re-exports re-exported): chains through plain modules are paths no code spells."""
    key = (module, qualname)
    if key not in index.spelled:
        index.spelled[key] = _spellings(index, f"{module}.{qualname}", module)
    return index.spelled[key]


def _spellings(index: ProjectIndex, own: str, module: str) -> dict[str, str]:
    names = {own: module}
    todo = [own]
    for _ in range(MAX_ROUNDS):
        new: dict[str, tuple[str, bool]] = {}
        for name in todo:
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                rest = "".join(f".{p}" for p in parts[end:])
                for by, local, package in index.exporters.get(".".join(parts[:end]), []):
                    if (spelled := f"{by}.{local}{rest}") not in names:
                        new.setdefault(spelled, (by, package))
        ranked = sorted(new.items(), key=lambda item: (not item[1][1], item[0]))  # packages first
        kept = ranked[: MAX_SPELLINGS - len(names)]
        names.update((name, by) for name, (by, _) in kept)
        todo = [name for name, (_, package) in kept if package]
        if not todo:
            break
    return names


def _may_name(facts: ModuleFacts, target: _Target) -> bool:
    """Whether a file can name the target at all: it is the target's module, or it binds a
    name to one of its spellings or to a module on the way to one."""
    if facts.module == target.module:
        return True
    return any(bound in target.prefixes for bound in facts.bindings.values())


@dataclass(frozen=True)
class _Target:
    module: str
    qualname: str
    names: frozenset[str]

    @cached_property
    def prefixes(self) -> frozenset[str]:
        """Every spelling and every dotted prefix of one (``a``, ``a.b``, ``a.b.f``)."""
        return frozenset(
            ".".join(parts[:end]) for parts in (n.split(".") for n in self.names)
            for end in range(1, len(parts) + 1)
        )  # fmt: skip

    @property
    def method(self) -> tuple[str, str] | None:
        """(class qualname, method name) when the target is a definition inside a class."""
        owner, _, name = self.qualname.rpartition(".")
        return (owner, name) if owner and not owner.endswith("<locals>") else None


def references(
    index: ProjectIndex, module: str, qualname: str, files: list[ModuleFacts]
) -> list[Reference]:
    """The places in ``files`` that name ``module:qualname``, sorted by file and line."""
    target = _Target(module, qualname, frozenset(spellings(index, module, qualname)))
    found: list[Reference] = []
    for facts in files:
        tree = index.tree(facts.file) if _may_name(facts, target) else None
        if tree is not None:
            found += _Walk(facts, target, tree).run()
    return sorted(found, key=lambda r: (r.file, r.line, r.column))


class _Walk:
    """One file's references to the target, each with the definition it is in."""

    def __init__(self, facts: ModuleFacts, target: _Target, tree: ast.Module) -> None:
        self.facts, self.target, self.tree = facts, target, tree
        self.found: list[Reference] = []
        self.called: set[int] = set()
        self.local_names: dict[str, set[str]] = {}  # function qualname -> names it binds
        self.receivers: dict[str, str] = {}  # method qualname -> its first parameter ("self")

    def run(self) -> list[Reference]:
        self.called = {id(n.func) for n in ast.walk(self.tree) if isinstance(n, ast.Call)}
        walk = list(scoped(self.tree))
        for node, scope, in_function in walk:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child_qualname(scope, in_function, node.name)
                self.local_names.setdefault(name, set()).update(local_names(node))
                positional = [*node.args.posonlyargs, *node.args.args]
                if scope != "<module>" and not in_function and positional:
                    self.receivers[name] = positional[0].arg
        for node, scope, in_function in walk:
            self._visit(node, scope, in_function)
        return self.found

    def _visit(self, node: ast.AST, scope: str, in_function: bool) -> None:
        if isinstance(node, ast.Attribute) and self._self_method(node, scope):
            self._add(node, scope, "self-call")
        elif isinstance(node, ast.Name | ast.Attribute) and (
            self._resolve(node, scope, in_function) in self.target.names
        ):
            self._add(node, scope, "call" if id(node) in self.called else "reference")

    def _resolve(self, node: ast.Name | ast.Attribute, scope: str, in_function: bool) -> str | None:
        spelled = dotted_name(node)
        if spelled is None:
            return None
        head, _, rest = spelled.partition(".")
        if self._shadowed(head, scope, in_function):
            return None
        bound = self.facts.bindings.get(head)
        return None if bound is None else f"{bound}.{rest}" if rest else bound

    def _shadowed(self, name: str, scope: str, in_function: bool) -> bool:
        """Whether a function around the place binds ``name`` itself (a parameter, an
        assignment): then the name is not the module-level import."""
        parts = scope.split(".<locals>.")
        functions = [".<locals>.".join(parts[:i]) for i in range(1, len(parts))]
        functions += [scope] if in_function else []
        return any(name in self.local_names.get(f, ()) for f in functions)

    def _self_method(self, node: ast.Attribute, scope: str) -> bool:
        """``self.name`` (the method's first parameter, whatever it is called) in a method of
        the target's own class, or in a function nested in one."""
        method = self.target.method
        if method is None or self.facts.module != self.target.module:
            return False
        owner, name = method
        around = scope.split(".<locals>.", maxsplit=1)[0]
        receiver = self.receivers.get(around)
        return (
            node.attr == name
            and receiver is not None
            and isinstance(node.value, ast.Name)
            and node.value.id == receiver
            and around.rpartition(".")[0] == owner
        )

    def _add(self, node: ast.Name | ast.Attribute, scope: str, how: ReferenceHow) -> None:
        self.found.append(Reference(self.facts.file, node.lineno, scope, how, node.col_offset + 1))


def local_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The names a function binds itself: its parameters, what it assigns, the definitions in
    it; not those it declares global or nonlocal, nor those its own imports bind (they resolve
    as imports)."""
    args = function.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    bound = {a.arg for a in params if a is not None}
    imported: set[str] = set()
    declared: set[str] = set()
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
            stack += node.decorator_list
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            imported |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.Global | ast.Nonlocal):
            declared |= set(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        stack += ast.iter_child_nodes(node)
    return bound - imported - declared


def scoped(tree: ast.Module) -> Iterator[tuple[ast.AST, str, bool]]:
    """Each node with the qualname of the innermost definition holding it (``<module>`` at the
    top) and whether that definition is a function. A definition's decorators, defaults,
    annotations and bases belong to the scope around it: Python evaluates them there."""
    stack: list[tuple[ast.AST, str, bool]] = [(tree, "<module>", False)]
    while stack:
        node, scope, in_function = stack.pop()
        yield node, scope, in_function
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            inner = child_qualname(scope, in_function, node.name)
            stack += [(n, scope, in_function) for n in _outside_parts(node)]
            stack += [(n, inner, not isinstance(node, ast.ClassDef)) for n in node.body]
        else:
            stack += [(child, scope, in_function) for child in ast.iter_child_nodes(node)]


def _outside_parts(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[ast.AST]:
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    return [*node.decorator_list, node.args, *([node.returns] if node.returns else [])]


def child_qualname(scope: str, in_function: bool, name: str) -> str:
    """``f`` at the top, ``Cls.f`` in a class, ``outer.<locals>.f`` in a function, as Python
    spells ``__qualname__``."""
    if scope == "<module>":
        return name
    return f"{scope}.<locals>.{name}" if in_function else f"{scope}.{name}"
