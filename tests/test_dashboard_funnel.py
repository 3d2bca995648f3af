"""The dashboard's Traceability funnel and Tasks table, over datasets the real stores wrote.

The analysis and implementation datasets are written with ``LocalStore`` under the workers'
real catalog entries, with cumulative insights made by the workers' real insights classes; task
rows go in with an iteration (the store) and between iterations (``write_task_rows``), so a
task's newest state must win wherever it was written. The Hub case runs against the
protocol-level Hub server and counts the requests a refresh makes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from huggingface_hub import HfApi

from autocoder.apps.dashboard import charts, sections
from autocoder.apps.dashboard.data import DashboardData
from autocoder.apps.dashboard.model import WorkerSource
from autocoder.apps.dashboard.sources import worker_sources
from autocoder.engine.perspective import PerspectiveResult
from autocoder.schema import Finding, PatchFields, Record, TargetRef, TaskRow, utc_timestamp
from autocoder.settings import Settings
from autocoder.store.local import LocalStore
from autocoder.store.tasklog import requeue_running, write_task_rows
from autocoder.workers.analysis.info import ANALYSIS
from autocoder.workers.analysis.insights import AnalysisInsights
from autocoder.workers.implementation.info import IMPLEMENTATION
from autocoder.workers.implementation.insights import ImplementationInsights

from hubserver import TEST_TOKEN, TEST_USER, HubServer

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=10)
PR = "https://github.com/acme/shop/pull/7"
NEEDS_LLM = "a feature task needs a language model: set AUTOCODER_LLM_BASE_URL"


class Stage:
    """A stand-in for one perspective: the insights classes read only its id and name."""

    def __init__(self, perspective_id: str, name: str) -> None:
        self.id, self.name = perspective_id, name

    def run(self, ctx: Any) -> PerspectiveResult:
        raise AssertionError("a stand-in: the insights read its id and name, never run it")


class Clock:
    now: ClassVar[datetime] = NOW

    def __call__(self) -> datetime:
        return self.now


DEEP = Stage("deep_understanding", "Deep Understanding")
PLAN = Stage("implementation_plan", "Implementation Plan")
AUDIT = Stage("security_audit", "Security Audit")


def at(minutes: int) -> str:
    return utc_timestamp(T0 + timedelta(minutes=minutes))


def task(n: int, status: str, minutes: int, **fields: Any) -> TaskRow:
    """Task ``n`` in ``status``, created at T0 and last changed ``minutes`` later."""
    return TaskRow.model_validate({
        "id": f"task-{n:016x}", "type": "bug_fix", "priority": 2,
        "description": f"bug fix in shop/orders.py: issue {n}", "file": "shop/orders.py",
        "issue": f"issue {n}", "source": "api", "status": status, "created_at": at(0),
        "updated_at": at(minutes), "iteration": 0, "worker": "implementation", "repo": "shop",
        "commit": "c0ffee", **fields,
    })  # fmt: skip


def patch(n: int, status: str, url: str = "") -> PatchFields:
    return PatchFields(
        id=f"patch-{n:016x}", item_id="item-1", fingerprints=["f1"], spec_ids=[],
        base_commit="c0ffee", fixer="ruff", files=["shop/orders.py"], diff="--- a\n+++ b\n",
        status=status, evidence={}, published_url=url,
        published_branch="autocoder/item-1" if url else "",
    )  # fmt: skip


def record(worker: str, iteration: int, stage: Stage, insights: dict[str, Any]) -> Record:
    return Record(
        iteration=iteration, timestamp=at(iteration), worker=worker, perspective_id=stage.id,
        perspective_name=stage.name, target=TargetRef(repo="shop", commit="c0ffee"),
        status="ok", error=None, duration_s=1.0, analysis={}, cumulative_insights=insights,
    )  # fmt: skip


def store_of(data: Path, info: Any) -> LocalStore:
    return LocalStore(data / info.dataset, info.title, info.description, info.configs)


def analysis_data(data: Path) -> None:
    """One Security Audit pass with three unique findings (one of them found twice)."""
    insights = AnalysisInsights({})
    found = [Finding(tool="bandit", rule="B506", severity="high", file="shop/orders.py", line=n,
                     message="yaml.load", fingerprint=f"f{n % 3}") for n in range(4)]  # fmt: skip
    insights.apply(1, AUDIT, "ok", PerspectiveResult(summary="3 findings", findings=found))
    store_of(data, ANALYSIS).append(record("analysis", 1, AUDIT, insights.summary()), {}, {})


def implementation_data(data: Path) -> Path:
    """Two iterations: task 1 running in the first, completed (a published PR) in the second,
    with one verified and published patch and one failed; then, between iterations, task 2
    submitted (pending) and task 3 failed for want of a language model."""
    store, insights = store_of(data, IMPLEMENTATION), ImplementationInsights({})
    running = task(1, "running", 1, iteration=1)
    first = PerspectiveResult(summary="took item-1", metrics={"items_retired": 0},
                              details={"item_id": "item-1"}, items=[running])  # fmt: skip
    insights.apply(1, DEEP, "ok", first)
    store.append(record("implementation", 1, DEEP, insights.summary()), {"tasks": [running]}, {})
    done = task(1, "completed", 2, iteration=2, branch_name="autocoder/item-1", published_url=PR,
                patch_ids=["patch-0000000000000001"])  # fmt: skip
    patches = [patch(1, "verified", PR), patch(2, "failed")]
    second = PerspectiveResult(summary="2 patches", details={"item_id": "item-1"},
                               items=[*patches, done])  # fmt: skip
    insights.apply(2, PLAN, "ok", second)
    store.append(record("implementation", 2, PLAN, insights.summary()), {"tasks": [done]}, {})
    between = [task(2, "pending", 3), task(3, "failed", 4, type="feature", error_detail=NEEDS_LLM)]
    write_task_rows(store.root, between)
    return store.root


def dashboard(data: Path, **options: Any) -> DashboardData:
    sources = worker_sources(Settings(data_dir=data), worker_urls="", hub=False)
    return DashboardData(sources, clock=Clock(), min_refresh_s=0, **options)


def test_the_funnel_counts_each_stage_from_the_workers_insights(tmp_path: Path) -> None:
    analysis_data(tmp_path)
    implementation_data(tmp_path)
    snapshot = dashboard(tmp_path).refresh()
    assert snapshot.summary()["traceability"] == {
        "findings": 3, "items_taken": 1, "patches": 2, "verified": 1, "published": 1, "notes": [],
    }  # fmt: skip
    said = sections.funnel_markdown(snapshot)
    assert said.startswith("**3** findings (unique findings the analysis worker has recorded")
    assert "→ **1** items taken (work items the implementation worker took, from" in said
    assert "→ **2** patches" in said and "→ **1** verified" in said
    assert said.endswith("→ **1** published (patches published as a branch or a pull request)")
    figure = charts.traceability(snapshot)
    assert list(figure.data[0].y) == ["findings", "items taken", "patches", "verified",
                                      "published"]  # fmt: skip
    assert list(figure.data[0].x) == [3, 1, 2, 1, 1]
    assert figure.layout.yaxis.ticktext[1] == "items taken: 1"  # a 0 would have no bar to show it


def test_missing_datasets_give_zeros_with_a_note_never_a_guess(tmp_path: Path) -> None:
    snapshot = dashboard(tmp_path).refresh()
    traced = snapshot.summary()["traceability"]
    assert [traced[k] for k in ("findings", "items_taken", "patches", "verified", "published")] == [
        0, 0, 0, 0, 0,
    ]  # fmt: skip
    assert traced["notes"] == [
        f"no dataset found for the Analysis Worker ({tmp_path / ANALYSIS.dataset})",
        f"no dataset found for the Implementation Worker ({tmp_path / IMPLEMENTATION.dataset})",
    ]
    said = sections.funnel_markdown(snapshot)
    assert "- counted as 0: no dataset found for the Analysis Worker" in said
    assert charts.traceability(snapshot).layout.annotations[0].text == "No findings or patches yet"
    assert sections.tasks_markdown(snapshot).startswith(
        "No tasks: no worker that takes tasks has a dataset yet. Hand the implementation worker "
        "tasks with a `tasks.json` at the target's root"
    )
    assert "`POST /api/tasks`" in sections.tasks_markdown(snapshot)
    assert sections.task_rows(snapshot, NOW) == []


def test_a_record_without_a_count_gives_zero_and_says_so(tmp_path: Path) -> None:
    """An older worker's records lack the newer counts (here: patches_published)."""
    analysis_data(tmp_path)
    store = store_of(tmp_path, IMPLEMENTATION)
    old = {"items_taken": 4, "patches_total": 3, "patches_verified": 2}
    store.append(record("implementation", 1, PLAN, old), {}, {})
    traced = dashboard(tmp_path).refresh().summary()["traceability"]
    assert (traced["items_taken"], traced["verified"], traced["published"]) == (4, 2, 0)
    assert traced["notes"] == [
        "the Implementation Worker's newest record has no patches_published count"
    ]


def test_the_tasks_table_shows_each_tasks_newest_state_newest_first(tmp_path: Path) -> None:
    implementation_data(tmp_path)
    snapshot = dashboard(tmp_path).refresh()
    assert snapshot.task_counts == {"total": 3, "pending": 1, "running": 0, "completed": 1,
                                    "failed": 1}  # fmt: skip
    rows = sections.task_rows(snapshot, NOW)
    assert [row[0] for row in rows] == [f"task-{n:016x}" for n in (3, 2, 1)]  # newest first
    failed, pending, completed = rows
    assert completed[3].endswith("completed")  # the running row of iteration 1 is history
    assert completed[6] == f'<a href="{PR}" target="_blank" rel="noopener">autocoder/item-1</a>'
    assert completed[5] == "8 min ago · 12:02 UTC<br><small>created 10 min ago · 12:00 UTC</small>"
    assert (pending[1], pending[2], pending[6], pending[7]) == ("bug_fix", 2, "—", "—")
    assert failed[1] == "feature" and failed[7] == NEEDS_LLM
    assert failed[4] == "bug fix in shop/orders.py: issue 3"
    assert sections.tasks_markdown(snapshot) == (
        "**3 tasks**: 1 pending, 1 completed, 1 failed, newest first."
    )
    assert snapshot.summary()["tasks"]["total"] == 3


def test_a_state_written_between_iterations_replaces_the_last_one_at_the_next_refresh(
    tmp_path: Path,
) -> None:
    root = implementation_data(tmp_path)
    data = dashboard(tmp_path)
    assert data.refresh().tasks[1]["status"] == "pending"
    write_task_rows(root, [task(2, "running", 5)])
    assert requeue_running(root, at(6)) == [f"task-{2:016x}"]  # a restart put it back
    snapshot = data.refresh()
    newest = snapshot.tasks[0]
    assert (newest["id"], newest["status"], newest["updated_at"]) == (
        f"task-{2:016x}", "pending", at(6),
    )  # fmt: skip
    assert [t["status"] for t in snapshot.tasks] == ["pending", "failed", "completed"]


def test_a_long_description_is_cut_with_the_whole_text_on_hover_and_secrets_stay_out(
    tmp_path: Path,
) -> None:
    root = implementation_data(tmp_path)
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    long = "make the checkout page faster " * 8
    write_task_rows(root, [task(4, "failed", 7, type="feature", description=long,
                                error_detail=f"push refused for token {secret}")])  # fmt: skip
    snapshot = dashboard(tmp_path).refresh()
    row = sections.task_rows(snapshot, NOW)[0]
    assert row[4].startswith('<span class="ac-clip" title="make the checkout page faster')
    assert row[4].endswith("…</span>") and len(row[4]) < 2 * len(long) + 60
    assert secret not in repr(snapshot) and secret not in repr(row)


def test_a_corrupt_tasks_shard_is_skipped_and_named_and_the_other_tasks_stay(
    tmp_path: Path,
) -> None:
    root = implementation_data(tmp_path)
    bad = root / "data/tasks/between/99999999999999999999-deadbeef.jsonl"
    bad.write_bytes(b'{"id": "task-1", "type"\n')
    snapshot = dashboard(tmp_path).refresh()
    assert len(snapshot.tasks) == 3
    assert any("tasks shard skipped" in p and bad.name in p for p in snapshot.problems)


# -- on the Hub --------------------------------------------------------------------------------
HUB_REPO = f"{TEST_USER}/{IMPLEMENTATION.dataset}"


def counted(hub: HubServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in hub.requests if "agent-harnesses" not in r.path]


@pytest.fixture
def api(hub: HubServer) -> HfApi:
    api = HfApi(token=TEST_TOKEN)
    api.create_repo(HUB_REPO, repo_type="dataset", private=True)
    return api


def test_on_the_hub_a_refresh_downloads_only_task_files_it_has_not_read(
    hub: HubServer, api: HfApi, tmp_path: Path
) -> None:
    root = implementation_data(tmp_path)
    api.upload_folder(repo_id=HUB_REPO, folder_path=root, repo_type="dataset")
    source = replace(WorkerSource.of(IMPLEMENTATION, HUB_REPO), interval_s=3600.0)
    data = DashboardData([source], token=TEST_TOKEN, clock=Clock(), min_refresh_s=0)
    assert [t["status"] for t in data.refresh().tasks] == ["failed", "pending", "completed"]

    hub.requests.clear()
    assert len(data.refresh().tasks) == 3
    assert counted(hub) == [f"GET /api/datasets/{HUB_REPO}/refs"]  # main did not move

    added = write_task_rows(root, [task(2, "completed", 8)])
    api.upload_file(path_or_fileobj=root / added, path_in_repo=added, repo_id=HUB_REPO,
                    repo_type="dataset")  # fmt: skip
    hub.requests.clear()
    snapshot = data.refresh()
    assert (snapshot.tasks[0]["id"], snapshot.tasks[0]["status"]) == (f"task-{2:016x}",
                                                                      "completed")  # fmt: skip
    task_downloads = {r.rsplit("/", 1)[-1] for r in counted(hub) if "/resolve/" in r
                      and "/data/tasks/" in r}  # fmt: skip
    assert task_downloads == {added.rsplit("/", 1)[-1]}  # the new file only
    assert TEST_TOKEN not in repr(snapshot)
