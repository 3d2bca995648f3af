"""Every function's facts (:mod:`._facts`, found by :mod:`._scan`), cached per file content, and
which of the target's functions a call reaches. Shared by Integration Points, Mocking Strategy,
Failure Mode Analysis and Edge Case Discovery.
"""

from __future__ import annotations

from typing import Any

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.inventory import Inventory, Subject
from autocoder.workers.test_planning.perspectives._facts import Boundary, Facts, facts_from_json
from autocoder.workers.test_planning.perspectives._scan import scan_module

TOOL = "autocoder-tp-boundaries"
VERSION = f"{__version__}-2"


def _scan_files(ctx: RunContext, files: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for file in files:
        tree = ctx.sources.parse(file)  # None when it does not parse: never raises
        out[file] = scan_module(tree) if tree is not None else {}
    return out


def function_facts(ctx: RunContext, inventory: Inventory) -> dict[str, Facts]:
    """Subject id (``module:qualname``) -> its facts, for every function and method."""
    files = [f for f in ctx.sources.python if not is_test_file(f)]
    found = cached_per_file(
        ctx.cache,
        TOOL,
        VERSION,
        ctx.sources,
        files,
        lambda miss: _scan_files(ctx, miss),
        default={},
    )
    return {
        f"{ctx.sources.module(file)}:{qualname}": facts_from_json(data)
        for file in files
        for qualname, data in (found[file] or {}).items()
        if f"{ctx.sources.module(file)}:{qualname}" in inventory.by_id
    }


def boundaries(ctx: RunContext, inventory: Inventory) -> dict[str, list[Boundary]]:
    """Subject id -> its calls to the outside world (every kind, parsers included)."""
    return {sid: f.boundaries for sid, f in function_facts(ctx, inventory).items() if f.boundaries}


def resolved_call(subject_id: str, target: str) -> tuple[str, ...]:
    """What a call may name, as dotted names: ``f`` in the caller's module, ``self.m`` on the
    caller's class, ``pkg.mod.f`` as resolved through the imports, and ``Class.m`` (through a
    parameter's annotation) either in the caller's module or absolute."""
    module, _, qualname = subject_id.partition(":")
    if target.startswith("self."):
        return (f"{module}.{qualname.split('.')[0]}.{target[5:]}",)
    return (target, f"{module}.{target}") if "." in target else (f"{module}.{target}",)


def callees(inventory: Inventory, subject_id: str, facts: Facts) -> list[Subject]:
    """The target's functions ``subject_id`` calls, each found through what the call resolves to
    (calling a class calls its ``__init__``); calls on other objects are not guessed."""
    found: dict[str, Subject] = {}
    for target in filter(None, facts.targets):
        names = resolved_call(subject_id, target)
        callee = next((inventory.by_dotted[n] for n in names if n in inventory.by_dotted), None)
        if callee is not None and callee.kind == "class":
            callee = inventory.by_id.get(f"{callee.id}.__init__")
        if callee is not None and callee.id != subject_id:
            found[callee.id] = callee
    return list(found.values())
