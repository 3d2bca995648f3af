"""Plain functions that turn a :class:`Snapshot` into what the dashboard page shows.

Every function takes the clock as an argument where time matters, so tests pin it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any, Literal

from autocoder.apps.dashboard.model import Snapshot, WorkerView

ALL = "All"
BANNER_CLASS = {"All Systems Operational": "ok", "Degraded": "degraded", "Down": "down"}
STATUS_COLOR = {
    "online": "#15803d",
    "stale": "#d97706",
    "offline": "#dc2626",
    "not deployed": "#9ca3af",
    "waiting for first iteration": "#2563eb",
}
WORKER_COLUMNS = [
    "worker", "status", "iterations", "last updated", "current perspective",
    "errors (24 h)", "space", "details",
]  # fmt: skip
CellType = Literal["str", "number", "bool", "date", "markdown", "html"]
WORKER_TYPES: list[CellType] = ["str", "markdown", "number", "str", "str", "str", "markdown", "str"]
WORKER_WIDTHS: list[str | int] = ["13%", "11%", "7%", "19%", "13%", "7%", "6%", "24%"]
FINDING_HEADERS = [
    "time", "worker", "perspective", "severity", "file:line", "rule", "message", "commit",
]  # fmt: skip
FINDING_WIDTHS: list[str | int] = ["8%", "9%", "13%", "7%", "14%", "12%", "28%", "9%"]
FILTER_KEYS = ("worker", "perspective", "severity")
SEVERITIES = ["critical", "high", "medium", "low", "info"]
CSS = """
.ac-banner { padding: 14px 18px; border-radius: 10px; }
.ac-banner, .ac-banner div { color: #fff !important; }
.ac-banner-title { font-size: 1.6em; font-weight: 700; }
.ac-banner-detail { margin-top: 4px; }
.ac-ok { background: #15803d; }
.ac-degraded { background: #b45309; }
.ac-down { background: #b91c1c; }
"""


def parse_time(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relative(seconds: float) -> str:
    """``42 s ago``, ``5 min ago``, ``3 h ago``, ``2 d ago`` (or ``in ...`` for clock skew)."""
    ago = seconds >= 0
    seconds = abs(seconds)
    if seconds < 60:
        amount = f"{seconds:.0f} s"
    elif seconds < 3600:
        amount = f"{seconds // 60:.0f} min"
    elif seconds < 86400:
        amount = f"{seconds // 3600:.0f} h"
    else:
        amount = f"{seconds // 86400:.0f} d"
    return f"{amount} ago" if ago else f"in {amount}"


def when(iso: str | None, now: datetime) -> str:
    """``5 min ago · 2026-11-21 13:15:11 UTC``, or ``never`` / the raw text if unparseable."""
    moment = parse_time(iso)
    if moment is None:
        return iso or "never"
    absolute = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{relative((now - moment).total_seconds())} · {absolute}"


def ago(iso: str | None, now: datetime) -> str:
    """Only the relative part of :func:`when`: ``5 min ago``."""
    return when(iso, now).split(" · ")[0]


def banner_html(snapshot: Snapshot) -> str:
    kind = BANNER_CLASS.get(snapshot.banner, "down")
    detail = (
        f'<div class="ac-banner-detail">{html.escape(snapshot.banner_detail)}</div>'
        if snapshot.banner_detail
        else ""
    )
    return (
        f'<div id="ac-banner" class="ac-banner ac-{kind}">'
        f'<div class="ac-banner-title">{html.escape(snapshot.banner)}</div>{detail}</div>'
    )


def overview_markdown(snapshot: Snapshot, now: datetime) -> str:
    lines = [
        f"**{snapshot.online} of {snapshot.expected} workers online** · "
        f"newest iteration: {when(snapshot.newest_iteration_at, now)}",
        "",
        f"Data as of {when(snapshot.data_as_of, now)}",
    ]
    if snapshot.problems:
        lines += ["", "**Problems**", *(f"- {problem}" for problem in snapshot.problems)]
    return "\n".join(lines)


def _error_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def _space_link(url: str | None) -> str:
    return f"[open]({url})" if url else "—"


def status_cell(status: str) -> str:
    """A coloured dot and the status, as markdown (no emoji font needed)."""
    color = STATUS_COLOR.get(status, "#6b7280")
    return f'<span style="color:{color}">●</span> {html.escape(status)}'


def worker_row(worker: WorkerView, now: datetime) -> list[Any]:
    return [
        worker.title,
        status_cell(worker.status),
        worker.iterations,
        when(worker.last_updated, now),
        worker.current_perspective or "—",
        _error_rate(worker.error_rate_24h),
        _space_link(worker.space_url),
        worker.reason,
    ]


def worker_rows(snapshot: Snapshot, now: datetime) -> list[list[Any]]:
    return [worker_row(worker, now) for worker in snapshot.workers]


def counts_markdown(title: str, counts: dict[str, int], order: list[str] | None = None) -> str:
    """A two-column markdown table of ``counts``, in ``order`` first, then by count."""
    if not counts:
        return f"**{title}**\n\nNothing yet."
    known = [key for key in order or [] if key in counts]
    rest = sorted((k for k in counts if k not in known), key=lambda k: (-counts[k], k))
    rows = "\n".join(f"| {key} | {counts[key]} |" for key in known + rest)
    return f"**{title}**\n\n| | count |\n|---|---:|\n{rows}"


def _label(key: str) -> str:
    return key.replace("_", " ")


def metrics_markdown(snapshot: Snapshot, slots: int) -> list[str]:
    """The snapshot's metrics tables as ``slots`` markdown boxes (extra tables share the last)."""
    tables = [
        counts_markdown(
            table.title,
            {_label(k): v for k, v in table.counts.items()},
            order=[_label(k) for k in table.order],
        )
        for table in snapshot.metrics
    ]
    if len(tables) > slots:
        tables[slots - 1 :] = ["\n\n".join(tables[slots - 1 :])]
    return tables + [""] * (slots - len(tables))


def filter_choices(snapshot: Snapshot) -> dict[str, list[str]]:
    """The values each filter dropdown offers: ``All`` then what the latest findings hold."""
    choices: dict[str, list[str]] = {}
    for key in FILTER_KEYS:
        values = {str(row.get(key)) for row in snapshot.latest_findings if row.get(key)}
        choices[key] = [ALL, *sorted(values)]
    return choices


def filter_findings(
    rows: list[dict[str, Any]], worker: str | None, perspective: str | None, severity: str | None
) -> list[dict[str, Any]]:
    """The rows matching every filter that is set (``All``, empty or None match everything)."""
    wanted = {
        key: value
        for key, value in zip(FILTER_KEYS, (worker, perspective, severity), strict=True)
        if value and value != ALL
    }
    return [row for row in rows if all(str(row.get(k)) == v for k, v in wanted.items())]


def kept_filters(values: tuple[str | None, ...], choices: dict[str, list[str]]) -> list[str]:
    """The filter values still offered (``All`` for one that no longer is)."""
    return [
        value if value in choices[key] else ALL
        for key, value in zip(FILTER_KEYS, values, strict=True)
    ]


def _location(row: dict[str, Any]) -> str:
    file = row.get("file") or ""
    return f"{file}:{row['line']}" if file and row.get("line") is not None else file


def finding_rows(rows: list[dict[str, Any]], now: datetime) -> list[list[Any]]:
    return [
        [
            ago(row.get("timestamp"), now),
            row.get("worker") or "",
            row.get("perspective") or "",
            row.get("severity") or "",
            _location(row),
            row.get("rule") or "",
            row.get("message") or "",
            str(row.get("commit") or "")[:10],
        ]
        for row in rows
    ]
