"""Approach Evaluation: every candidate fix the fixers offer, made for real on a scratch copy and
compared: does it change the flagged line, how many lines, is it safe by construction. The
choice: a safe fix before an unsafe one, then the smallest change, then the fixers' order."""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import AutocoderError, FixerError
from autocoder.workers.implementation import fixers, patching
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.scratchdir import scratch_dir
from autocoder.workers.implementation.stages import _chain
from autocoder.workers.implementation.wording import plural
from autocoder.workers.implementation.workitem import WorkItem


class ApproachEvaluation:
    id: ClassVar[str] = "approach_evaluation"
    name: ClassVar[str] = "Approach Evaluation"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        progress = _chain.in_progress(ctx, self.id)
        offered, why = fixers.fixes_for(progress.item, ctx.root, ctx.options, ctx)
        if not offered:
            raise FixerError(f"no candidate fix for {progress.item.id} any more: {why}")
        tried = [_tried(ctx, progress.item, fix, n) for n, fix in enumerate(offered)]
        made = [t for t in tried if t["made"]]
        if not made:
            failures = "; ".join(f"{t['fixer']}: {t['error']}" for t in tried)
            raise FixerError(f"every candidate fix for {progress.item.id} failed: {failures}")
        chosen = min(made, key=lambda t: (not t["safe"], t["changed_lines"], t["order"]))
        content: dict[str, Any] = {"candidates": tried, "chosen": chosen["key"],
                                   "why": _why(chosen, made)}  # fmt: skip
        conclusion = (
            f"{plural(len(tried), 'candidate')} tried, {len(made)} made a change; chose "
            f"{chosen['fixer']} ({chosen['title']}): {content['why']}"
        )
        return progress.result(self.id, conclusion, content, ctx=ctx)


def key_of(fix: Fix) -> str:
    """How a later stage finds the same candidate again: fixers offer the same ones each time."""
    return f"{fix.fixer}: {fix.title}"


def _tried(ctx: RunContext, item: WorkItem, fix: Fix, order: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": key_of(fix), "fixer": fix.fixer, "title": fix.title,
                             "safe": fix.safe, "rationale": fix.rationale,
                             "order": order}  # fmt: skip
    try:
        patch = patching.make_patch(ctx.root, ctx.commit, item, fix, ctx.options, scratch_dir(ctx))
    except AutocoderError as e:
        return {**entry, "made": False, "error": str(e), "changed_lines": 0, "files": []}
    return {**entry, "made": True, "error": "", "changed_lines": changed_lines(patch.diff),
            "files": list(patch.files), "diff": patch.diff}  # fmt: skip


def changed_lines(diff: str) -> int:
    """Lines a reviewer reads as changed: the larger of the lines added and the lines removed
    (a line rewritten in place is one changed line, not two)."""
    body = [line for line in diff.splitlines() if not line.startswith(("+++", "---"))]
    return max(sum(line[:1] == "+" for line in body), sum(line[:1] == "-" for line in body))


def _why(chosen: dict[str, Any], made: list[dict[str, Any]]) -> str:
    if len(made) == 1:
        return "the only candidate that made a change"
    reasons = []
    if chosen["safe"] and any(not t["safe"] for t in made):
        reasons.append("safe, where another is not")
    smaller = [t for t in made if t is not chosen and t["changed_lines"] > chosen["changed_lines"]]
    if smaller:
        reasons.append(f"the smallest change ({plural(chosen['changed_lines'], 'line')})")
    return " and ".join(reasons) or "the fixers' first choice among equals"
