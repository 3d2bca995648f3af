"""The dashboard's charts: each a function from a :class:`Snapshot` to a plotly figure.

Every chart has a plain empty state (a sentence in the middle of blank axes) so a fresh
deployment shows what will appear rather than an error or a zero-sized plot.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

from autocoder.apps.dashboard.model import Snapshot

SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"]
SEVERITY_COLORS = {
    "critical": "#7f1d1d",
    "high": "#dc2626",
    "medium": "#f59e0b",
    "low": "#3b82f6",
    "info": "#9ca3af",
}
SPEC_LINES: dict[str, dict[str, Any]] = {
    "active": {"line": {"color": "#16a34a", "width": 4}, "marker": {"size": 9, "symbol": "circle"}},
    "total": {
        "line": {"color": "#1d4ed8", "width": 2, "dash": "dash"},
        "marker": {"size": 7, "symbol": "diamond"},
    },
}
FUNNEL_COLORS = ["#f59e0b", "#3b82f6", "#6366f1", "#16a34a", "#15803d"]
HEIGHT = 320
HOUR = timedelta(hours=1)
HOUR_MS = 3_600_000


def _layout(figure: go.Figure, title: str, y_title: str) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01},
        height=HEIGHT,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        yaxis_title=y_title,
        template="plotly_white",
    )
    return figure


def empty_figure(title: str, hint: str) -> go.Figure:
    """Blank axes with ``hint`` written in the middle."""
    figure = go.Figure()
    figure.add_annotation(
        text=hint, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14}
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return _layout(figure, title, "")


def _time_axis(figure: go.Figure, times: list[Any]) -> None:
    """A date axis at least two hours wide: one point or bar must not span it in milliseconds."""
    moments = [datetime.fromisoformat(str(t).replace("Z", "+00:00")) for t in times]
    start, end = min(moments), max(moments)
    if end - start < HOUR:
        middle = start + (end - start) / 2
        start, end = middle - HOUR, middle + HOUR
    figure.update_xaxes(type="date", range=[start, end], tickformat="%H:%M\n%b %d")


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[str(row[key])].append(row)
    return groups


def iterations_per_hour(snapshot: Snapshot) -> go.Figure:
    """Bars of iterations per hour, stacked by worker."""
    title = "Iterations per hour"
    if not snapshot.iterations_per_hour:
        return empty_figure(title, "No iterations yet")
    figure = go.Figure()
    groups = sorted(_grouped(snapshot.iterations_per_hour, "worker").items())
    for worker, rows in groups:
        ordered = sorted(rows, key=lambda r: str(r["hour"]))
        figure.add_bar(
            name=worker,
            x=[r["hour"] for r in ordered],
            y=[r["iterations"] for r in ordered],
            width=HOUR_MS * 0.8,
            xperiod=HOUR_MS,
            xperiodalignment="middle",
        )
    figure.update_layout(barmode="stack")
    _time_axis(figure, [r["hour"] for r in snapshot.iterations_per_hour])
    return _layout(figure, title, "iterations")


def _commit_order(rows: list[dict[str, Any]]) -> list[str]:
    """Commits in the order the snapshot lists them first (the data layer's chronology)."""
    return list(dict.fromkeys(str(r["commit"]) for r in rows))


def findings_by_commit(snapshot: Snapshot) -> go.Figure:
    """Stacked bars of findings per target commit, one colour per severity."""
    title = "Findings by severity per target commit"
    rows = snapshot.findings_by_commit
    if not rows:
        return empty_figure(title, "No findings yet")
    commits = _commit_order(rows)
    counts = {(str(r["commit"]), str(r["severity"])): int(r["findings"]) for r in rows}
    present = {severity for _commit, severity in counts}
    severities = [s for s in SEVERITY_ORDER if s in present] + sorted(present - set(SEVERITY_ORDER))
    figure = go.Figure()
    for severity in severities:
        figure.add_bar(
            name=severity,
            x=[c[:10] or "none" for c in commits],
            y=[counts.get((c, severity), 0) for c in commits],
            marker_color=SEVERITY_COLORS.get(severity),
            width=0.6,
        )
    figure.update_layout(barmode="stack")
    figure.update_xaxes(type="category", title="commit")
    return _layout(figure, title, "findings")


def specs_over_time(snapshot: Snapshot) -> go.Figure:
    """Lines of the test planning worker's total and active specifications over time."""
    title = "Test specifications over time"
    rows = sorted(snapshot.specs_over_time, key=lambda r: str(r["timestamp"]))
    if not rows:
        return empty_figure(title, "No test planning iterations yet")
    figure = go.Figure()
    times = [r["timestamp"] for r in rows]
    # "total" is drawn last (on top), dashed, with its own colour and marker: when every spec
    # is active the two lines coincide, and "total" must not vanish under "active".
    for key, name in (("test_specs_active", "active"), ("test_specs_total", "total")):
        figure.add_scatter(
            name=name, x=times, y=[r.get(key, 0) for r in rows], mode="lines+markers",
            **SPEC_LINES[name],
        )  # fmt: skip
    figure.update_layout(legend={"traceorder": "reversed"})
    _time_axis(figure, times)
    return _layout(figure, title, "specifications")


def traceability(snapshot: Snapshot) -> go.Figure:
    """The funnel findings -> items taken -> patches -> verified -> published, with its numbers.

    Each bar has its own number only: the stages are not subsets of one another (items also
    come from test specs and tasks), so a share of the stage before would mislead.
    """
    title = "Traceability: from findings to published patches"
    stages = snapshot.funnel
    if not any(stage.count for stage in stages):
        return empty_figure(title, "No findings or patches yet")
    figure = go.Figure(
        go.Funnel(
            y=[stage.label for stage in stages],
            x=[stage.count for stage in stages],
            textinfo="value",
            hovertext=[stage.counts for stage in stages],
            hoverinfo="text+x",
            marker={"color": FUNNEL_COLORS[: len(stages)]},
        )
    )
    labels = [f"{stage.label}: {stage.count}" for stage in stages]  # a 0 has no bar to show it
    figure.update_yaxes(tickvals=[stage.label for stage in stages], ticktext=labels)
    return _layout(figure, title, "")


CHARTS = (iterations_per_hour, findings_by_commit, specs_over_time, traceability)
