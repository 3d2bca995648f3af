"""How one item moves through the stages: what a stage reads from the one before it, what it
hands on, and what it writes in its record.

The handoff (see :mod:`autocoder.engine.handoff`) holds the item, the commit it was taken at,
every earlier stage's one-line conclusion and the facts later stages build on (keyed by stage
id). A stage runs only when its own predecessor handed on: after a failed or skipped stage the
rest of the chain says so in a skipped record and Deep Understanding takes the next item. A stage
that finds the target at another commit than the item's fails: the code it would change is not
the code the earlier stages read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import PerspectiveSkipped, TargetError
from autocoder.schema import TaskRow, TaskStatus
from autocoder.store.tasklog import latest_tasks
from autocoder.workers.implementation import modelled
from autocoder.workers.implementation.stages import STAGES
from autocoder.workers.implementation.taskboard import changed
from autocoder.workers.implementation.workitem import WorkItem

NAMES = dict(STAGES)
ORDER = [stage_id for stage_id, _ in STAGES]


@dataclass
class InProgress:
    """An item between stages: what the earlier stages concluded and found."""

    item: WorkItem
    base_commit: str | None
    conclusions: list[dict[str, str]] = field(default_factory=list)  # {"stage", "conclusion"}
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage id -> its facts
    task: TaskRow | None = None  # the task the item serves, as it stands

    def task_rows(self, status: TaskStatus = "running", **update: Any) -> list[TaskRow]:
        """The task's row for this stage's iteration (none without a task): its state, and the
        record it is in (added when the row is written)."""
        return [changed(self.task, status, **update)] if self.task is not None else []

    def handoff(self, stage_id: str, conclusion: str, facts: dict[str, Any]) -> dict[str, Any]:
        """What the next stage reads: this item with this stage's conclusion and facts added."""
        return {
            "item": self.item.model_dump(mode="json"),
            "base_commit": self.base_commit,
            "conclusions": [*self.conclusions, {"stage": NAMES[stage_id],
                                                "conclusion": conclusion}],
            "facts": {**self.facts, stage_id: facts},
        }  # fmt: skip

    def result(
        self,
        stage_id: str,
        conclusion: str,
        content: dict[str, Any],
        facts: dict[str, Any] | None = None,
        ctx: RunContext | None = None,
        **record: Any,
    ) -> PerspectiveResult:
        """The stage's result: its record names the item, the earlier conclusions, this one and
        the stage's content; ``record`` adds the Implementation Plan's keys (code_changes...).
        With a language model (``ctx.ask_model``) the conclusion is the model's, drawn from the
        same content (the Implementation Plan's stays its verification label and summary), and
        the record's ``model`` says which model, what it concluded and what it cost."""
        note = modelled.stage_note(ctx, NAMES[stage_id], self.item.model_dump(mode="json"),
                                   content) if ctx is not None else None  # fmt: skip
        if note is not None and stage_id != ORDER[-1]:  # the last one's leads with its label
            record = {**record, "model": note, "evidence_conclusion": conclusion}
            conclusion = note["conclusion"]
        elif note is not None:
            record = {**record, "model": note}
        return PerspectiveResult(
            summary=f"{NAMES[stage_id]} of {self.item.id}: {conclusion}",
            details={
                "item_id": self.item.id,
                "item": self.item.model_dump(mode="json", exclude={"test_code"}),
                "previous_stages": self.conclusions,
                "conclusion": conclusion,
                "content": content,
                **record,
            },
            handoff=self.handoff(stage_id, conclusion, facts if facts is not None else content),
            items=list(self.task_rows()),
        )


def started(item: WorkItem, commit: str | None) -> InProgress:
    return InProgress(item, commit)


def in_progress(ctx: RunContext, stage_id: str) -> InProgress:
    """The item the stage before ``stage_id`` handed on, at the target's current commit.

    Raises PerspectiveSkipped when no item is in progress (saying why), TargetError when the
    target moved to another commit since the item was taken."""
    before = ORDER[ORDER.index(stage_id) - 1]
    if ctx.handoff_from != before or "item" not in ctx.handoff:
        raise PerspectiveSkipped(f"no item in progress: {_why_none(ctx.handoff_from)}")
    data = ctx.handoff
    progress = InProgress(
        WorkItem.model_validate(data["item"]), data.get("base_commit"),
        list(data.get("conclusions", [])), dict(data.get("facts", {})),
    )  # fmt: skip
    if progress.item.task_id:
        progress.task = _running_task(ctx, progress.item.task_id)
    if progress.base_commit != ctx.commit:
        raise TargetError(
            f"the target moved from {progress.base_commit} to {ctx.commit} since Deep "
            f"Understanding took {progress.item.id}; the item starts again at the new commit"
        )
    return progress


def _running_task(ctx: RunContext, task_id: str) -> TaskRow:
    """The task the item serves, which must still be running: a restart puts a running task
    back to pending, and Deep Understanding then takes it from the start."""
    task = latest_tasks(ctx.reader).get(task_id)
    if task is None or task.status != "running":
        now = task.status if task is not None else "gone"
        raise PerspectiveSkipped(
            f"no item in progress: task {task_id} is {now} (the worker restarted while it ran); "
            "Deep Understanding takes it again"
        )
    return task


def _why_none(handed_on_by: str | None) -> str:
    if handed_on_by is None or handed_on_by not in ORDER:
        return "Deep Understanding has not taken an item yet"
    if handed_on_by == ORDER[0]:
        return "Deep Understanding took no item (its record says why)"
    if handed_on_by == ORDER[-1]:
        return "the last item ended at Implementation Plan and Deep Understanding took no new one"
    failed = NAMES[ORDER[ORDER.index(handed_on_by) + 1]]
    return (
        f"the item stopped after {NAMES[handed_on_by]}: {failed} failed or was skipped (see its "
        "record); Deep Understanding takes the next item"
    )
