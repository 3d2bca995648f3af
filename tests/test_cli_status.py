"""`autocoder status`: the dashboard's worker table on the command line, and an exit status a
monitor can act on: 0 all systems operational, 1 degraded, 2 down."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autocoder.cli import main

ANALYSIS = "autocoder-analysis-results"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One real analysis iteration (Code Quality) in a data folder; no app URL to ping."""
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    monkeypatch.setenv("AUTOCODER_WORKER_URLS", "")
    target = tmp_path / "target"
    target.mkdir()
    (target / "mod.py").write_text("import os\nvalue = 1\n")
    folder = tmp_path / "data"
    assert main(["once", "analysis", "--target", str(target), "--data-dir", str(folder)]) == 0
    return folder


def _status(data: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["status", "--data-dir", str(data), *flags])
    return code, capsys.readouterr().out


def test_a_fresh_worker_is_operational_and_exits_0(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _status(data, capsys)
    assert code == 0, out
    assert out.startswith("All Systems Operational: 1 of 1 workers online")
    assert re.search(r"Analysis Worker\s+online\s+1\s+(just now|\d+ s ago) · ", out), out
    assert re.search(r"Implementation Worker\s+not deployed", out), out
    summary = json.loads(_status(data, capsys, "--json")[1])
    assert summary["banner"] == "All Systems Operational" and summary["online"] == 1


def test_an_unreadable_shard_is_degraded_and_exits_1(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shard,) = (data / ANALYSIS / "data" / "findings").rglob("*.jsonl")
    shard.write_text(shard.read_text() + "{not json\n")
    code, out = _status(data, capsys)
    assert code == 1, out
    assert out.startswith("Degraded") and "unreadable shard" in out


def test_a_worker_silent_for_an_hour_is_down_and_exits_2(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shard,) = (data / ANALYSIS / "data" / "records").rglob("*.jsonl")
    record = json.loads(shard.read_text())
    record["timestamp"] = "2026-01-01T00:00:00.000000+00:00"
    shard.write_text(json.dumps(record) + "\n")
    code, out = _status(data, capsys)
    assert code == 2, out
    assert out.startswith("Down: 0 of 1 workers online") and "offline" in out
