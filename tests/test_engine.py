"""The loop: records per iteration, rotation, errors as records, timeouts, resume after restart."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from autocoder.engine import worker as worker_module
from autocoder.engine.perspective import PerspectiveResult, RunContext, RunOptions
from autocoder.engine.spec import WorkerSpec
from autocoder.errors import PerspectiveSkipped, StoreError
from autocoder.schema import Finding, TestSpec
from autocoder.workers.analysis.spec import analysis_spec
from autocoder.workers.test_planning import spec as test_planning

from enginekit import Crashes, LongLines, Sleeps, make_worker


async def test_worker_writes_one_record_per_iteration_with_real_findings(
    shop_repo: Path, tmp_path: Path
) -> None:
    worker = make_worker(shop_repo, tmp_path / "data")
    record = await worker.run_iteration()
    assert record.iteration == 1
    assert record.status == "ok"
    assert record.target.commit is not None and len(record.target.commit) == 40
    assert (
        record.analysis["findings_total"] == len(record.analysis["top_findings"])
        or record.analysis["findings_total"] > 15
    )
    assert record.cumulative_insights["unique_findings"] == record.analysis["findings_total"]
    assert worker.store.latest() == record.model_dump(mode="json")


async def test_crashing_perspective_becomes_error_record_and_rotation_goes_on(
    shop_dir: Path, tmp_path: Path
) -> None:
    worker = make_worker(shop_dir, tmp_path / "data", Crashes(), LongLines())
    await worker.run(iterations=3)
    records = [
        worker.store.reader.read_text(p)
        for p in sorted(worker.store.reader.list_files("data/records"))
    ]
    assert len(records) == 3
    first = worker.store.latest()
    assert first is not None and first["perspective_id"] == "crashes" and first["iteration"] == 3
    assert first["status"] == "error"
    assert first["error"] == "ZeroDivisionError: division by zero in a perspective"
    assert first["cumulative_insights"]["iterations_error"] == 2
    assert first["cumulative_insights"]["iterations_ok"] == 1


async def test_perspective_over_its_timeout_is_an_error_record(
    shop_dir: Path, tmp_path: Path
) -> None:
    worker = make_worker(shop_dir, tmp_path / "data", Sleeps(), iteration_timeout_s=0.2)
    record = await worker.run_iteration()
    assert record.status == "error"
    assert record.error is not None and "did not finish within 0.2s" in record.error


async def test_missing_target_gives_clear_error_record_not_a_traceback(tmp_path: Path) -> None:
    worker = make_worker(tmp_path / "nowhere", tmp_path / "data")
    record = await worker.run_iteration()
    assert record.status == "error"
    assert record.error is not None
    assert "does not exist" in record.error and "Traceback" not in record.error


async def test_target_without_python_files_is_skipped_with_reason(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# only docs\n")
    worker = make_worker(tmp_path / "docs", tmp_path / "data")
    record = await worker.run_iteration()
    assert record.status == "skipped"
    assert record.error == f"no Python files in {(tmp_path / 'docs').resolve()}"


class SkipsCounting:
    """Skips every run, counting its attempts in the state it hands back with the skip."""

    id: ClassVar[str] = "skips_counting"
    name: ClassVar[str] = "Skips Counting"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        tries = ctx.previous_state.get("tries", 0) + 1
        raise PerspectiveSkipped(f"skipped on try {tries}", state={"tries": tries})


async def test_a_skipped_run_keeps_the_state_it_hands_back_for_the_next_run(
    shop_dir: Path, tmp_path: Path
) -> None:
    first = make_worker(shop_dir, tmp_path / "data", SkipsCounting())
    await first.run(iterations=2)
    again = make_worker(shop_dir, tmp_path / "data", SkipsCounting())  # and across a restart
    record = await again.run_iteration()
    assert (record.status, record.error) == ("skipped", "skipped on try 3")


async def test_restart_resumes_iteration_rotation_insights_and_perspective_state(
    shop_dir: Path, tmp_path: Path
) -> None:
    first = make_worker(shop_dir, tmp_path / "data", LongLines(), Crashes())
    await first.run(iterations=3)  # long_lines, crashes, long_lines
    unique = first.store.latest()["cumulative_insights"]["unique_findings"]  # type: ignore[index]
    second = make_worker(shop_dir, tmp_path / "data", LongLines(), Crashes())
    assert second.iteration == 3
    assert second.next_perspective.id == "crashes"
    assert second.perspective_states["long_lines"] == {"runs": 2}
    await second.run(iterations=2)
    latest = second.store.latest()
    assert (
        latest is not None and latest["iteration"] == 5 and latest["perspective_id"] == "long_lines"
    )
    assert latest["cumulative_insights"]["unique_findings"] == unique  # same code, no new findings
    assert latest["cumulative_insights"]["iterations_completed"] == 5


async def test_stop_pauses_the_loop_and_start_resumes_it(shop_dir: Path, tmp_path: Path) -> None:
    worker = make_worker(shop_dir, tmp_path / "data", LongLines(), interval_s=0.05)
    task = asyncio.create_task(worker.run())
    while worker.iteration < 2:
        await asyncio.sleep(0.02)
    worker.stop()
    while worker.current is not None:  # the running iteration, if any, finishes
        await asyncio.sleep(0.02)
    paused_at = worker.iteration
    await asyncio.sleep(0.3)
    assert worker.iteration == paused_at
    assert worker.status()["state"] == "stopped"
    worker.start()
    while worker.iteration < paused_at + 2:
        await asyncio.sleep(0.02)
    worker.close()
    await asyncio.wait_for(task, 5)


async def test_record_counts_the_files_nothing_read_and_findings_never_name_them(
    shop_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("PASSWORD = 'a value from outside the target, on a long line'\n")
    (shop_dir / "shop" / "creds.py").symlink_to(outside)
    (shop_dir / "shop" / "big.py").write_text("x = 'a line longer than twenty characters'\n" * 50)
    worker = make_worker(
        shop_dir, tmp_path / "data", LongLines(), options=RunOptions(max_file_bytes=2000)
    )
    record = await worker.run_iteration()
    assert record.status == "ok"
    assert record.analysis["skipped"]["files"] == (
        "2 skipped: 1 larger than 2000 bytes (AUTOCODER_MAX_FILE_BYTES), "
        "1 symlink outside the target"
    )
    assert record.analysis["metrics"]["skipped_files"]["first"] == {
        "shop/big.py": "larger than 2000 bytes (AUTOCODER_MAX_FILE_BYTES)",
        "shop/creds.py": "symlink outside the target",
    }
    assert record.analysis["findings_total"] > 0  # the other files are still read
    named = {f["file"] for f in record.analysis["top_findings"]}
    assert not named & {"shop/creds.py", "shop/big.py"}


async def test_bounded_run_gives_up_on_a_store_that_keeps_failing_instead_of_spinning(
    shop_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "STORE_RETRY_S", 0.01)
    worker = make_worker(shop_dir, tmp_path / "data")
    records = worker.store.root / "data"
    shutil.rmtree(records, ignore_errors=True)
    records.write_text("a file where the records folder must be")  # root ignores chmod
    with pytest.raises(StoreError, match="not stored after 3 attempts"):
        await asyncio.wait_for(worker.run(iterations=2), 30)
    assert worker.status()["last_store_error"]
    assert worker.iteration == 0


async def test_store_error_clears_once_a_write_works_again(shop_dir: Path, tmp_path: Path) -> None:
    worker = make_worker(shop_dir, tmp_path / "data")
    records = worker.store.root / "data"
    records.parent.mkdir(parents=True, exist_ok=True)
    records.write_text("in the way")
    task = asyncio.ensure_future(worker.run())
    while worker.last_store_error is None:
        await asyncio.sleep(0.05)
    records.unlink()
    while worker.iteration < 1:
        await asyncio.sleep(0.05)
    worker.close()
    await asyncio.wait_for(task, 30)
    assert worker.last_store_error is None
    assert worker.store.latest() is not None


async def test_skipped_and_error_records_have_the_analysis_keys_of_an_ok_one(
    shop_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# only docs\n")
    ok = await make_worker(shop_dir, tmp_path / "ok").run_iteration()
    skipped = await make_worker(tmp_path / "docs", tmp_path / "skipped").run_iteration()
    error = await make_worker(shop_dir, tmp_path / "error", Crashes()).run_iteration()
    assert (ok.status, skipped.status, error.status) == ("ok", "skipped", "error")
    assert list(skipped.analysis) == list(ok.analysis) == list(error.analysis)
    for key, value in ok.analysis.items():  # the same types: load_dataset reads shards alike
        assert type(skipped.analysis[key]) is type(value), key
    assert ok.analysis["reason"] == "" and ok.analysis["summary"]
    assert skipped.analysis["reason"] == skipped.error and skipped.error
    assert error.analysis["reason"] == "ZeroDivisionError: division by zero in a perspective"
    assert error.analysis["summary"] == "" and error.analysis["top_findings"] == []
    assert error.analysis["findings_total"] == 0


def _full_result() -> PerspectiveResult:
    """A result with something in every field a record shows: a finding, a spec, details."""
    found = Finding(tool="ruff", rule="F401", severity="low", file="pkg/a.py", line=1,
                    message="F401: `os` imported but unused", fingerprint="f1")  # fmt: skip
    spec = TestSpec(
        id="s1", perspective="Edge Case Discovery", subject="pkg.a:parse", file="pkg/a.py",
        line=3, kind="unit", rationale="empty input", inputs="''", expected="ValueError",
        mocks="", priority=1, test_code="def test_parse():\n    assert True\n",
    )  # fmt: skip
    return PerspectiveResult(
        summary="1 finding", findings=[found], items=[spec], metrics={"files": 1},
        skipped={"radon": "not installed"}, tools={"ruff": "0.17.6"}, details={"cycles": []},
    )  # fmt: skip


@pytest.mark.parametrize(
    "build", [analysis_spec, test_planning.test_planning_spec], ids=["analysis", "tests"]
)
def test_every_worker_writes_one_analysis_shape_for_every_status(
    build: Callable[[], WorkerSpec],
) -> None:
    spec = build()
    full = spec.analysis_of(_full_result())
    for reason in ("no Python package at the top or under src/", "ToolError: ruff exited with 2"):
        empty = spec.analysis_of(None, reason)
        assert list(empty) == list(full)
        assert {k: type(v) for k, v in empty.items()} == {k: type(v) for k, v in full.items()}
        assert empty["reason"] == reason and empty["summary"] == ""
    assert full["reason"] == "" and full["summary"] == "1 finding"
    assert full["details"] == {"cycles": []}
    assert spec.analysis_of(PerspectiveResult(summary="nothing"))["details"] == {}
