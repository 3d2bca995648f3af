"""What the page's Traceability and Tasks sections show: plain functions of a :class:`Snapshot`.

The clock is an argument wherever time matters, so tests pin it.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from autocoder.apps.dashboard.model import Snapshot
from autocoder.apps.dashboard.views import CellType, clipped, markdown_text
from autocoder.apps.timestamps import when

TASK_HEADERS = [
    "id", "type", "priority", "status", "description", "updated", "branch / pull request",
    "error detail",
]  # fmt: skip
TASK_TYPES: list[CellType] = ["str", "str", "number", "html", "html", "html", "html", "html"]
TASK_WIDTHS: list[str | int] = ["16%", "8%", "8%", "10%", "18%", "14%", "12%", "14%"]
TASK_STATUS_COLOR = {
    "pending": "#6b7280", "running": "#2563eb", "completed": "#15803d", "failed": "#dc2626",
}  # fmt: skip
DESCRIPTION_SHOWN = 120  # characters of a task's description (all of it on hover)
ERROR_SHOWN = 140  # characters of its error detail
HOW_TO_HAND_TASKS = (
    "Hand the implementation worker tasks with a `tasks.json` at the target's root (a list of "
    '`{"type": "feature" | "bug_fix" | "optimization" | "content", "priority": 1-5, ...}`), or '
    "with `POST /api/tasks` on the implementation worker and its admin token "
    "(`Authorization: Bearer TOKEN`)."
)


def funnel_markdown(snapshot: Snapshot) -> str:
    """The funnel in one line, each number with what it counts; then why any is 0 for want of
    data, one line each."""
    if not snapshot.funnel:
        return "Nothing to trace yet."
    steps = " → ".join(
        f"**{stage.count}** {stage.label} ({markdown_text(stage.counts)})"
        for stage in snapshot.funnel
    )
    notes = [f"- counted as 0: {markdown_text(note)}" for note in snapshot.traceability()["notes"]]
    return "\n\n".join([steps, "\n".join(notes)]) if notes else steps


def tasks_markdown(snapshot: Snapshot) -> str:
    """The line above the tasks table: the counts, or how to hand tasks when there are none."""
    counts = snapshot.task_counts
    if counts.get("total"):
        by_status = ", ".join(f"{counts[s]} {s}" for s in TASK_STATUS_COLOR if counts.get(s))
        shown = len(snapshot.tasks)
        more = f" (the newest {shown} shown)" if shown < counts["total"] else ""
        return f"**{counts['total']} tasks**: {by_status}{more}, newest first."
    if not snapshot.task_sources:
        return f"No tasks: no worker that takes tasks has a dataset yet. {HOW_TO_HAND_TASKS}"
    return f"No tasks yet. {HOW_TO_HAND_TASKS}"


def _status(status: str) -> str:
    color = TASK_STATUS_COLOR.get(status, "#6b7280")
    return f'<span style="color:{color}">●</span>&nbsp;{html.escape(status)}'


def _updated(task: dict[str, Any], now: datetime) -> str:
    updated = html.escape(when(task.get("updated_at"), now))
    if task.get("created_at") == task.get("updated_at"):
        return updated
    return f"{updated}<br><small>created {html.escape(when(task.get('created_at'), now))}</small>"


def _published(task: dict[str, Any]) -> str:
    """The pull request as a link (http(s) only), else the branch, else a dash."""
    url, branch = str(task.get("published_url") or ""), str(task.get("branch_name") or "")
    if url.startswith(("https://", "http://")):
        text = html.escape(branch or url)
        return f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{text}</a>'
    return html.escape(branch) if branch else "—"


def task_rows(snapshot: Snapshot, now: datetime) -> list[list[Any]]:
    """The tasks table: one row per task, newest first (the snapshot's order)."""
    return [
        [
            task.get("id") or "",
            task.get("type") or "",
            task.get("priority"),
            _status(str(task.get("status") or "")),
            clipped(task.get("description"), DESCRIPTION_SHOWN),
            _updated(task, now),
            _published(task),
            clipped(task.get("error_detail"), ERROR_SHOWN),
        ]
        for task in snapshot.tasks
    ]
