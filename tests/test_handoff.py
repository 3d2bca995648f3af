"""One iteration hands its conclusions on to the next: a two-stage toy worker whose second stage
reads what the first concluded, across restarts, errors and a lost record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import RECORDS
from autocoder.store.layout import STATE_PATH, shard_path

from enginekit import Crashes, make_worker


class Plan:
    """Stage 1: decides which files to work on and hands the plan on."""

    id: ClassVar[str] = "plan"
    name: ClassVar[str] = "Plan"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        plan = {"files": sorted(ctx.sources.python), "reason": "every Python file"}
        return PerspectiveResult(summary=f"planned {len(plan['files'])} files", handoff=plan)


class Apply:
    """Stage 2: works from the plan it was handed, and says what it read."""

    id: ClassVar[str] = "apply"
    name: ClassVar[str] = "Apply"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        files = ctx.handoff.get("files", [])
        return PerspectiveResult(
            summary=f"applied to {len(files)} files",
            details={"read": ctx.handoff, "from": ctx.handoff_from},
            handoff={"applied": files},
        )


class Skips:
    id: ClassVar[str] = "skips"
    name: ClassVar[str] = "Skips"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        raise PerspectiveSkipped("nothing to do")


class HandsOn:
    """Hands on whatever it was built with (to check what is refused)."""

    id: ClassVar[str] = "hands_on"
    name: ClassVar[str] = "Hands On"

    def __init__(self, handoff: Any) -> None:
        self.handoff = handoff

    def run(self, ctx: RunContext) -> PerspectiveResult:
        return PerspectiveResult(summary="handed on", handoff=self.handoff)


def _target(tmp_path: Path) -> Path:
    root = tmp_path / "target"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "core.py").write_text("def f() -> int:\n    return 1\n")
    return root


PLAN = {"files": ["pkg/__init__.py", "pkg/core.py"], "reason": "every Python file"}


async def test_stage_two_reads_stage_one_handoff_after_a_restart(tmp_path: Path) -> None:
    target, data = _target(tmp_path), tmp_path / "data"
    first = make_worker(target, data, Plan(), Apply())
    assert (await first.run_iteration()).status == "ok"
    first.close()
    state = json.loads((data / "autocoder-enginetest-results" / STATE_PATH).read_text())
    assert {"insights", "perspectives", "handoff"} <= set(state)
    assert state["handoff"]["data"] == PLAN

    second = make_worker(target, data, Plan(), Apply())  # a restart on the same store
    assert second.next_perspective.id == "apply"
    record = await second.run_iteration()
    assert record.status == "ok"
    assert record.analysis["details"] == {"read": PLAN, "from": "plan"}
    assert record.analysis["summary"] == "applied to 2 files"


async def test_the_first_iteration_is_handed_nothing(tmp_path: Path) -> None:
    worker = make_worker(_target(tmp_path), tmp_path / "data", Apply())
    record = await worker.run_iteration()
    assert record.analysis["details"] == {"read": {}, "from": None}


async def test_an_error_or_skipped_stage_keeps_the_last_successful_handoff(tmp_path: Path) -> None:
    worker = make_worker(_target(tmp_path), tmp_path / "data", Plan(), Crashes(), Skips(), Apply())
    await worker.run(iterations=4)  # plan ok, crashes error, skips skipped, apply ok
    records = [worker.store.reader.read_text(shard_path(RECORDS, n)) for n in range(1, 5)]
    statuses = [json.loads(text)["status"] for text in records]
    assert statuses == ["ok", "error", "skipped", "ok"]
    assert json.loads(records[3])["analysis"]["details"] == {"read": PLAN, "from": "plan"}
    assert worker.handoffs.current.data == {"applied": PLAN["files"]}


async def test_a_handoff_that_is_not_json_is_an_error_naming_the_perspective(
    tmp_path: Path,
) -> None:
    target = _target(tmp_path)
    for i, (bad, why) in enumerate([
        ({"where": tmp_path}, "not JSON"),
        ({"pair": (1, 2)}, "JSON changes"),
        ({1: "one"}, "JSON changes"),
        ({"ratio": float("nan")}, "not JSON"),
        (["a list"], "not a dict"),
    ]):  # fmt: skip
        worker = make_worker(target, tmp_path / f"data{i}", Plan(), HandsOn(bad), Apply())
        await worker.run(iterations=3)
        second = json.loads(worker.store.reader.read_text(shard_path(RECORDS, 2)))
        assert second["status"] == "error"
        assert second["error"].startswith("Hands On handed on") and why in second["error"]
        third = json.loads(worker.store.reader.read_text(shard_path(RECORDS, 3)))
        assert third["analysis"]["details"] == {"read": PLAN, "from": "plan"}


async def test_an_iteration_whose_record_was_lost_runs_again_with_the_handoff_it_first_read(
    tmp_path: Path,
) -> None:
    target, data = _target(tmp_path), tmp_path / "data"
    first = make_worker(target, data, Plan(), Apply())
    await first.run(iterations=2)
    # A crash between writing the state and the record: the state already holds Apply's handoff.
    (first.store.root / shard_path(RECORDS, 2)).unlink()
    again = make_worker(target, data, Plan(), Apply())
    assert (again.iteration, again.next_perspective.id) == (1, "apply")
    record = await again.run_iteration()
    assert record.analysis["details"] == {"read": PLAN, "from": "plan"}
