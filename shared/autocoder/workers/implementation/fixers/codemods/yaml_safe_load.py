"""bandit B506 / AC-WEB-DESERIALIZE: ``yaml.load`` with no Loader or an unsafe one builds
arbitrary Python objects from a ``!!python/...`` tag; ``yaml.safe_load`` builds only plain data.

``yaml.load(x)``, ``yaml.load(x, Loader=yaml.Loader | UnsafeLoader | FullLoader)``,
``yaml.unsafe_load(x)`` and ``yaml.full_load(x)`` become ``yaml.safe_load(x)`` (``*_all`` the
same). A Loader of the code's own (it may add constructors) is refused.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import QualifiedNameProvider

from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._common import (
    LineCallCodemod,
    Offer,
    Refused,
    has_star_args,
    offer,
    without_arg,
)
from autocoder.workers.implementation.workitem import WorkItem

SAFE = {
    "yaml.load": "safe_load", "yaml.unsafe_load": "safe_load", "yaml.full_load": "safe_load",
    "yaml.load_all": "safe_load_all", "yaml.unsafe_load_all": "safe_load_all",
    "yaml.full_load_all": "safe_load_all",
}  # fmt: skip
UNSAFE_LOADERS = frozenset({"yaml.Loader", "yaml.UnsafeLoader", "yaml.FullLoader"})


class SafeLoad(LineCallCodemod):
    NAMES = frozenset(SAFE)

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if has_star_args(updated):
            raise Refused(f"{name}() takes *args/**kwargs")
        if self._unsafe_loader(name, original) is not None:
            RemoveImportsVisitor.remove_unused_import_by_node(self.context, original.args[1].value)
            updated = without_arg(updated, updated.args[1])
        safe = SAFE[name]
        self.note = f"{name}(...) -> yaml.{safe}(...)"
        return updated.with_changes(func=self._safe_func(original.func, safe))

    def _unsafe_loader(self, name: str, call: cst.Call) -> cst.Arg | None:
        """The Loader argument, when there is one and it is a known unsafe one."""
        if not call.args or call.args[0].keyword is not None:
            raise Refused(f"{name}() without its stream as the first positional argument")
        extra = call.args[1:]
        if not extra:
            return None
        loader = extra[0]
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, loader.value, set())}
        keyword = loader.keyword.value if loader.keyword else "Loader"
        if len(extra) > 1 or keyword != "Loader":
            raise Refused(f"{name}() takes arguments besides the stream and the Loader")
        if not names & UNSAFE_LOADERS:
            what = ", ".join(sorted(names)) or "a Loader defined or chosen elsewhere"
            raise Refused(f"{name}() uses {what}: not a loader known to be unsafe")
        return loader

    def _safe_func(self, func: cst.BaseExpression, safe: str) -> cst.BaseExpression:
        if isinstance(func, cst.Attribute):
            return func.with_changes(attr=cst.Name(safe))
        AddImportsVisitor.add_needed_import(self.context, "yaml", safe)
        RemoveImportsVisitor.remove_unused_import_by_node(self.context, func)
        return cst.Name(safe)


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    how = Offer(
        fixer="libcst:yaml-safe-load",
        safe=False,
        title=lambda note: f"load YAML safely: {note}",
        rationale=lambda note: (
            f"{note}: an unsafe loader turns a '!!python/object' tag in the input into a call "
            "of any Python callable (CWE-502). safe_load builds only dicts, lists, strings, "
            "numbers and dates: a document that relied on Python tags now raises "
            "yaml.constructor.ConstructorError."
        ),
    )
    return [offer(item, root, SafeLoad, how)]
