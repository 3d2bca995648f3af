"""Deep Understanding: take the most valuable item not taken at this commit, and show its
evidence: the finding as the peer reported it, the code around it and the definition holding it.

Items come from :mod:`..items`; an item is taken only when a fixer offers at least one candidate
for it. Items are asked in rank order for up to :data:`ASK_BUDGET_S` seconds an iteration (each
ask may run a tool); the ones with none are remembered as unfixable at this commit and not asked
again, so the next iteration goes on where this one stopped.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import LLMError, PerspectiveSkipped
from autocoder.workers.implementation import context, fixers, items, taskboard
from autocoder.workers.implementation.fixers.test_files import test_in_tree
from autocoder.workers.implementation.ledger import Ledger
from autocoder.workers.implementation.stages import _chain
from autocoder.workers.implementation.wording import plural
from autocoder.workers.implementation.workitem import WorkItem, item_id

ASK_BUDGET_S = 20.0  # asking items for fixes stops after this long; the rest wait their turn
SHOWN_REASONS = 3  # reasons quoted when no item could be taken


class DeepUnderstanding:
    id: ClassVar[str] = "deep_understanding"
    name: ClassVar[str] = "Deep Understanding"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        pool = items.collect(ctx, test_in_tree)
        tasks = taskboard.task_round(ctx, pool.items, model_available=ctx.ask_model is not None)
        ledger = Ledger.from_state(ctx.previous_state)
        retired = ledger.retire_gone({item.id for item in pool.items}, ctx.commit)
        item, fixes = self._take_task(ctx, tasks)
        passed_over: dict[str, str] = {}
        if item is None:
            item, fixes, passed_over = self._take(ctx, pool.items, ledger)
        if item is None:
            why = (
                _none_taken(pool.items, ledger, passed_over, ctx.commit) if pool.items
                else f"no work items at this commit: {pool.why_empty()}"
            )  # fmt: skip
            if tasks.rejected:
                why += f"; {'; '.join(tasks.rejected)}"
            if not tasks.rows:
                raise PerspectiveSkipped(why, ledger.to_state())
            return _tasks_only(tasks, why, ledger)
        content = understanding(ctx, item)
        content["fixes_offered"] = fixes
        content["pool"] = {"items": len(pool.items), "sources": pool.read,
                           "retired": retired, "passed_over": passed_over}  # fmt: skip
        try:
            result = _chain.started(item, ctx.commit).result(
                self.id, _conclusion(item, content), content, ctx=ctx
            )
        except LLMError as e:  # the model failed: the tasks' changes are written all the same
            if not tasks.rows and not item.task_id:
                raise
            if item.task_id:  # not the task's fault: it waits for the model
                tasks.set(item.task_id, "pending", error_detail=f"waiting for the model: {e}")
            return _tasks_only(tasks, f"the model could not conclude on {item.id}: {e}", ledger)
        if item.task_id:
            tasks.set(item.task_id, "running")
        for answered in _answered(item):
            ledger.taken[answered] = ctx.commit
        result.details["content"]["tasks"] = tasks.summary()
        result.state = ledger.to_state()
        result.metrics = {"items_in_pool": len(pool.items), "items_retired": len(retired),
                          "items_without_fix": len(passed_over)}  # fmt: skip
        result.items = list(tasks.rows.values())
        return result

    def _take_task(
        self, ctx: RunContext, tasks: taskboard.TaskRound
    ) -> tuple[WorkItem | None, list[str]]:
        """The first pending task an item serves and a fixer has something for; the others
        asked on the way fail with the fixer's reason, or stay pending, saying why, when the
        model could not answer (the next round asks again)."""
        for item in tasks.items:
            try:
                offered, why = fixers.fixes_for(item, ctx.root, ctx.options, ctx)
            except LLMError as e:  # a 429, a timeout, a spent budget: not the task's fault
                tasks.set(item.task_id, "pending", error_detail=f"waiting for the model: {e}")
                continue
            if offered:
                return item, [f"{fix.fixer}: {fix.title}" for fix in offered]
            tasks.set(item.task_id, "failed", error_detail=f"no fix could be made: {why}")
        return None, []

    def _take(
        self, ctx: RunContext, ranked: list[WorkItem], ledger: Ledger
    ) -> tuple[WorkItem | None, list[str], dict[str, str]]:
        """The best item a fixer has something for, its fixes' titles, and the items passed over
        on the way with why."""
        passed_over: dict[str, str] = {}
        deadline = time.monotonic() + ASK_BUDGET_S
        for item in [i for i in ranked if not ledger.done_at(i.id, ctx.commit)]:
            if passed_over and time.monotonic() > deadline:
                break
            offered, why = fixers.fixes_for(item, ctx.root, ctx.options, ctx)
            if offered:
                return item, [f"{fix.fixer}: {fix.title}" for fix in offered], passed_over
            ledger.unfixable[item.id] = ctx.commit
            passed_over[item.id] = why
        return None, [], passed_over


def _answered(item: WorkItem) -> list[str]:
    """The pool items taking ``item`` answers: itself, or for a task served by a finding, that
    finding's item (so it is not patched a second time at this commit)."""
    if not item.task_id:
        return [item.id]
    return [item_id(item.kind, fingerprint) for fingerprint in item.fingerprints]


def _tasks_only(tasks: taskboard.TaskRound, why: str, ledger: Ledger) -> PerspectiveResult:
    """No item taken, but tasks changed (new, failed): an ok record that writes them and says
    why nothing was taken; it hands on nothing, so the other stages say so."""
    summary = tasks.summary()
    return PerspectiveResult(
        summary=f"Deep Understanding took no item: {why}",
        details={"conclusion": f"took no item: {why}", "content": {"tasks": summary}},
        metrics={"tasks_failed": len(summary["failed"]), "tasks_rejected": len(tasks.rejected)},
        state=ledger.to_state(),
        items=list(tasks.rows.values()),
    )


def _none_taken(
    ranked: list[WorkItem], ledger: Ledger, passed_over: dict[str, str], commit: str | None
) -> str:
    """Why no item was taken: all done, or how many were asked, why not, and how many remain."""
    total = len(ranked)
    if not passed_over:
        return f"all {plural(total, 'item')} at this commit were taken already"
    waiting = sum(1 for i in ranked if not ledger.done_at(i.id, commit))
    reasons = "; ".join(list(passed_over.values())[:SHOWN_REASONS])
    more = len(passed_over) - SHOWN_REASONS
    said = f"{reasons}{f'; and {more} more' if more > 0 else ''}"
    left = (
        f"{waiting} not asked yet are asked next iteration"
        if waiting
        else "every item at this commit has now been asked"
    )
    return (
        f"{plural(len(passed_over), 'item')} of {total} asked, none with a fix a fixer can "
        f"make ({said}); {left}"
    )


def understanding(ctx: RunContext, item: WorkItem) -> dict[str, Any]:
    """The evidence: the finding or spec, the code at its line and the definition around it."""
    where = context.enclosing(ctx.sources, item.file, item.line)
    return {
        "evidence": {"tool": item.tool, "rule": item.rule, "severity": item.severity,
                     "file": item.file, "line": item.line, "message": item.message,
                     "source": item.source, "fingerprints": item.fingerprints,
                     "spec_ids": item.spec_ids, "subject": item.subject},
        "code": context.snippet(ctx.sources, item.file, item.line),
        "definition": asdict(where) if where is not None else None,
    }  # fmt: skip


def _conclusion(item: WorkItem, content: dict[str, Any]) -> str:
    where = content["definition"]
    inside = f" in {where['kind']} {where['qualname']}" if where else ""
    what = (
        f"spec {item.spec_ids[0]} for {item.subject}"
        if item.kind == "spec"
        else (f"{item.tool} {item.rule} ({item.severity})")
    )
    return (
        f"{what} at {item.file}:{item.line}{inside}, from {item.source}: {item.message}; "
        f"{plural(len(content['fixes_offered']), 'candidate fix')} offered"
    )
