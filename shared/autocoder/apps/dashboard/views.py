"""Plain functions that turn a :class:`Snapshot` into what the dashboard page shows.

Every function takes the clock as an argument where time matters, so tests pin it.
"""

from __future__ import annotations

import html
import math
import re
from datetime import datetime
from typing import Any, Literal

from autocoder.apps.dashboard.model import Snapshot, WorkerView
from autocoder.apps.timestamps import when

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
    "errors (24 h)", "last error", "space", "details",
]  # fmt: skip
CellType = Literal["str", "number", "bool", "date", "markdown", "html"]
WORKER_TYPES: list[CellType] = [
    "str", "html", "number", "str", "str", "str", "html", "markdown", "str",
]  # fmt: skip
WORKER_WIDTHS: list[str | int] = ["12%", "10%", "9%", "12%", "12%", "8%", "17%", "6%", "14%"]
FINDING_HEADERS = [
    "time", "worker", "perspective", "severity", "file:line", "rule", "message", "commit",
]  # fmt: skip
FINDING_TYPES: list[CellType] = ["str", "str", "str", "str", "str", "str", "html", "str"]
FINDING_WIDTHS: list[str | int] = ["11%", "8%", "12%", "8%", "13%", "11%", "28%", "9%"]
SPEC_HEADERS = [
    "time", "worker", "perspective", "priority", "file:line", "kind", "rationale", "commit",
]  # fmt: skip
PATCH_HEADERS = [  # severity from the patch's status (``patch_as_finding``): failed is high
    "time", "worker", "stage", "severity", "file", "fixer", "patch", "commit",
]  # fmt: skip
COMMIT_SHOWN = 8  # characters of a commit hash (git's short form is 7)
PAGE_ROWS = 20  # rows of a page of one latest-findings table
ERROR_SHOWN = 90  # characters of the last error in the workers table (all of it on hover)
MESSAGE_SHOWN = 220  # characters of a finding's message (all of it on hover)
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
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
.ac-banner-detail div { margin-top: 2px; }
/* text wraps between words, never inside one ("iteratio/ns"): only a word wider than its
   whole column (a long path) may break */
.ac-table th *, .ac-table td *, .ac-table .body-cell * {
  word-break: normal !important; overflow-wrap: break-word !important; hyphens: none !important;
}
.ac-clip { cursor: help; text-decoration: underline dotted #9ca3af; }
"""


def clipped(text: str | None, limit: int) -> str:
    """``text`` as HTML cut to ``limit`` characters, the whole text in its tooltip when cut."""
    if not text:
        return "—"
    if len(text) <= limit:
        return html.escape(text)
    short = text[: limit - 1].rstrip() + "…"
    return f'<span class="ac-clip" title="{html.escape(text)}">{html.escape(short)}</span>'


def markdown_text(text: str) -> str:
    """``text`` shown literally in markdown (``__init__.py`` stays itself, not bold)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def banner_html(snapshot: Snapshot) -> str:
    kind = BANNER_CLASS.get(snapshot.banner, "down")
    lines = "".join(
        f"<div>{html.escape(line)}</div>" for line in snapshot.banner_detail.splitlines() if line
    )
    detail = f'<div class="ac-banner-detail">{lines}</div>' if lines else ""
    return (
        f'<div id="ac-banner" class="ac-banner ac-{kind}">'
        f'<div class="ac-banner-title">{html.escape(snapshot.banner)}</div>{detail}</div>'
    )


def overview_markdown(snapshot: Snapshot, now: datetime) -> str:
    failing = sum(1 for w in snapshot.workers if w.failing)
    lines = [
        f"**{snapshot.online} of {snapshot.expected} workers online**"
        + (f", {failing} of them failing" if failing else "")
        + " · "
        f"newest iteration: {when(snapshot.newest_iteration_at, now)}",
        "",
        f"Data as of {when(snapshot.data_as_of, now)}",
    ]
    if snapshot.skipped:
        lines += ["", "**Skipped perspectives** (their latest run was skipped)"]
        lines += [
            f"- {markdown_text(run.perspective)} ({markdown_text(run.worker)}), "
            f"{when(run.timestamp, now)}: {markdown_text(run.reason)}"
            for run in snapshot.skipped
        ]
    if snapshot.problems:
        lines += ["", "**Problems**", *(f"- {markdown_text(p)}" for p in snapshot.problems)]
    return "\n".join(lines)


def _error_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def _space_link(url: str | None) -> str:
    return f"[open]({url})" if url else "—"


def status_cell(status: str) -> str:
    """A coloured dot and the status, as markdown (no emoji font needed)."""
    color = STATUS_COLOR.get(status, "#6b7280")
    return f'<span style="color:{color}">●</span>&nbsp;{html.escape(status)}'


def _last_error(worker: WorkerView, now: datetime) -> str:
    if not worker.last_error:
        return "—"
    full = f"{worker.last_error} ({when(worker.last_error_at, now)})"
    return clipped(full, ERROR_SHOWN) if len(full) > ERROR_SHOWN else html.escape(full)


def worker_row(worker: WorkerView, now: datetime) -> list[Any]:
    return [
        worker.title,
        status_cell(worker.status),
        worker.iterations,
        when(worker.last_updated, now),
        worker.current_perspective or "—",
        _error_rate(worker.error_rate_24h),
        _last_error(worker, now),
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
    rows = [row for rows in snapshot.latest_by_config.values() for row in rows]
    for key in FILTER_KEYS:
        values = {str(row.get(key)) for row in rows if row.get(key)}
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
    """``file:line``; the file alone for a row about the whole file (line 0 or none)."""
    file = row.get("file") or ""
    return f"{file}:{row['line']}" if file and row.get("line") else file


def page_of(
    rows: list[dict[str, Any]], page: float | None, size: int = PAGE_ROWS
) -> tuple[list[dict[str, Any]], str]:
    """The rows of page ``page`` (1-based, clamped to the pages there are) and a label saying
    which rows they are: "rows 21-40 of 143 · page 2 of 8"."""
    pages = max(1, math.ceil(len(rows) / size))
    number = min(max(1, int(page or 1)), pages)
    start = (number - 1) * size
    shown = rows[start : start + size]
    if not shown:
        return shown, "no rows"
    return shown, f"rows {start + 1}-{start + len(shown)} of {len(rows)} · page {number} of {pages}"


def _rank(row: dict[str, Any]) -> str:
    """A finding's severity; a spec's priority with the severity it maps to: "P1 (high)"."""
    severity = str(row.get("severity") or "")
    return f"P{row['priority']} ({severity})" if row.get("priority") is not None else severity


def finding_rows(rows: list[dict[str, Any]], now: datetime) -> list[list[Any]]:
    return [
        [
            when(row.get("timestamp"), now),
            row.get("worker") or "",
            row.get("perspective") or "",
            _rank(row),
            _location(row),
            row.get("rule") or "",
            clipped(row.get("message"), MESSAGE_SHOWN),
            str(row.get("commit") or "")[:COMMIT_SHOWN],
        ]
        for row in rows
    ]
