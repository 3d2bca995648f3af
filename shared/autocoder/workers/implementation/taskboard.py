"""What the implementation worker does with tasks each time Deep Understanding comes round.

- New entries of ``tasks.json`` become pending tasks (rejected ones are listed with why); tasks
  submitted through the API are read from the dataset's ``tasks`` config.
- A task whose item stopped in the chain (a stage failed) is failed, with that stage's error.
- Each pending task is served by an item, or failed with the reason: a bug fix whose issue
  names the rule (``B506``) or the line (``line 9``) of a finding a fixer handles in its file is
  served by that finding's fixers; anything else needs a language model, and without one it
  fails saying which variables to set.
- A task's rows carry its whole state; the newest row is the task (see ``store.tasklog``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from autocoder.engine.perspective import RunContext
from autocoder.schema import TaskRow, TaskStatus, utc_timestamp
from autocoder.store.reader import recent_records
from autocoder.store.tasklog import latest_tasks
from autocoder.workers.implementation.stages import STAGES
from autocoder.workers.implementation.tasks import TASKS_FILE, read_tasks_file
from autocoder.workers.implementation.workitem import WorkItem, item_id

LLM_NEEDED = (
    "needs a language model: set AUTOCODER_LLM_BASE_URL, AUTOCODER_LLM_API_KEY and "
    "AUTOCODER_LLM_MODEL (any OpenAI-compatible endpoint), or AUTOCODER_LLM_PROVIDER with HF_TOKEN"
)
STAGE_IDS = [stage_id for stage_id, _ in STAGES]
_MENTIONS = re.compile(r"\b([A-Z]{1,6}\d{2,5}|line \d+)\b")  # a rule id or a line named in an issue


@dataclass
class TaskRound:
    """This round's task rows to write (newest state by id), the items serving pending tasks, and
    the tasks.json entries rejected."""

    rows: dict[str, TaskRow] = field(default_factory=dict)
    items: list[WorkItem] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    known: dict[str, TaskRow] = field(default_factory=dict)  # every task's current state

    def set(self, task_id: str, status: TaskStatus, **update: Any) -> None:
        """Note the task's new state, to be written with this iteration."""
        self.known[task_id] = self.rows[task_id] = changed(self.known[task_id], status, **update)

    def summary(self) -> dict[str, Any]:
        failed = [r for r in self.rows.values() if r.status == "failed"]
        return {"served": [i.task_id for i in self.items], "rejected": self.rejected,
                "failed": {r.id: r.error_detail for r in failed}}  # fmt: skip


def task_round(ctx: RunContext, findings: list[WorkItem], model_available: bool) -> TaskRound:
    """This round's tasks: new ones from tasks.json, the stopped one failed, the pending ones
    served by items (best priority first, then oldest) or failed with the reason."""
    from_file, rejected = read_tasks_file(ctx.root)
    found = TaskRound(rejected=rejected, known=latest_tasks(ctx.reader))
    for task in from_file or []:
        if task.id not in found.known:
            found.known[task.id] = found.rows[task.id] = task
    if from_file is not None:  # the file was read: a pending entry no longer in it is dropped
        _drop_removed(found, {task.id for task in from_file})
    stopped = _stopped(ctx, found.known)
    if stopped is not None:
        found.set(stopped[0], "failed", error_detail=stopped[1])
    pending = sorted((t for t in found.known.values() if t.status == "pending"),
                     key=lambda t: (t.priority, t.created_at))  # fmt: skip
    for task in pending:
        served = serve(task, findings, model_available)
        if isinstance(served, str):
            found.set(task.id, "failed", error_detail=served)
        else:
            found.items.append(served)
    return found


def _drop_removed(found: TaskRound, listed: set[str]) -> None:
    """Fail the pending tasks.json tasks whose entry is gone: removed, or edited (an edited entry
    is a new task, with a new id), so the old text is not served after the team changed it."""
    for task in list(found.known.values()):
        if task.source == "tasks.json" and task.status == "pending" and task.id not in listed:
            found.set(task.id, "failed", error_detail=f"no longer in {TASKS_FILE} (an edited "
                      "entry is a new task); not done")  # fmt: skip


def serve(task: TaskRow, findings: list[WorkItem], model_available: bool) -> WorkItem | str:
    """The item that serves ``task``, or why none does."""
    if task.type == "bug_fix":
        there = [i for i in findings if i.file == task.file and i.kind != "spec" and not i.task_id]
        named = [i for i in there if _named_in(task.issue, i)]
        if named:  # only the finding the issue names: another one in the file is not the bug
            update = {"id": item_id("task", task.id), "task_id": task.id,
                      "priority": task.priority}  # fmt: skip
            return named[0].model_copy(update=update)
        if not model_available:
            return (f"the issue names no rule (e.g. B506) or line of a finding in {task.file} "
                    f"that a fixer handles ({len(there)} there), and a fix of the issue as "
                    f"described {LLM_NEEDED}")  # fmt: skip
    if not model_available:
        return f"a {task.type.replace('_', ' ')} task {LLM_NEEDED}"
    return _for_the_model(task)


def _for_the_model(task: TaskRow) -> WorkItem:
    """The item a language model serves: the task's file (a bug fix's, an optimization's
    target without its ``:name``), or none for the model to choose; what to do as the message."""
    file = task.file or task.target.split(":", 1)[0]
    asked = {"feature": task.description, "bug_fix": f"fix in {task.file}: {task.issue}",
             "optimization": f"optimize {task.target}: {task.goal}",
             "content": f"write {task.content_type}: {task.context}"}[task.type]  # fmt: skip
    return WorkItem(
        id=item_id("task", task.id), kind="task", source="task", tool="task", rule=task.type,
        severity="medium", file=file, line=0, message=asked, priority=task.priority,
        task_id=task.id,
    )  # fmt: skip


def changed(task: TaskRow, status: TaskStatus, **update: Any) -> TaskRow:
    return task.model_copy(update={"status": status, "updated_at": utc_timestamp(), **update})


def _named_in(issue: str, item: WorkItem) -> bool:
    mentions = set(_MENTIONS.findall(issue))
    return item.rule in mentions or f"line {item.line}" in mentions


def _stopped(ctx: RunContext, known: dict[str, TaskRow]) -> tuple[str, str] | None:
    """The running task whose item the chain handed on last and that stopped before the end,
    and why it stopped."""
    item = ctx.handoff.get("item") or {}
    task = known.get(str(item.get("task_id", "")))
    last = ctx.handoff_from
    if task is None or task.status != "running" or last not in STAGE_IDS[:-1]:
        return None
    following = STAGE_IDS[STAGE_IDS.index(str(last)) + 1]
    error = next((r.get("error") for r in reversed(recent_records(ctx.reader, 12))
                  if r.get("perspective_id") == following and r.get("status") != "ok"),
                 None) if ctx.reader is not None else None  # fmt: skip
    said = f": {error}" if error else " (see its record)"
    return task.id, f"stopped at {dict(STAGES)[following]}{said}"
