"""Testing Strategy: the tests that will check the change, and how the Implementation Plan
verifies it. For a fix: the target's tests that refer to the code (run only with
``AUTOCODER_RUN_TARGET_TESTS=1``) and, when the test planning worker has a spec for the same
subject, that spec's test, added with the fix and run before and after it. For a spec: the spec's
own test is the change."""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.workers.implementation import items
from autocoder.workers.implementation.stages import _chain
from autocoder.workers.implementation.verify import STATIC_STEPS
from autocoder.workers.implementation.wording import plural
from autocoder.workers.implementation.workitem import WorkItem


class TestingStrategy:
    __test__ = False  # not a pytest class
    id: ClassVar[str] = "testing_strategy"
    name: ClassVar[str] = "Testing Strategy"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        progress = _chain.in_progress(ctx, self.id)
        item = progress.item
        where = progress.facts["architectural_analysis"]
        spec = _spec_for(ctx, item, where)
        tests_run = ctx.options.run_target_tests
        content: dict[str, Any] = {
            "existing_tests": where.get("test_files", []),
            "new_test": spec,
            "steps": [*STATIC_STEPS, *(["tests", "before/after"] if tests_run else [])],
            "tests_allowed": tests_run,
        }
        return progress.result(self.id, _conclusion(item, content), content, ctx=ctx)


def _spec_for(ctx: RunContext, item: WorkItem, where: dict[str, Any]) -> dict[str, Any] | None:
    if item.kind == "spec":
        return {"spec_id": item.spec_ids[0], "subject": item.subject, "role": "the change itself"}
    if not where.get("module") or not where.get("definition"):
        return None
    subject = f"{where['module']}:{where['definition']}"
    found = items.specs_for(ctx, subject)
    if not found:
        return None
    best = found[0]
    return {"spec_id": best.id, "subject": subject, "kind": best.kind, "priority": best.priority,
            "role": "added with the fix, run before and after it"}  # fmt: skip


def _conclusion(item: WorkItem, content: dict[str, Any]) -> str:
    existing, spec = content["existing_tests"], content["new_test"]
    refer = "refers" if len(existing) == 1 else "refer"
    parts = [f"{plural(len(existing), 'existing test file')} {refer} to the code"]
    if spec is not None and item.kind != "spec":
        parts.append(f"spec {spec['spec_id']} ({spec['kind']}) tests {spec['subject']}")
    elif item.kind != "spec":
        parts.append("no test planning spec has this subject")
    if content["tests_allowed"]:
        parts.append("the tests run before and after the change")
    else:
        parts.append("static checks only: AUTOCODER_RUN_TARGET_TESTS is off, the tests do not run")
    return "; ".join(parts)
