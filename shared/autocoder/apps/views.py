"""Plain functions that turn worker status and records into what the worker page shows.

Every moment reads as :func:`autocoder.apps.timestamps.when` does on the dashboard
(``5 s ago · 18:50 UTC``); health uses the dashboard's rule on the recent iterations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from autocoder.apps.iteration_health import judge
from autocoder.apps.timestamps import when
from autocoder.engine.spec import PageTable

FINDING_COLUMNS = ("severity", "file", "line", "rule", "tool", "message")  # the default table
CELL_CHARS = 160  # a longer cell is cut, its full text on hover
WRAP_CHARS = 40  # a longer cell wraps at spaces; a shorter one stays on one line
CSS = """
.ac-health { font-weight: 600; }
.ac-error { border: 2px solid #b91c1c; background: #fef2f2; color: #7f1d1d; padding: 10px 14px;
  border-radius: 8px; overflow-wrap: break-word; }
.ac-error.ac-past { border-color: #b45309; background: #fffbeb; color: #78350f; }
.ac-table-wrap { overflow-x: auto; max-height: 520px; overflow-y: auto; }
.ac-table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
.ac-table th { white-space: nowrap; text-align: left; position: sticky; top: 0;
  background: var(--block-background-fill, #fff); }
.ac-table th, .ac-table td { padding: 4px 8px; border-bottom: 1px solid #e5e7eb;
  vertical-align: top; }
.ac-table td { white-space: nowrap; }
.ac-table td.ac-long { white-space: normal; min-width: 18em; overflow-wrap: break-word; }
"""


@dataclass(frozen=True)
class Health:
    """The worker in one word (ok, degraded, down, starting) and why, for the page."""

    word: str
    reason: str | None = None


def iterations_health(statuses: Sequence[str]) -> Health:
    """The one rule of :mod:`autocoder.apps.iteration_health` on recent statuses (oldest first)."""
    judged = judge([(status, None) for status in statuses])
    return Health(judged.word, judged.reason)


def worker_health(condition: tuple[str, str | None], statuses: Sequence[str]) -> Health:
    """Health from the service (``/health``'s condition) and then the recent iterations."""
    state, reason = condition
    if state == "failed":
        return Health("down", reason)
    if state == "starting":
        return Health("starting", reason)
    if state == "degraded":
        return Health("degraded", reason)
    return iterations_health(statuses)


def health_markdown(health: Health) -> str:
    because = f": {health.reason}" if health.reason else ""
    return f"Health: **{health.word}**{because}"


def _error_box(text: str, past: bool = False) -> str:
    kind = "ac-error ac-past" if past else "ac-error"
    return f'<div class="{kind}" role="alert">{escape(text)}</div>'


def last_error_html(
    records: Sequence[dict[str, Any]], status: dict[str, Any], now: datetime | None = None
) -> str:
    """A box with the newest failure among ``records`` (oldest first), or why the worker cannot
    start or store; empty when nothing failed. Messages are already redacted where written."""
    if status.get("error"):  # the worker could not be built
        return _error_box(f"The worker cannot start: {status['error']}")
    if status.get("last_store_error"):
        return _error_box(f"The last write to the store failed: {status['last_store_error']}")
    failed = [r for r in records if r.get("status") == "error"]
    if not failed:
        return ""
    newest, at = failed[-1], when(failed[-1].get("timestamp"), now)
    message = newest.get("error") or "no message recorded"
    if newest is records[-1]:
        return _error_box(f"Last iteration failed {at}: {message}")
    name = newest.get("perspective_name", "?")
    return _error_box(
        f"Iteration {newest.get('iteration')} ({name}) failed {at}: {message}. "
        "Later iterations worked.",
        past=True,
    )


def status_markdown(status: dict[str, Any], now: datetime | None = None) -> str:
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
            f"- next: {status['next_perspective']} {_next_at(status, now)}",
            f"- last completed: {when(status.get('last_completed_at'), now)}",
        ]
    hub = status.get("hub")
    if hub:
        lines.append(
            f"- Hub: `{hub['repo']}`, {hub['pending_files']} files waiting, "
            f"last push {when(hub.get('last_push_at'), now)}"
            + (f", last error: {hub['last_error']}" if hub.get("last_error") else "")
        )
    return "\n".join(lines)


def _next_at(status: dict[str, Any], now: datetime | None) -> str:
    if status.get("state") == "stopped":
        return "when started"
    at = status.get("next_run_at")
    return f"({when(at, now)})" if at else "(after the running one)"


def latest_markdown(record: dict[str, Any] | None, now: datetime | None = None) -> str:
    if record is None:
        return "No iteration yet: the first result appears here when it completes."
    analysis = record.get("analysis") or {}
    head = (
        f"### Iteration {record['iteration']}: {record['perspective_name']} ({record['status']})\n"
        f"{when(record.get('timestamp'), now)} · commit "
        f"`{(record['target'].get('commit') or 'none')[:12]}` · {record['duration_s']:.1f} s"
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


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    shown = text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1].rstrip() + "…"
    long = ' class="ac-long"' if len(text) > WRAP_CHARS else ""
    title = f' title="{escape(text)}"' if shown != text else ""
    return f"<td{long}{title}>{escape(shown)}</td>"


def table_html(record: dict[str, Any] | None, table: PageTable) -> str:
    """The page's table: headers on one line, short cells on one line, long ones wrapped and
    cut at :data:`CELL_CHARS` with the whole text on hover, so no column shrinks to a letter."""
    rows = table_rows(record, table)
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in table.columns)
    if rows:
        body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    else:
        body = f'<tr><td colspan="{len(table.columns)}">No rows in the latest iteration.</td></tr>'
    return (
        f'<div class="ac-table-wrap"><table class="ac-table" aria-label="{escape(table.label)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )
