"""Architectural Analysis: where the item's code sits: its module in the import graph (what it
imports, what imports it, a cycle), the callers of the definition it is in, and the tests that
refer to it. All read statically from the target's files (see :mod:`..context`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.workers.implementation import context
from autocoder.workers.implementation.stages import _chain
from autocoder.workers.implementation.wording import plural


class ArchitecturalAnalysis:
    id: ClassVar[str] = "architectural_analysis"
    name: ClassVar[str] = "Architectural Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        progress = _chain.in_progress(ctx, self.id)
        item = progress.item
        module = context.module_of(ctx.sources, item.file)
        definition = progress.facts["deep_understanding"].get("definition")
        qualname = definition["qualname"] if definition else None
        content: dict[str, Any] = {"module": module, "definition": qualname}
        if module is None:
            content["why_no_graph"] = f"{item.file} is not a Python module of the target"
        else:
            content["imports"] = asdict(context.import_place(ctx.sources, module, ctx.cache))
            if qualname:
                found = context.callers(ctx.sources, module, qualname, ctx.cache)
                tests = context.tests_referring(ctx.sources, module, qualname, ctx.cache)
                content["callers"] = [asdict(r) for r in found[: context.MAX_LISTED]]
                content["callers_total"] = len(found)
                content["tests"] = [asdict(r) for r in tests[: context.MAX_LISTED]]
                content["tests_total"] = len(tests)
                content["test_files"] = sorted({r.file for r in tests})
        return progress.result(self.id, _conclusion(item.file, content), content, ctx=ctx)


def _conclusion(file: str, content: dict[str, Any]) -> str:
    module = content["module"]
    if module is None:
        return str(content["why_no_graph"])
    place = content["imports"]
    parts = [
        f"{module} imports {plural(place['imports_total'], 'first-party module')} and is "
        f"imported by {plural(place['imported_by_total'], 'module')}"
        + (" (in an import cycle)" if place.get("in_cycle") else "")
    ]
    if content["definition"]:
        parts.append(
            f"{content['definition']} has {plural(content['callers_total'], 'caller')} and is "
            f"referred to in {plural(len(content['test_files']), 'test file')}"
        )
    else:
        parts.append(f"the line is at module level in {file}")
    return "; ".join(parts)
