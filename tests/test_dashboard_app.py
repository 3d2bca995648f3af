"""The dashboard app served by uvicorn over real worker output: /api/summary, gradio_client, filters.

Plus the parts of the page without a server: the shared snapshot cache, the views, the charts.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio_client import Client

from autocoder.apps import launch
from autocoder.apps.dashboard import charts, views
from autocoder.apps.dashboard.app import SharedSnapshot, build_app, render
from autocoder.apps.dashboard.data import DashboardData
from autocoder.apps.dashboard.model import MetricCounts, SkippedRun, Snapshot, WorkerView
from autocoder.apps.dashboard.page import metric_slots
from autocoder.apps.dashboard.sources import worker_sources
from autocoder.apps.dashboard.tabs import table_tabs
from autocoder.cli import main
from autocoder.errors import ConfigError
from autocoder.settings import Settings, load_settings
from autocoder.store.reader import LocalReader, latest_record, record_paths

from appkit import free_port, serving

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 21, 13, 20, tzinfo=UTC)
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.x", "PATH": "/usr/bin:/bin"}  # fmt: skip


@pytest.fixture(scope="module")
def worker_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real output of the analysis (6 iterations) and test planning (3) workers on 'shop'."""
    base = tmp_path_factory.mktemp("workers")
    shop, data = base / "shop", base / "data"
    shutil.copytree(FIXTURES / "shop", shop)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run(["git", *args], cwd=shop, check=True, env={**GIT_ENV, "HOME": str(base)})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOCODER_NETWORK", "0")
        for worker, n in (("analysis", "6"), ("test-planning", "3")):
            argv = ["once", worker, "--target", str(shop), "--data-dir", str(data)]
            assert main([*argv, "--iterations", n]) == 0
    return data


def dashboard(data: Path, refresh_s: float = 1.0) -> Any:
    """The real app over ``data``, with hour-long intervals so the fixture's workers stay online."""
    sources = worker_sources(Settings(data_dir=data), worker_urls="", hub=False)
    slow = [replace(source, interval_s=3600.0) for source in sources]
    return build_app(DashboardData(slow), refresh_s=refresh_s)


def newest(data: Path, dataset: str) -> dict[str, Any]:
    record = latest_record(LocalReader(data / dataset))
    assert record is not None
    return record


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def pristine(worker_data: Path) -> dict[str, tuple[int, int]]:
    """Every file of the workers' output, as the workers left it (before any dashboard ran)."""
    return _tree(worker_data)


@pytest.fixture(scope="module")
def served(worker_data: Path, pristine: dict[str, tuple[int, int]]) -> Iterator[str]:
    with serving(dashboard(worker_data)) as url:
        yield url


def test_api_summary_matches_the_datasets(worker_data: Path, served: str) -> None:
    summary = httpx.get(f"{served}/api/summary").json()
    workers = {w["name"]: w for w in summary["workers"]}
    analysis = newest(worker_data, "autocoder-analysis-results")
    planning = newest(worker_data, "autocoder-test-planning-results")
    assert len(record_paths(LocalReader(worker_data / "autocoder-analysis-results"))) == 6
    assert workers["analysis"]["iterations"] == 6 and workers["analysis"]["status"] == "online"
    assert workers["test-planning"]["iterations"] == 3
    assert workers["test-planning"]["current_perspective"] == planning["perspective_name"]
    assert workers["analysis"]["last_updated"] == analysis["timestamp"]
    assert (summary["banner"], summary["online"], summary["expected"]) == (
        "All Systems Operational", 2, 2,
    )  # fmt: skip
    insights = analysis["cumulative_insights"]
    assert summary["findings_by_severity"] == insights["unique_findings_by_severity"]
    assert sum(summary["findings_by_severity"].values()) == insights["unique_findings"] > 0
    traced = summary["traceability"]  # no implementation dataset: its stages are 0, and why
    assert traced["findings"] == insights["unique_findings"]
    assert [traced[k] for k in ("items_taken", "patches", "verified", "published")] == [0] * 4
    assert len(traced["notes"]) == 1
    assert traced["notes"][0].startswith("no dataset found for the Implementation Worker (")
    assert summary["tasks"] == {"total": 0, "pending": 0, "running": 0, "completed": 0,
                                "failed": 0}  # fmt: skip
    counts = planning["cumulative_insights"]
    assert summary["test_planning"]["test_specs_total"] == counts["test_specs_total"] > 0
    assert summary["newest_iteration_at"] == planning["timestamp"]
    assert summary["data_as_of"] and summary["problems"] == []
    assert httpx.get(f"{served}/health").json()["status"] == "ok"


def test_a_dataset_that_does_not_exist_is_not_deployed(served: str, tmp_path: Path) -> None:
    workers = {w["name"]: w for w in httpx.get(f"{served}/api/summary").json()["workers"]}
    assert workers["implementation"]["status"] == "not deployed"
    assert "no dataset found" in workers["implementation"]["reason"]
    with serving(dashboard(tmp_path / "empty")) as url:
        summary = httpx.get(f"{url}/api/summary").json()
    assert summary["banner"] == "Down" and summary["expected"] == 0
    assert {w["status"] for w in summary["workers"]} == {"not deployed"}


def test_gradio_client_calls_the_public_endpoints(served: str) -> None:
    client = Client(served, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/summary", "/findings"}  # the page's own listeners are private
    summary = client.predict(api_name="/summary")
    direct = httpx.get(f"{served}/api/summary").json()
    assert summary["banner"] == direct["banner"] == "All Systems Operational"
    assert summary["findings_by_severity"] == direct["findings_by_severity"]
    assert [w["iterations"] for w in summary["workers"]] == [6, 3, 0]


def _findings(client: Client, worker: str, perspective: str, severity: str) -> list[list[Any]]:
    table = client.predict(worker, perspective, severity, api_name="/findings")
    assert table["headers"] == views.FINDING_HEADERS
    rows: list[list[Any]] = table["data"]
    return rows


def test_the_filters_narrow_the_findings_table(served: str) -> None:
    client = Client(served, verbose=False)
    every = _findings(client, "All", "All", "All")
    assert {row[1] for row in every} == {"analysis"}  # test specs are in their own table
    high = _findings(client, "All", "All", "high")
    assert 0 < len(high) < len(every) and {row[3] for row in high} == {"high"}
    assert _findings(client, "test-planning", "All", "All") == []
    security = _findings(client, "analysis", "Security Audit", "All")
    assert security and {row[2] for row in security} == {"Security Audit"}
    assert all(":" in row[4] and len(row[7]) == views.COMMIT_SHOWN for row in security)
    assert _findings(client, "analysis", "Security Audit", "no-such-severity") == []


# --- the Space's app.py, `autocoder serve dashboard` and `autocoder up` ---------------------


def _run_until(argv: list[str], env: dict[str, str], url: str, cwd: Path) -> tuple[dict, str]:
    """Start ``argv``, GET ``url`` until it answers, then Ctrl+C; the JSON and the output."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=cwd)  # fmt: skip
    answer: dict = {}
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not answer:
            try:
                answer = httpx.get(url, timeout=10).json()
            except httpx.HTTPError:
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    return answer, output


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "AUTOCODER_NETWORK": "0", "GRADIO_ANALYTICS_ENABLED": "False", **extra}


def test_space_app_py_serves_the_dashboard(worker_data: Path, tmp_path: Path) -> None:
    port = free_port()
    env = _env(AUTOCODER_DATA_DIR=str(worker_data), AUTOCODER_PORT=str(port))
    argv = [sys.executable, str(ROOT / "4_monitoring_dashboard" / "app.py")]
    summary, output = _run_until(argv, env, f"http://127.0.0.1:{port}/api/summary", tmp_path)
    assert [w["iterations"] for w in summary["workers"]] == [6, 3, 0]
    assert f"Monitoring Dashboard: http://127.0.0.1:{port}/" in output


def test_cli_serve_accepts_dashboard(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[list[str], Settings]] = []
    monkeypatch.setattr(launch, "serve_all", lambda names, settings, _ring, **_options: served.append(
        (names, settings)))  # fmt: skip
    assert main(["serve", "dashboard", "--data-dir", "d", "--port", "7999"]) == 0
    [(names, settings)] = served
    assert (names, settings.data_dir, settings.port) == (["dashboard"], Path("d"), 7999)


def test_up_starts_the_dashboard_first(shop_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "autocoder.cli", "up", "--target", str(shop_dir),
            "--data-dir", str(tmp_path / "data")]  # fmt: skip
    env = _env(AUTOCODER_PORT=str(port))
    health, output = _run_until(argv, env, f"http://127.0.0.1:{port}/health", tmp_path)
    assert health.get("app") == "dashboard", (health, output)
    urls = [line for line in output.splitlines() if ": http://127.0.0.1:" in line]
    assert urls[0].startswith(f"Monitoring Dashboard: http://127.0.0.1:{port}/")
    assert f":{port + 1}/" in urls[1] and f":{port + 2}/" in urls[2]


def test_the_dashboard_never_writes_to_the_datasets(
    worker_data: Path, pristine: dict[str, tuple[int, int]], served: str
) -> None:
    """After every test above (the served app, the Space's app.py) read the same datasets."""
    assert _tree(worker_data) == pristine


# --- without a server: the shared cache, the views and the charts ---------------------------


def view(name: str, status: str, **changes: Any) -> WorkerView:
    fields: dict[str, Any] = {
        "name": name, "title": name.title(), "location": f"/data/{name}", "status": status,
        "reason": "because", "iterations": 3, "last_updated": "2026-11-21T13:15:00+00:00",
        "current_perspective": "Security Audit", "error_rate_24h": 0.25, "space_url": None,
        "interval_s": 60.0,
    }  # fmt: skip
    return WorkerView(**{**fields, **changes})


def snapshot(**changes: Any) -> Snapshot:
    rows = [
        {"timestamp": "2026-11-21T13:15:00+00:00", "worker": "analysis", "perspective": "P1",
         "severity": "high", "file": "a.py", "line": 3, "rule": "R", "message": "m",
         "commit": "c0ffee"},
        {"timestamp": "2026-11-21T13:14:00+00:00", "worker": "test-planning", "perspective": "P2",
         "severity": "low", "file": "b.py", "line": None, "rule": "R", "message": "m",
         "commit": "c0ffee"},
    ]  # fmt: skip
    fields: dict[str, Any] = {
        "banner": "Degraded", "banner_detail": "Analysis <b> is stale", "online": 1, "expected": 2,
        "newest_iteration_at": "2026-11-21T13:15:00+00:00",
        "workers": [view("analysis", "stale"), view("implementation", "not deployed")],
        "metrics": [
            MetricCounts("Unique findings by severity", "findings_by_severity",
                         {"low": 2, "high": 1}, ("critical", "high", "medium", "low", "info")),
            MetricCounts("Unique findings by perspective", "findings_by_perspective", {"P1": 3}),
            MetricCounts("Test planning (cumulative)", "test_planning", {"test_specs_total": 5},
                         ("test_specs_total",)),
        ],
        "iterations_per_hour": [],
        "findings_by_commit": [], "specs_over_time": [], "latest_findings": rows,
        "data_as_of": "2026-11-21T13:19:58+00:00",
    }  # fmt: skip
    return Snapshot(**{**fields, **changes})


class Provider:
    def __init__(self, *results: Snapshot | Exception, gate: threading.Event | None = None):
        self.results, self.calls, self.gate = list(results), 0, gate

    def refresh(self) -> Snapshot:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        result = self.results[min(self.calls, len(self.results)) - 1]
        if isinstance(result, Exception):
            raise result
        return result


async def test_shared_snapshot_reads_once_for_many_tabs_and_keeps_the_last_good_view() -> None:
    clock = [0.0]
    provider = Provider(snapshot(), RuntimeError("hub down"))
    shared = SharedSnapshot(provider, max_age_s=3.0, clock=lambda: clock[0])
    first = await asyncio.gather(*(shared.get() for _ in range(5)))
    assert provider.calls == 1 and all(s is first[0] for s in first)
    clock[0] = 10.0
    failed = (await shared.get()).snapshot
    assert failed.banner == "Degraded" and failed.latest_findings == snapshot().latest_findings
    assert "refresh failed (RuntimeError: hub down)" in failed.problems[-1]
    assert (await shared.get()).figures is first[0].figures  # same series: charts not rebuilt


async def test_shared_snapshot_answers_from_cache_while_a_read_runs() -> None:
    clock, gate = [0.0], threading.Event()
    gate.set()
    shared = SharedSnapshot(Provider(snapshot()), max_age_s=3.0, clock=lambda: clock[0])
    old = await shared.get()
    gate.clear()
    shared.provider = Provider(snapshot(banner="Down"), gate=gate)
    clock[0] = 10.0
    slow = asyncio.create_task(shared.get())
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(shared.get(), 1) is old  # no waiting behind the slow read
    gate.set()
    assert (await slow).snapshot.banner == "Down"


async def test_a_first_read_that_fails_shows_down_with_the_reason() -> None:
    shown = await SharedSnapshot(Provider(OSError("disk gone"))).get()
    assert shown.snapshot.banner == "Down" and "OSError: disk gone" in shown.snapshot.banner_detail


def _outputs() -> tuple[int, int, int]:
    """Where a tick's charts, filters and tables start: after the banner, the overview, the
    workers and one box per metrics table of the catalog."""
    charts_at = 3 + metric_slots()
    filters_at = charts_at + len(charts.CHARTS)
    return charts_at, filters_at, filters_at + 3


async def test_a_tick_sends_the_charts_and_choices_only_when_they_changed() -> None:
    shown = await SharedSnapshot(Provider(snapshot())).get()
    charts_at, filters_at, tables_at = _outputs()
    first = render(shown, ("All", "All", "All"), {}, NOW)
    tables_end = tables_at + 2 * len(table_tabs())
    assert len(first) == tables_end + 3 + 1  # the funnel's words, the tasks' line and table
    assert first[charts_at:filters_at] == shown.figures
    assert first[filters_at].choices == [("All", "All"), ("analysis", "analysis"),
                                         ("test-planning", "test-planning")]  # fmt: skip
    again = render(shown, ("analysis", "gone", "All"), first[-1], NOW)
    assert again[charts_at:tables_at] == (gr.skip(),) * (len(charts.CHARTS) + 3)
    assert [row[1] for row in again[tables_at]] == ["analysis"]  # "gone" no longer filters
    assert again[tables_at + 1] == "rows 1-1 of 1 · page 1 of 1"
    assert again[tables_at + 2 : tables_at + 4] == ([], "no rows")


async def test_a_tick_sends_the_page_of_findings_the_tab_is_on() -> None:
    rows = [{**snapshot().latest_findings[0], "line": n} for n in range(45)]
    shown = await SharedSnapshot(Provider(snapshot(latest_findings=rows))).get()
    tables_at = _outputs()[2]
    second = render(shown, ("All", "All", "All"), {}, NOW, pages=(2, 1))
    assert [row[4] for row in second[tables_at]] == [f"a.py:{n}" for n in range(20, 40)]
    assert second[tables_at + 1] == "rows 21-40 of 45 · page 2 of 3"
    beyond = render(shown, ("All", "All", "All"), {}, NOW, pages=(9, 1))
    assert beyond[tables_at + 1] == "rows 41-45 of 45 · page 3 of 3"  # past the end: the last


def test_refresh_period_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOCODER_DASHBOARD_REFRESH_S", raising=False)
    assert load_settings().dashboard_refresh_s == 10.0
    monkeypatch.setenv("AUTOCODER_DASHBOARD_REFRESH_S", "2.5")
    assert load_settings().dashboard_refresh_s == 2.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("AUTOCODER_DASHBOARD_REFRESH_S", bad)
        with pytest.raises(ConfigError, match="AUTOCODER_DASHBOARD_REFRESH_S"):
            load_settings()


def test_views_render_the_banner_overview_and_worker_rows() -> None:
    snap = snapshot(problems=["shard 7 is corrupt"])
    banner = views.banner_html(snap)
    assert "ac-degraded" in banner and "Analysis &lt;b&gt; is stale" in banner
    overview = views.overview_markdown(snap, NOW)
    assert "1 of 2 workers online" in overview and "5 min ago · 13:15 UTC" in overview
    assert "Data as of 2 s ago · 13:19 UTC" in overview and "- shard 7 is corrupt" in overview
    stale, missing = views.worker_rows(snap, NOW)
    assert stale[1].endswith("stale") and stale[5] == "25%" and stale[6:8] == ["—", "—"]
    assert missing[1].endswith("not deployed") and missing[3].startswith("5 min ago")
    assert views.when(None, NOW) == "never"


def test_the_last_error_is_on_the_worker_row_cut_short_with_the_whole_text_on_hover() -> None:
    long = "TargetError: " + "target '/nope' does not exist; " * 6
    failing = view("analysis", "online", last_error=long, last_error_at="2026-11-21T13:15:00+00:00")
    cell = views.worker_rows(snapshot(workers=[failing]), NOW)[0][6]
    assert cell.startswith('<span class="ac-clip" title="TargetError: target &#x27;/nope&#x27;')
    assert "(5 min ago · 13:15 UTC)</span>" not in cell and cell.endswith("…</span>")
    assert "5 min ago · 13:15 UTC)" in cell.split('title="')[1]  # the whole text, with the time
    short = view("analysis", "online", last_error="boom", last_error_at="2026-11-21T13:15:00+00:00")
    assert views.worker_rows(snapshot(workers=[short]), NOW)[0][6] == "boom (5 min ago · 13:15 UTC)"


def test_the_overview_says_which_perspectives_were_skipped_and_why() -> None:
    run = SkippedRun("Analysis Worker", "Architecture Review",
                     "no Python package at the top or under src/ (no __init__.py)",
                     "2026-11-21T13:15:00+00:00")  # fmt: skip
    overview = views.overview_markdown(snapshot(skipped=[run]), NOW)
    assert "**Skipped perspectives**" in overview
    assert (
        "- Architecture Review (Analysis Worker), 5 min ago · 13:15 UTC: no Python package "
        "at the top or under src/ (no \\_\\_init\\_\\_.py)"
    ) in overview  # not bold "init"
    assert "Skipped perspectives" not in views.overview_markdown(snapshot(), NOW)


def test_the_banner_shows_each_worker_in_trouble_on_its_own_line() -> None:
    detail = (
        "Analysis: the last 3 iterations failed: boom; again\nTest planning: 1 unreadable shard x"
    )
    banner = views.banner_html(snapshot(banner_detail=detail))
    assert "<div>Analysis: the last 3 iterations failed: boom; again</div>" in banner
    assert "<div>Test planning: 1 unreadable shard x</div>" in banner


def test_views_filter_the_findings() -> None:
    snap = snapshot()
    assert views.filter_choices(snap)["worker"] == ["All", "analysis", "test-planning"]
    rows = views.filter_findings(snap.latest_findings, "All", None, "low")
    assert [r["worker"] for r in rows] == ["test-planning"]
    table = views.finding_rows(snap.latest_findings, NOW)
    assert [row[4] for row in table] == ["a.py:3", "b.py"]
    assert views.kept_filters(("gone", "P1", None), views.filter_choices(snap)) == [
        "All", "P1", "All",
    ]  # fmt: skip


def test_charts_have_an_empty_state_and_plot_the_series() -> None:
    for chart in charts.CHARTS:
        texts = [a.text for a in chart(snapshot()).layout.annotations]
        assert texts and texts[0].startswith("No ")
    full = snapshot(
        iterations_per_hour=[{"worker": "analysis", "hour": "2026-11-21T13:00:00+00:00",
                              "iterations": 6}],
        findings_by_commit=[{"commit": "c0ffee", "severity": s, "findings": 2}
                            for s in ("low", "high")],
        specs_over_time=[{"timestamp": "2026-11-21T13:15:00+00:00", "test_specs_total": 5,
                          "test_specs_active": 4}],
    )  # fmt: skip
    per_hour, by_commit, specs, _ = (chart(full) for chart in charts.CHARTS)
    assert list(per_hour.data[0].y) == [6] and per_hour.data[0].name == "analysis"
    assert [trace.name for trace in by_commit.data] == ["high", "low"]  # by severity
    active, total = specs.data  # "total" drawn last, on top, dashed: never hidden by "active"
    assert (active.name, total.name) == ("active", "total")
    assert total.line.dash == "dash" and total.line.color != active.line.color
    assert total.marker.symbol != active.marker.symbol
