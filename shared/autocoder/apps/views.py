"""Plain functions that turn worker status and records into what the page shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

FINDING_COLUMNS = ["severity", "file", "line", "rule", "tool", "message"]


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


SPEC_COLUMNS = [
    "priority",
    "kind",
    "subject",
    "file",
    "line",
    "status",
    "status_detail",
    "rationale",
]


def table_columns(has_specs: bool) -> list[str]:
    return SPEC_COLUMNS if has_specs else FINDING_COLUMNS


def table_rows(record: dict[str, Any] | None) -> list[list[Any]]:
    """The record's top findings (analysis) or top specs (test planning), one row each."""
    analysis = (record or {}).get("analysis") or {}
    if "top_specs" in analysis:
        return [[s.get(c, "") for c in SPEC_COLUMNS] for s in analysis["top_specs"]]
    return [[f.get(c, "") for c in FINDING_COLUMNS] for f in analysis.get("top_findings") or []]


def spec_choices(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(label, id) pairs for picking a spec whose test code to show."""
    return [(f"P{r['priority']} {r['kind']} · {r['subject']}", r["id"]) for r in rows]
