"""The dashboard's data layer: the incremental dataset tail (local and Hub) and DashboardData."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from autocoder.apps.dashboard.data import DashboardData
from autocoder.apps.dashboard.model import FINDING_COLUMNS, WorkerSource
from autocoder.cli import main
from autocoder.errors import HubUnavailable, StoreError
from autocoder.schema import FINDINGS, RECORDS, SPECS, severity_rank, utc_timestamp
from autocoder.settings import Settings
from autocoder.store.layout import jsonl, shard_path
from autocoder.store.tail import DatasetTail, HubTailSource, LocalTailSource

from hubserver import TEST_TOKEN, TEST_USER, HubServer

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
REPO = f"{TEST_USER}/autocoder-analysis-results"


def record(
    i: int, at: datetime | None = None, perspective: str = "Code Quality Analysis",
    status: str = "ok", commit: str = "c0ffee", worker: str = "analysis",
) -> dict[str, Any]:  # fmt: skip
    """A valid Record row of iteration ``i``, one minute after the previous by default."""
    return {
        "iteration": i, "timestamp": utc_timestamp(at or T0 + timedelta(minutes=i)),
        "worker": worker, "perspective_id": perspective.lower().replace(" ", "_"),
        "perspective_name": perspective, "target": {"repo": "shop", "commit": commit},
        "status": status, "error": "boom" if status == "error" else None, "duration_s": 1.0,
        "analysis": {"findings_by_severity": {"high": 1, "low": i % 3}},
        "cumulative_insights": {"unique_findings_by_severity": {"high": i}},
    }  # fmt: skip


def finding(rec: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "iteration": rec["iteration"], "timestamp": rec["timestamp"], "worker": rec["worker"],
        "perspective_id": rec["perspective_id"], "perspective_name": rec["perspective_name"],
        "repo": "shop", "commit": rec["target"]["commit"], "tool": "ruff", "rule": f"R{n}",
        "severity": "medium", "file": "shop/orders.py", "line": n, "message": f"finding {n}",
        "fingerprint": f"{rec['iteration']}-{n}",
    }  # fmt: skip


def files_of(rows: list[dict[str, Any]], findings: int = 0) -> dict[str, bytes]:
    out = {shard_path(RECORDS, r["iteration"]): jsonl([r]) for r in rows}
    for r in rows if findings else []:
        out[shard_path(FINDINGS, r["iteration"])] = jsonl(finding(r, n) for n in range(findings))
    return out


def write(root: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)


def local_tail(root: Path, **options: Any) -> DatasetTail:
    return DatasetTail(LocalTailSource(root), (FINDINGS,), **options)


# -- the local tail --------------------------------------------------------------------------------
def test_second_poll_with_nothing_new_lists_only_the_newest_bucket_and_reads_nothing(
    tmp_path: Path,
) -> None:
    write(tmp_path, files_of([record(i) for i in range(1, 2002)]))  # buckets 0000 to 0002
    tail = local_tail(tmp_path, backfill_s=1e9)
    first = tail.poll()
    assert [r["iteration"] for r in first.new_records] == list(range(1, 2002))
    again = tail.poll()
    assert again.exists and again.new_records == [] and again.read == 0
    assert again.listed == ["data/records", "data/records/0002"]


def test_poll_returns_only_the_shards_written_since_the_last_poll(tmp_path: Path) -> None:
    write(tmp_path, files_of([record(i) for i in range(1, 11)]))
    tail = local_tail(tmp_path)
    assert len(tail.poll().new_records) == 10
    write(tmp_path, files_of([record(11), record(12)]))
    update = tail.poll()
    assert [r["iteration"] for r in update.new_records] == [11, 12]
    assert update.read == 2 + 1  # two records, one findings shard (one perspective)
    assert tail.last_iteration == 12


def test_bucket_rollover_from_1000_to_1001_is_found(tmp_path: Path) -> None:
    write(tmp_path, files_of([record(i) for i in range(995, 1001)]))
    tail = local_tail(tmp_path)
    assert tail.poll().new_records[-1]["iteration"] == 1000
    write(tmp_path, files_of([record(1001), record(1002)]))
    update = tail.poll()
    assert [r["iteration"] for r in update.new_records] == [1001, 1002]
    assert update.listed == ["data/records", "data/records/0001", "data/records/0000"]
    assert (tmp_path / "data/records/0001/000001001.jsonl").is_file()


def test_corrupt_shards_are_reported_once_and_skipped_for_good(tmp_path: Path) -> None:
    write(tmp_path, files_of([record(1), record(4)]))
    write(tmp_path, {shard_path(RECORDS, 2): b'{"iteration": 2, "timest'})
    write(tmp_path, {shard_path(RECORDS, 3): jsonl([{**record(3), "status": "maybe"}])})
    tail = local_tail(tmp_path)
    update = tail.poll()
    assert [r["iteration"] for r in update.new_records] == [1, 4]
    assert len(update.problems) == 2
    assert "000000002.jsonl skipped: line 1 is not valid JSON" in update.problems[1]
    assert "000000003.jsonl skipped: status" in update.problems[0]
    assert update.unreadable == [shard_path(RECORDS, 2)]  # a schema-invalid shard is not one
    write(tmp_path, files_of([record(5)]))
    later = tail.poll()
    assert [r["iteration"] for r in later.new_records] == [5] and later.problems == []


def test_missing_folder_is_not_there_and_an_empty_dataset_exists(tmp_path: Path) -> None:
    missing = local_tail(tmp_path / "autocoder-implementation-results").poll()
    assert not missing.exists and missing.new_records == []
    (tmp_path / "empty").mkdir()
    empty = local_tail(tmp_path / "empty").poll()
    assert empty.exists and empty.new_records == []


def test_first_poll_reads_back_only_the_backfill_window(tmp_path: Path) -> None:
    hours = [record(i, T0 + timedelta(hours=i)) for i in range(1, 301)]  # 300 h of history
    write(tmp_path, files_of(hours))
    update = local_tail(tmp_path).poll()  # a 7-day window: 168 h before the newest record
    assert [r["iteration"] for r in update.new_records] == list(range(132, 301))
    capped = local_tail(tmp_path, backfill_max=50).poll()
    assert [r["iteration"] for r in capped.new_records] == list(range(251, 301))


def test_findings_are_read_only_for_the_newest_pass_of_each_perspective(tmp_path: Path) -> None:
    names = ["Code Quality Analysis", "Security Audit"]
    rows = [record(i, perspective=names[i % 2]) for i in range(1, 21)]
    write(tmp_path, files_of(rows, findings=3))
    update = local_tail(tmp_path).poll()
    assert sorted({f["iteration"] for f in update.new_rows["findings"]}) == [19, 20]
    assert len(update.new_rows["findings"]) == 6
    assert update.read == 20 + 2


# -- the Hub tail ----------------------------------------------------------------------------------
def push(api: HfApi, files: dict[str, bytes]) -> None:
    operations = [CommitOperationAdd(path, content) for path, content in files.items()]
    api.create_commit(REPO, operations, commit_message="records", repo_type="dataset")


def counted(hub: HubServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in hub.requests if "agent-harnesses" not in r.path]


@pytest.fixture
def api(hub: HubServer) -> HfApi:
    api = HfApi(token=TEST_TOKEN)
    api.create_repo(REPO, repo_type="dataset", private=True)
    return api


def test_hub_poll_with_nothing_new_makes_exactly_one_call(hub: HubServer, api: HfApi) -> None:
    push(api, files_of([record(i) for i in range(995, 1001)], findings=2))
    tail = DatasetTail(HubTailSource(REPO, TEST_TOKEN), (FINDINGS,))
    first = tail.poll()
    assert [r["iteration"] for r in first.new_records] == list(range(995, 1001))
    assert len(first.new_rows["findings"]) == 2  # the newest pass of the one perspective
    hub.requests.clear()
    assert tail.poll().new_records == []
    assert counted(hub) == [f"GET /api/datasets/{REPO}/refs"]


def test_hub_poll_downloads_only_new_shards_across_a_bucket_rollover(
    hub: HubServer, api: HfApi
) -> None:
    push(api, files_of([record(i) for i in range(995, 1001)]))
    tail = DatasetTail(HubTailSource(REPO, TEST_TOKEN), (FINDINGS,))
    tail.poll()
    push(api, files_of([record(1001)], findings=1))
    hub.requests.clear()
    update = tail.poll()
    assert [r["iteration"] for r in update.new_records] == [1001]
    assert [f["iteration"] for f in update.new_rows["findings"]] == [1001]
    downloads = [r for r in counted(hub) if "/resolve/" in r]
    assert {d.rsplit("/", 3)[-3] for d in downloads} == {"records", "findings"}
    assert all(d.endswith("0001/000001001.jsonl") for d in downloads)
    assert f"GET /api/datasets/{REPO}/tree/{tail.head}/data/records/0001" in counted(hub)


def test_hub_repo_that_does_not_exist_is_not_deployed(hub: HubServer) -> None:
    tail = DatasetTail(HubTailSource(f"{TEST_USER}/autocoder-implementation-results", TEST_TOKEN))
    assert tail.poll().exists is False
    assert len(counted(hub)) == 1


def test_hub_errors_raise_and_leave_the_tail_where_it_was(hub: HubServer, api: HfApi) -> None:
    push(api, files_of([record(1), record(2)]))
    tail = DatasetTail(HubTailSource(REPO, TEST_TOKEN))
    hub.fail_next(1, status=429, retry_after=7, path_contains="/refs")
    with pytest.raises(HubUnavailable) as caught:
        tail.poll()
    assert caught.value.retry_after_s == 7
    hub.fail_next(1, status=403, path_contains="/tree/")  # after the head moved (no retry on 4xx)
    with pytest.raises(StoreError, match="HTTP 403"):
        tail.poll()
    assert tail.last_iteration == 0
    assert [r["iteration"] for r in tail.poll().new_records] == [1, 2]


# -- DashboardData ---------------------------------------------------------------------------------
class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sources_at(data: Path) -> list[WorkerSource]:
    def at(name: str, dataset: str, interval: float) -> WorkerSource:
        return WorkerSource(name, name.title(), dataset, interval, str(data / dataset))

    return [
        at("analysis", "autocoder-analysis-results", 60.0),
        at("test-planning", "autocoder-test-planning-results", 60.0),
        at("implementation", "autocoder-implementation-results", 120.0),
    ]


def newest(data: Path, dataset: str) -> dict[str, Any]:
    shards = sorted((data / dataset / "data/records").rglob("*.jsonl"))
    return dict(json.loads(shards[-1].read_text()))


def run_once(worker: str, target: Path, data: Path, iterations: int) -> None:
    args = ["once", worker, "--target", str(target), "--data-dir", str(data)]
    assert main([*args, "--iterations", str(iterations)]) == 0


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    monkeypatch.delenv("AUTOCODER_WORKER_URLS", raising=False)


def test_dashboard_over_real_analysis_and_test_planning_output(
    shop_repo: Path, tmp_path: Path, offline: None
) -> None:
    data = tmp_path / "data"
    run_once("analysis", shop_repo, data, 6)
    run_once("test-planning", shop_repo, data, 15)
    last = newest(data, "autocoder-analysis-results")
    planning = newest(data, "autocoder-test-planning-results")
    clock = Clock(datetime.fromisoformat(planning["timestamp"]) + timedelta(seconds=30))
    snap = DashboardData(sources_at(data), clock=clock).refresh()

    assert (snap.banner, snap.online, snap.expected) == ("All Systems Operational", 2, 2)
    by_name = {w.name: w for w in snap.workers}
    assert by_name["analysis"].status == "online" and by_name["analysis"].iterations == 6
    assert by_name["analysis"].current_perspective == "Test Coverage Analysis"
    assert by_name["analysis"].error_rate_24h == 0.0
    assert by_name["test-planning"].iterations == 15
    assert by_name["implementation"].status == "not deployed"
    insights = last["cumulative_insights"]
    assert snap.counts("findings_by_severity") == insights["unique_findings_by_severity"]
    assert snap.counts("findings_by_perspective") == insights["unique_findings_by_perspective"]
    assert (
        snap.counts("test_planning")["test_specs_total"]
        == planning["cumulative_insights"]["test_specs_total"]
    )
    assert snap.newest_iteration_at == planning["timestamp"]

    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=shop_repo, capture_output=True, text=True
    ).stdout.strip()
    commits = {row["commit"] for row in snap.findings_by_commit}
    assert commits == {head}
    high = [r for r in snap.findings_by_commit if r["severity"] == "high"]
    assert high[0]["findings"] > 0
    assert (
        snap.specs_over_time[-1]["test_specs_total"]
        == snap.counts("test_planning")["test_specs_total"]
    )
    per_worker = {w: sum(r["iterations"] for r in snap.iterations_per_hour if r["worker"] == w)
                  for w in ("analysis", "test-planning")}  # fmt: skip
    assert per_worker == {"analysis": 6, "test-planning": 15}

    rows = snap.latest_findings
    assert 0 < len(rows) <= 500 and all(list(r) == [*FINDING_COLUMNS, "config"] for r in rows)
    assert {r["worker"] for r in rows} == {"analysis"}  # test specs have their own table
    ranks = [severity_rank(r["severity"]) for r in rows]
    assert ranks == sorted(ranks)  # the most severe first, whichever pass found them
    spec_rows = snap.latest_specs
    assert spec_rows and {r["worker"] for r in spec_rows} == {"test-planning"}
    assert {r["severity"] for r in spec_rows} <= {"high", "medium", "low", "info"}
    assert all(r["rule"] in {"unit", "integration", "property", "end-to-end", "performance",
                             "security"} for r in spec_rows)  # fmt: skip
    assert snap.problems == [] and snap.data_as_of == utc_timestamp(clock.now)


def test_cached_snapshot_is_returned_until_min_refresh_s_has_passed(tmp_path: Path) -> None:
    root = tmp_path / "autocoder-analysis-results"
    write(root, files_of([record(1), record(2)]))
    clock = Clock(T0 + timedelta(minutes=3))
    data = DashboardData(sources_at(tmp_path), clock=clock, min_refresh_s=10)
    first = data.refresh()
    write(root, files_of([record(3)]))
    clock.now += timedelta(seconds=9)
    assert data.refresh() is first
    clock.now += timedelta(seconds=1)
    assert data.refresh().workers[0].iterations == 3


async def test_refresh_async_reads_in_a_thread_and_shares_the_cache(tmp_path: Path) -> None:
    write(tmp_path / "autocoder-analysis-results", files_of([record(1)]))
    data = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=2)))
    first = await data.refresh_async()
    assert first.workers[0].status == "online"
    assert await data.refresh_async() is first and data.refresh() is first


def test_a_worker_that_stops_turns_stale_then_offline(tmp_path: Path) -> None:
    write(tmp_path / "autocoder-analysis-results", files_of([record(1), record(2, status="error")]))
    clock = Clock(T0 + timedelta(minutes=2))
    data = DashboardData(sources_at(tmp_path), clock=clock, min_refresh_s=0)
    snap = data.refresh()
    assert snap.banner == "All Systems Operational" and snap.workers[0].error_rate_24h == 0.5
    clock.now += timedelta(minutes=5)
    snap = data.refresh()
    assert snap.banner == "Down" and snap.workers[0].status == "stale"
    assert "Analysis is stale: last iteration 5 min ago (interval 60 s)" in snap.banner_detail
    clock.now += timedelta(days=2)
    snap = data.refresh()
    assert snap.workers[0].status == "offline" and snap.workers[0].error_rate_24h is None
    assert snap.iterations_per_hour  # the 7-day chart still shows them


def test_corrupt_shard_is_listed_in_problems_and_the_rest_is_shown(tmp_path: Path) -> None:
    root = tmp_path / "autocoder-analysis-results"
    write(root, files_of([record(1), record(3)]))
    write(root, {shard_path(RECORDS, 2): b"not json\n"})
    data = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=4)))
    snap = data.refresh()
    assert snap.workers[0].iterations == 3 and snap.workers[0].status == "online"
    assert len(snap.problems) == 1 and "000000002.jsonl skipped" in snap.problems[0]


def test_hub_mode_over_real_worker_output_keeps_the_last_view_on_hub_errors(
    hub: HubServer, shop_repo: Path, tmp_path: Path, offline: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("HF_USERNAME", TEST_USER)
    run_once("analysis", shop_repo, tmp_path / "worker", 6)
    last = newest(tmp_path / "worker", "autocoder-analysis-results")
    settings = Settings(data_dir=tmp_path / "unused")
    clock = Clock(datetime.fromisoformat(last["timestamp"]) + timedelta(seconds=20))
    data = DashboardData.from_settings(settings, worker_urls="", clock=clock, min_refresh_s=5)
    good = data.refresh()
    assert [w.status for w in good.workers] == ["online", "not deployed", "not deployed"]
    assert good.workers[0].location == REPO and good.workers[0].iterations == 6
    assert good.banner == "All Systems Operational" and good.data_as_of == utc_timestamp(clock.now)

    for status in (429, 500):
        hub.fail_next(1, status=status, retry_after=30, path_contains="/refs")
        clock.now += timedelta(minutes=30)
        kept = data.refresh()
        assert kept.workers[0] == good.workers[0]  # judged as of the last good read
        assert kept.counts("findings_by_severity") == good.counts("findings_by_severity")
        assert kept.latest_findings == good.latest_findings
        problem = kept.problems[0]
        assert problem.startswith(f"Hub error reading analysis ({REPO}): the Hub answered HTTP")
        assert problem.endswith(f"showing data as of {good.data_as_of}")
        assert kept.data_as_of == good.data_as_of

    clock.now += timedelta(minutes=1)
    recovered = data.refresh()
    assert recovered.problems == [] and recovered.workers[0].status == "offline"
    assert TEST_TOKEN not in repr(recovered)


def test_dataset_that_appears_later_goes_from_not_deployed_to_online(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(minutes=1))
    data = DashboardData(sources_at(tmp_path), clock=clock, min_refresh_s=0)
    snap = data.refresh()
    assert snap.banner == "Down" and snap.expected == 0
    root = tmp_path / "autocoder-analysis-results"
    root.mkdir()
    assert data.refresh().workers[0].status == "waiting for first iteration"
    write(root, files_of([record(1, T0 + timedelta(seconds=50))]))
    snap = data.refresh()
    assert snap.workers[0].status == "online" and snap.banner == "All Systems Operational"
    assert (snap.online, snap.expected) == (1, 1)


def test_specs_rows_map_priority_to_severity(tmp_path: Path) -> None:
    root = tmp_path / "autocoder-test-planning-results"
    rec = record(1, worker="test-planning", perspective="Edge Case Discovery")
    rec["cumulative_insights"] = {"test_specs_total": 3, "test_specs_active": 2}
    specs = [
        {"id": f"s{p}", "perspective": "Edge Case Discovery", "subject": "shop.orders:classify",
         "file": "shop/orders.py", "line": p, "kind": "property", "rationale": f"why {p}",
         "inputs": "", "expected": "", "mocks": "", "priority": p, "test_code": "pass",
         "status": "not_run", "iteration": 1, "timestamp": rec["timestamp"],
         "worker": "test-planning", "perspective_name": "Edge Case Discovery", "repo": "shop",
         "commit": "c0ffee"}
        for p in (1, 2, 3, 4, 5)
    ]  # fmt: skip
    write(root, {**files_of([rec]), shard_path(SPECS, 1): jsonl(specs)})
    snap = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=2))).refresh()
    assert snap.latest_findings == []
    assert [r["priority"] for r in snap.latest_specs] == [1, 2, 3, 4, 5]
    assert [(r["severity"], r["rule"], r["message"]) for r in snap.latest_specs] == [
        ("high", "property", "why 1"), ("medium", "property", "why 2"),
        ("low", "property", "why 3"), ("info", "property", "why 4"), ("info", "property", "why 5"),
    ]  # fmt: skip
    assert snap.specs_over_time == [
        {"timestamp": rec["timestamp"], "test_specs_total": 3, "test_specs_active": 2}
    ]
    assert snap.counts("test_planning") == {"test_specs_total": 3, "test_specs_active": 2}


# -- health that tells the truth -------------------------------------------------------------------
MISSING = "target '/nope' does not exist"


def failed(i: int, error: str = MISSING, **options: Any) -> dict[str, Any]:
    rec = record(i, status="error", **options)
    return {**rec, "error": error, "analysis": {}}


def two_workers(tmp_path: Path, analysis: list[dict[str, Any]]) -> None:
    """Analysis writes ``analysis``; test planning as many good iterations, at the same times."""
    write(tmp_path / "autocoder-analysis-results", files_of(analysis))
    planning = [record(r["iteration"], worker="test-planning", perspective="Edge Case Discovery")
                for r in analysis]  # fmt: skip
    write(tmp_path / "autocoder-test-planning-results", files_of(planning))


def test_a_worker_whose_every_iteration_fails_degrades_the_banner_with_its_error(
    tmp_path: Path,
) -> None:
    two_workers(tmp_path, [failed(i) for i in range(1, 5)])
    snap = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=5))).refresh()
    assert (snap.banner, snap.online, snap.expected) == ("Degraded", 2, 2)
    assert snap.banner_detail == f"Analysis: the last 4 iterations failed: {MISSING}"
    analysis = snap.workers[0]
    assert analysis.error_rate_24h == 1.0 and analysis.last_error == MISSING
    assert analysis.last_error_at == failed(4)["timestamp"]
    assert snap.summary()["workers"][0]["failing"] == snap.banner_detail.split(": ", 1)[1]


def test_one_failed_iteration_among_good_ones_keeps_the_banner_green(tmp_path: Path) -> None:
    two_workers(tmp_path, [record(1), record(2), failed(3), record(4)])
    snap = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=5))).refresh()
    assert (snap.banner, snap.banner_detail) == ("All Systems Operational", "")
    assert snap.workers[0].failing is None and snap.workers[0].last_error == MISSING


def test_every_worker_failing_is_down(tmp_path: Path) -> None:
    write(tmp_path / "autocoder-analysis-results", files_of([failed(i) for i in range(1, 4)]))
    snap = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=4))).refresh()
    assert (snap.banner, snap.online, snap.expected) == ("Down", 1, 1)


def test_a_corrupt_shard_degrades_the_banner_and_names_the_shard(tmp_path: Path) -> None:
    two_workers(tmp_path, [record(1), record(3)])
    write(tmp_path / "autocoder-analysis-results", {shard_path(RECORDS, 2): b"not json\n"})
    snap = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=4))).refresh()
    assert snap.banner == "Degraded"
    assert snap.banner_detail == f"Analysis: 1 unreadable shard {shard_path(RECORDS, 2)}"


def test_the_last_error_shown_is_redacted(tmp_path: Path) -> None:
    token = "ghp_" + "x9" * 18
    two_workers(tmp_path, [failed(1, error=f"git clone failed: https://{token}@github.com/o/r")])
    snap = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=2))).refresh()
    shown = snap.workers[0].last_error
    assert shown and shown.startswith("git clone failed: https://") and token not in shown


def test_a_skipped_perspective_is_listed_with_its_reason_until_it_runs_again(
    tmp_path: Path,
) -> None:
    root = tmp_path / "autocoder-analysis-results"
    reason = "no Python package at the top or under src/"
    skipped = {**record(2, perspective="Architecture Review", status="skipped"), "error": reason,
               "analysis": {"reason": reason}}  # fmt: skip
    write(root, files_of([record(1), skipped]))
    clock = Clock(T0 + timedelta(minutes=3))
    data = DashboardData(sources_at(tmp_path), clock=clock, min_refresh_s=0)
    snap = data.refresh()
    assert [(r.worker, r.perspective, r.reason) for r in snap.skipped] == [
        ("Analysis", "Architecture Review", reason)
    ]
    assert snap.summary()["skipped_perspectives"][0]["timestamp"] == skipped["timestamp"]
    assert snap.banner == "All Systems Operational"  # a skip is not a failure
    write(root, files_of([record(3, perspective="Architecture Review")]))
    clock.now += timedelta(minutes=1)
    assert data.refresh().skipped == []  # its latest run is no longer the skipped one


def test_a_repaired_shard_no_longer_degrades_the_banner(tmp_path: Path) -> None:
    two_workers(tmp_path, [record(1), record(3)])
    root = tmp_path / "autocoder-analysis-results"
    write(root, {shard_path(RECORDS, 2): b"not json\n"})
    clock = Clock(T0 + timedelta(minutes=4))
    data = DashboardData(sources_at(tmp_path), clock=clock, min_refresh_s=0)
    assert data.refresh().banner == "Degraded"
    quarantine = root / "quarantine" / shard_path(RECORDS, 2)  # what `autocoder repair` does
    quarantine.parent.mkdir(parents=True)
    (root / shard_path(RECORDS, 2)).rename(quarantine)
    snap = data.refresh()
    assert (snap.banner, snap.problems) == ("All Systems Operational", [])


def test_a_partly_bad_shard_degrades_until_autocoder_repair_rewrites_it_in_place(
    tmp_path: Path,
) -> None:
    from autocoder.store.integrity import repair

    two_workers(tmp_path, [record(1), record(3)])
    root = tmp_path / "autocoder-analysis-results"
    write(root, {shard_path(RECORDS, 2): jsonl([record(2)]) + b"garbage\n"})
    clock = Clock(T0 + timedelta(minutes=4))
    data = DashboardData(sources_at(tmp_path), clock=clock, min_refresh_s=0)
    snap = data.refresh()
    assert snap.banner_detail == f"Analysis: 1 unreadable shard {shard_path(RECORDS, 2)}"
    assert data.refresh().banner == "Degraded"  # a shard not rewritten is not read again
    (done,) = repair(root)
    assert done.kept == 1 and (root / shard_path(RECORDS, 2)).is_file()  # rewritten in place
    clock.now += timedelta(seconds=30)
    snap = data.refresh()
    assert (snap.banner, snap.problems) == ("All Systems Operational", [])


def test_rows_the_schema_refuses_are_a_problem_but_not_an_unreadable_shard(
    tmp_path: Path,
) -> None:
    two_workers(tmp_path, [record(1), record(3)])
    root = tmp_path / "autocoder-analysis-results"
    write(root, {shard_path(RECORDS, 2): jsonl([{**record(2), "status": "maybe"}])})
    write(root, {shard_path(FINDINGS, 3): b""})  # an empty shard is no rows, not a problem
    snap = DashboardData(sources_at(tmp_path), clock=Clock(T0 + timedelta(minutes=4))).refresh()
    assert snap.banner == "All Systems Operational"
    assert [p for p in snap.problems if "000000002.jsonl" in p] != []
    assert not any("empty" in p for p in snap.problems)
