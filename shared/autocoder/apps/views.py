"""Plain functions that turn worker status and records into what the page shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from autocoder.engine.spec import PageTable

FINDING_COLUMNS = ("severity", "file", "line", "rule", "tool", "message")  # the default table


def when(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    moment = datetime.fromtimestamp(epoch, UTC)
    seconds = (datetime.now(UTC) - moment).total_seconds()
    relative = f"in {-seconds:.0f}s" if seconds < 0 else f"{seconds:.0f}s ago"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({relative})"


def status_markdown(status: dict[str, Any]) -> str:
    state = status.get("state", "?")
    lines = [
        f"**{status.get('worker', '?')} worker: {state}**",
        f"- target: `{status.get('target', '?')}`",
        f"- iterations completed: {status.get('iteration', 0)}",
    ]
    if status.get("waiting_for"):
        lines.append(f"- waiting for {status['waiting_for']}")
    if "next_perspective" in status:
        lines += [
            f"- now running: {status.get('current_perspective') or '—'}",
            f"- next: {status['next_perspective']} at {when(status.get('next_run_at'))}",
            f"- last completed: {when(status.get('last_completed_at'))}",
        ]
    hub = status.get("hub")
    if hub:
        lines.append(
            f"- Hub: `{hub['repo']}`, {hub['pending_files']} files waiting, "
            f"last push {when(hub.get('last_push_at'))}"
            + (f", last error: {hub['last_error']}" if hub.get("last_error") else "")
        )
    if status.get("last_error"):
        lines.append(f"- last error: {status['last_error']}")
    return "\n".join(lines)


def latest_markdown(record: dict[str, Any] | None) -> str:
    if record is None:
        return "No iteration yet: the first result appears here when it completes."
    analysis = record.get("analysis") or {}
    head = (
        f"### Iteration {record['iteration']}: {record['perspective_name']} ({record['status']})\n"
        f"{record['timestamp']} · commit `{(record['target'].get('commit') or 'none')[:12]}` · "
        f"{record['duration_s']:.1f}s"
    )
    body = analysis.get("summary") or record.get("error") or ""
    skipped = analysis.get("skipped") or {}
    notes = "".join(f"\n- {part}: {reason}" for part, reason in skipped.items())
    return f"{head}\n\n{body}{notes}"


def table_rows(record: dict[str, Any] | None, table: PageTable) -> list[list[Any]]:
    """The record's rows for the page's table: ``analysis[table.record_key]``, one row each."""
    analysis = (record or {}).get("analysis") or {}
    return [
        [item.get(c, "") for c in table.columns] for item in analysis.get(table.record_key) or []
    ]
