"""A worker added to the catalog is served, run, read and shown with no other change.

The throwaway "docs" worker below is what adding a worker takes: a WorkerInfo, a spec with its
perspectives, and one catalog entry (here ``monkeypatch``). The CLI, ``up``, the worker page and
the dashboard must pick it up without a line changed anywhere else.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from autocoder.apps import launch
from autocoder.apps.dashboard.data import DashboardData
from autocoder.cli import main
from autocoder.engine.logbuffer import RingBuffer
from autocoder.engine.perspective import PerspectiveResult, Registry, RunContext
from autocoder.engine.spec import MetricTable, PageTable, WorkerInfo, WorkerSpec, as_finding
from autocoder.schema import FINDINGS, RECORDS
from autocoder.settings import Settings
from autocoder.workers import catalog
from autocoder.workers.analysis.evidence import finding
from autocoder.workers.analysis.insights import AnalysisInsights
from autocoder.workers.analysis.records import finding_rows, record_analysis

from appkit import serving

SHOP = Path(__file__).parent / "fixtures" / "shop"


class MissingDocstrings:
    id: ClassVar[str] = "missing_docstrings"
    name: ClassVar[str] = "Missing Docstrings"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        found = []
        for file in ctx.sources.python:
            for node in ast.walk(ctx.sources.parse(file) or ast.Module([], [])):
                public = isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
                if public and ast.get_docstring(node) is None:
                    found.append(finding(ctx.sources, tool="docs", rule="D103", severity="low",
                                         file=file, line=node.lineno,
                                         message=f"{node.name} has no docstring"))  # fmt: skip
        return PerspectiveResult(summary=f"{len(found)} public functions lack a docstring",
                                 findings=found)  # fmt: skip


DOCS = WorkerInfo(
    name="docs",
    title="Docs Worker",
    dataset="autocoder-docs-results",
    description="One record per iteration of a throwaway docs worker.",
    default_interval_s=60.0,
    space="autocoder-docs",
    folder="5_docs_worker",
    configs=(RECORDS, FINDINGS),
    table_rows={FINDINGS.name: as_finding},
    metrics=(MetricTable("Docs findings", "docs_findings", insight="unique_findings_by_severity"),),
    page_table=PageTable("Undocumented", "top_findings", ("file", "line", "message")),
    load="test_fourth_worker:docs_spec",
)


def docs_spec() -> WorkerSpec:
    return WorkerSpec(
        info=DOCS,
        registry=Registry([MissingDocstrings()]),
        new_insights=AnalysisInsights,
        item_rows=finding_rows,
        record_analysis=record_analysis,
    )


@pytest.fixture
def docs_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one catalog line."""
    monkeypatch.setattr(catalog, "CATALOG", [*catalog.CATALOG, DOCS])
    for name in ("HF_TOKEN", "HF_USERNAME", "AUTOCODER_HUB_REPO", "AUTOCODER_WORKER_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")


def test_the_cli_runs_and_reads_a_worker_added_to_the_catalog(
    docs_registered: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert main(["once", "docs", "--target", str(SHOP), "--data-dir", str(data)]) == 0
    capsys.readouterr()
    assert main(["latest", "docs", "--data-dir", str(data)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["worker"], record["status"]) == ("docs", "ok")
    assert record["perspective_name"] == "Missing Docstrings"
    assert (data / "autocoder-docs-results" / "data" / "findings").is_dir()


def test_up_serves_a_worker_added_to_the_catalog_with_its_page(
    docs_registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    def serve_all(names: list[str], settings: Settings, ring: RingBuffer) -> None:
        started.extend(names)

    monkeypatch.setattr(launch, "serve_all", serve_all)  # the sockets and uvicorn stay out
    assert main(["up", "--target", str(SHOP), "--data-dir", str(tmp_path)]) == 0
    assert started[0] == "dashboard" and "docs" in started
    settings = Settings(target=str(SHOP), data_dir=tmp_path, interval_s=3600.0)
    app, title, _about = launch._app("docs", settings, RingBuffer())
    assert title == "Docs Worker"
    with serving(app) as url:
        health = httpx.get(f"{url}/health", timeout=30).json()
        config = httpx.get(f"{url}/config", timeout=30).json()
    assert (health["worker"], health["dataset"]) == ("docs", "autocoder-docs-results")
    shown = [str(c.get("props", {}).get("value")) for c in config["components"]]
    assert any("Undocumented" in text for text in shown)  # the page table's own heading


def test_the_dashboard_shows_a_worker_added_to_the_catalog(
    docs_registered: None, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    assert main(["once", "docs", "--target", str(SHOP), "--data-dir", str(data)]) == 0
    snapshot = DashboardData.from_settings(Settings(data_dir=data), worker_urls="").refresh()
    views: dict[str, Any] = {view.name: view for view in snapshot.workers}
    assert list(views)[-1] == "docs" and views["docs"].status == "online"
    assert views["docs"].iterations == 1
    docs_rows = [row for row in snapshot.latest_findings if row["worker"] == "docs"]
    assert docs_rows and all(row["rule"] == "D103" for row in docs_rows)
    counts = snapshot.summary()["docs_findings"]  # its metrics table, under its own key
    assert counts["low"] == len(docs_rows) and sum(counts.values()) == len(docs_rows)
