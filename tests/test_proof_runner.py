"""bench/proof.py turns a pytest run into the proof table: the rows the tests recorded, each
failed or skipped test with its reason, and an exit status that is 0 only if every check passed.
The run is real: pytest on a small generated test module, its JUnit XML parsed back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
from proof import (  # noqa: E402
    FAILED,
    PASSED,
    SKIPPED,
    Row,
    exit_status,
    rows_from_junit,
    run_pytest,
    table,
    totals,
)

TESTS = Path(__file__).resolve().parent

MODULE = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import pytest
from proofkit import full_run, proof_row


def test_kills_lose_nothing(record_property):
    proof_row(record_property, "faults", "kill -9 x3", "0 lost", "3 kills, 12 records")
    proof_row(record_property, "faults", "shards parse", "12 of 12", "")


def test_hub_outage_pushes_later(record_property):
    proof_row(record_property, "faults", "Hub 500 for 2 s", "pushed after", "a | b")
    assert 1 + 1 == 3, "2 records lost"


def test_disk_full_needs_root():
    pytest.skip("needs root to mount a tmpfs")


def test_without_a_row():
    assert True


def test_size_of_the_run(record_property):
    proof_row(record_property, "load", "size", "full" if full_run() else "short")
"""


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JUnit XML of a short-size pytest run over the generated module (run once)."""
    tmp_path = tmp_path_factory.mktemp("proof-runner")
    module = tmp_path / "test_proof_sample.py"
    module.write_text(MODULE)
    report = tmp_path / "junit.xml"
    status = run_pytest([module], report, full=False, cwd=tmp_path)
    assert status == 1  # one test failed
    return report


def test_recorded_rows_and_failed_and_skipped_tests_become_the_table(junit: Path) -> None:
    rows = rows_from_junit(junit)
    assert [(r.section, r.check, r.status) for r in rows] == [
        ("faults", "kill -9 x3", PASSED),
        ("faults", "shards parse", PASSED),
        ("faults", "Hub 500 for 2 s", FAILED),
        ("sample", "test_disk_full_needs_root", SKIPPED),
        ("sample", "test_without_a_row", PASSED),
        ("load", "size", PASSED),
    ]
    assert rows[0].result == "0 lost" and rows[0].figure == "3 kills, 12 records"
    assert rows[2].result.startswith("FAILED: AssertionError: 2 records lost")
    assert rows[3].result == "skipped: needs root to mount a tmpfs"
    assert rows[5].result == "short"  # the run's size reached the tests
    assert exit_status(rows) == 1
    assert totals(rows, "short", 3.0) == "6 checks: 4 passed, 1 failed, 1 skipped (short run, 3 s)"


def test_markdown_table_has_one_line_per_row_and_escapes_bars(junit: Path) -> None:
    lines = table(rows_from_junit(junit), markdown=True).splitlines()
    assert lines[0] == "| section | check | result | figure |"
    assert len(lines) == 2 + 6
    assert "| faults | kill -9 x3 | 0 lost | 3 kills, 12 records |" in lines
    assert any("a \\| b" in line for line in lines)


def test_exit_status_is_zero_only_when_every_check_passed() -> None:
    passed, skipped = (
        Row("load", "a", "ok", "", PASSED),
        Row("load", "b", "skipped: x", "", SKIPPED),
    )
    assert exit_status([passed]) == 0
    assert exit_status([passed, skipped]) == 1
    assert exit_status([passed, skipped], allow_skipped=True) == 0
    assert exit_status([]) == 1  # no check ran: nothing is proven


def test_a_run_that_wrote_no_report_is_a_failed_check(tmp_path: Path) -> None:
    rows = rows_from_junit(tmp_path / "missing.xml")
    assert [r.status for r in rows] == [FAILED]
