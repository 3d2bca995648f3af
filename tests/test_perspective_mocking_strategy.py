"""Mocking Strategy: the lightest fake for each integration point, around the real function."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.mocking_strategy import MockingStrategy
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import context


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[dict[str, TestSpec], dict]:
    ctx = context(root, tmp_path, **options)
    result = MockingStrategy().run(ctx)
    specs = {s.subject: s for s in result.items if isinstance(s, TestSpec)}
    return specs, {"summary": result.summary, **result.details, **result.metrics}


def test_environment_files_network_and_subprocess_of_the_shop(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, info = _run(shop_dir, tmp_path)
    assert set(specs) == {"shop.orders:data_dir", "shop.orders:fetch_rates", "shop.orders:load_order",
                          "shop.storage:backup", "shop.storage:save"}  # fmt: skip
    data_dir = specs["shop.orders:data_dir"].test_code
    assert "monkeypatch.setenv('SHOP_DATA', 'autocoder-SHOP_DATA')" in data_dir
    assert "assert result == 'autocoder-SHOP_DATA'" in data_dir
    save = specs["shop.storage:save"]
    assert 'save(str(tmp_path / "path.txt"), "sample")' in save.test_code
    assert 'assert "sample" in (tmp_path / "path.txt").read_text()' in save.test_code
    assert (
        "real files in tmp_path" in save.mocks
        and "keep real files in tmp_path real" in save.rationale
    )
    assert "mock.mock_open" in specs["shop.orders:load_order"].test_code  # the path is hardcoded
    rates = specs["shop.orders:fetch_rates"]
    assert 'responses = pytest.importorskip("responses")' in rates.test_code
    assert 'monkeypatch.setattr(time, "sleep", lambda *args: None)' in rates.test_code
    assert (rates.line, rates.file) == (48, "shop/orders.py")
    assert 'assert fakes["subprocess"].call.called' in specs["shop.storage:backup"].test_code
    assert info["faked_with_magicmock"] == 1 and info["integration_points"] == 6
    assert info["stand_ins"] == {"setenv": 1, "fixed-clock": 1, "responses": 1, "mock_open": 1,
                                 "MagicMock": 1, "tmp_path": 1}  # fmt: skip


def test_sqlite_in_memory_seeded_random_and_a_fixed_clock(ledger_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(ledger_dir, tmp_path)
    # count_entries(":memory:") could only be checked with isinstance(result, int): dropped
    assert "ledger.boundaries.journal:count_entries" not in specs
    reference = specs["ledger.boundaries.journal:new_reference"].test_code
    assert (
        reference.count("random.seed(1234)") == 2
        and "assert new_reference() == result" in reference
    )
    stamp = specs["ledger.boundaries.journal:stamp"].test_code
    assert "class FixedClock(datetime.datetime):" in stamp
    assert 'monkeypatch.setattr(subject_module, "datetime", FixedClock)' in stamp
    append = specs["ledger.boundaries.journal:append_entry"].test_code
    assert 'monkeypatch.setattr(time, "time", lambda *args: 1_700_000_000.0)' in append
    assert 'append_entry(str(tmp_path / "path.txt"), "sample")' in append


def test_generated_tests_collect_and_pass_around_the_real_functions(
    ledger_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(ledger_dir, tmp_path, run_target_tests=True)
    collection = collect_generated_tests(ledger_dir, list(specs.values()))
    assert collection.items == len(specs), collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
    journal = [
        s.status for s in specs.values() if s.subject.startswith("ledger.boundaries.journal:")
    ]
    assert journal == ["passed"] * 5  # count_entries and load_rates: only isinstance, dropped


def test_shop_statuses_on_the_unmodified_code(shop_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(shop_dir, tmp_path, run_target_tests=True)
    has_responses = importlib.util.find_spec("responses") is not None
    statuses = {subject: s.status for subject, s in specs.items()}
    assert statuses.pop("shop.orders:fetch_rates") == ("passed" if has_responses else "not_run")
    assert set(statuses.values()) == {"passed"}


def test_a_write_that_loses_the_data_is_kept_as_failed(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "notes.py").write_text(
        "def save_note(path: str, text: str) -> None:\n    with open(path, 'w') as fh:\n"
        "        fh.write(text.upper())\n\n\n"
        "def keep_note(path: str, text: str) -> None:\n    with open(path, 'w') as fh:\n"
        "        fh.write(text)\n"
    )
    specs, _ = _run(root, tmp_path, run_target_tests=True)
    assert {subject: s.status for subject, s in specs.items()} == {
        "notes:save_note": "failed",
        "notes:keep_note": "passed",
    }


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before = {subject: s.id for subject, s in _run(shop_dir, tmp_path)[0].items()}
    storage = shop_dir / "shop" / "storage.py"
    storage.write_text("# a comment\n\n" + storage.read_text())
    after = _run(shop_dir, tmp_path)[0]
    assert {subject: s.id for subject, s in after.items()} == before
    assert after["shop.storage:save"].line == 30


def test_every_checked_fake_is_reached_by_the_generated_call_or_there_is_no_test(
    tmp_path: Path,
) -> None:
    # Before, 15 of click's 17 Mocking Strategy tests failed: a fake behind a branch, in a loop
    # or of a local import was asserted called (or KeyError'd on a fake never set up).
    root = tmp_path / "t"
    root.mkdir()
    (root / "jobs.py").write_text(
        "import subprocess\n\n\ndef run(cmd: str, dry: bool = True) -> int:\n    if dry:\n"
        "        return 0\n    return subprocess.call(cmd)\n\n\n"
        "def each(cmds: list[str]) -> None:\n    for c in cmds:\n        subprocess.call(c)\n\n\n"
        "def width() -> int:\n    import shutil\n\n    return shutil.get_terminal_size().columns\n"
    )
    specs, info = _run(root, tmp_path, run_target_tests=True)
    assert set(specs) == {"jobs:run"} and info["functions_not_observable"] == 2
    assert re.search(r"run\((\"\w+\"|'\w+'), False\)", specs["jobs:run"].test_code)
    assert specs["jobs:run"].status == "passed", specs["jobs:run"].status_detail


def test_pure_code_needs_no_mocks(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "calc.py").write_text("def double(x: int) -> int:\n    return 2 * x\n")
    specs, info = _run(root, tmp_path)
    assert specs == {} and info["functions"] == 0
    assert info["summary"].startswith("No integration points: nothing to fake")


def test_a_target_without_python_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    with pytest.raises(PerspectiveSkipped):
        _run(tmp_path / "t", tmp_path)
