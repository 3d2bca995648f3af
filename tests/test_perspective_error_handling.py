"""Error Handling: broad and swallowing handlers get failure-injection tests, untested raises get
pytest.raises tests that take the guarded path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.error_handling import ErrorHandling
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import run_specs, write_files

LEDGER = Path(__file__).parent / "fixtures" / "ledger"


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], dict]:
    return run_specs(ErrorHandling(), root, tmp_path, **options)


def _by(specs: list[TestSpec], subject: str) -> TestSpec:
    return next(s for s in specs if s.subject == subject)


@pytest.fixture(scope="module")
def ledger_ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TestSpec], dict]:
    """The ledger fixture with the generated tests run once against the unmodified code."""
    tmp = tmp_path_factory.mktemp("ran")
    shutil.copytree(LEDGER, tmp / "ledger")
    return tmp / "ledger", *_run(tmp / "ledger", tmp, run_target_tests=True)


def test_broad_except_returning_a_fallback_fails_today(
    ledger_ran: tuple[Path, list[TestSpec], dict],
) -> None:
    _root, specs, info = ledger_ran
    broad = _by(specs, "ledger.storage.files:load_balances")
    assert (broad.file, broad.line, broad.status) == ("ledger/storage/files.py", 26, "failed")
    assert "monkeypatch.setattr(target_module, 'open', fail, raising=False)" in broad.test_code
    assert "load_balances(path='x')" in broad.test_code and "RuntimeError" in broad.inputs
    assert "does not re-raise" in broad.rationale and info["broad_except"] >= 1


def test_swallowing_handler_fails_today_and_a_logging_one_passes(
    ledger_ran: tuple[Path, list[TestSpec], dict],
) -> None:
    _root, specs, info = ledger_ran
    quiet, logged = (
        _by(specs, "ledger.storage.files:remove_quietly"),
        _by(specs, "ledger.storage.files:remove_statement"),
    )
    assert (quiet.line, quiet.status, logged.line, logged.status) == (40, "failed", 33, "passed")
    assert "monkeypatch.setattr(target_module.os, 'remove', fail)" in logged.test_code
    assert (
        "raise OSError(" in logged.test_code
        and "only passes, returns None or logs" in logged.rationale
    )
    assert info["swallowed"] >= 2


def test_untested_guarded_raise_gets_the_value_that_takes_the_path(
    ledger_ran: tuple[Path, list[TestSpec], dict], shop_dir: Path, tmp_path: Path
) -> None:
    _root, specs, _info = ledger_ran
    withdraw = _by(specs, "ledger.core:Account.withdraw")
    assert (withdraw.line, withdraw.status) == (17, "passed")
    assert (
        "with pytest.raises(ValueError):\n        Account(owner='x').withdraw(amount=0)"
        in withdraw.test_code
    )
    # InsufficientFunds is raised too, but tests/test_core.py takes that path with pytest.raises
    assert not any("InsufficientFunds" in s.test_code for s in specs)
    decode = _by(specs, "ledger.storage.codec:decode_amount")
    assert (decode.line, decode.status) == (
        21,
        "passed",
    ) and "decode_amount(text='')" in decode.test_code
    price = _by(_run(shop_dir, tmp_path)[0], "shop.pricing:compute_price")
    assert (price.line, price.inputs.split(";")[0]) == (8, "qty=0")
    assert "compute_price(qty=0, unit=1.0)" in price.test_code


def test_generated_tests_collect(ledger_ran: tuple[Path, list[TestSpec], dict]) -> None:
    root, specs, _info = ledger_ran
    collection = collect_generated_tests(root, specs)
    assert collection.items == len(specs) >= 6, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
    assert {s.status for s in specs} <= {"passed", "failed"}


def test_bare_except_pass_is_reported(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "t",
        {
            "pkg/__init__.py": "",
            "pkg/jobs.py": "import shutil\n\n\ndef clean(path: str) -> None:\n    try:\n        shutil.rmtree(path)\n    except:\n        pass\n",
        },
    )
    specs, info = _run(root, tmp_path)
    assert [(s.subject, s.line) for s in specs] == [("pkg.jobs:clean", 7)]
    assert (
        info["bare_except"] == 1
        and "monkeypatch.setattr(target_module.shutil, 'rmtree', fail)" in specs[0].test_code
    )
    assert "catches everything (bare except)" in specs[0].rationale


def test_spec_ids_are_stable_when_unrelated_lines_move(ledger_dir: Path, tmp_path: Path) -> None:
    before = {s.subject: s.id for s in _run(ledger_dir, tmp_path)[0]}
    files = ledger_dir / "ledger" / "storage" / "files.py"
    files.write_text("# moved\n\n\n" + files.read_text())
    after = _run(ledger_dir, tmp_path)[0]
    assert {s.subject: s.id for s in after} == before
    assert _by(after, "ledger.storage.files:load_balances").line == 29


def test_target_with_careful_error_handling_has_nothing_to_say(tmp_path: Path) -> None:
    root = write_files(tmp_path / "t", {
        "pkg/__init__.py": "",
        "pkg/m.py": "def parse(text: str) -> int:\n    if not text:\n        raise ValueError('empty')\n    try:\n        return int(text)\n    except ValueError as e:\n        raise KeyError(text) from e\n",
        "tests/test_m.py": "import pytest\nfrom pkg.m import parse\n\n\ndef test_empty():\n    with pytest.raises(ValueError):\n        parse('')\n",
    })  # fmt: skip
    specs, info = _run(root, tmp_path)
    assert specs == [] and info["untested_error_paths"] == 0
    assert info["summary"].startswith("No bare or broad except, no swallowed exception")


def test_target_without_python_files_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "README.md").write_text("nothing here\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(tmp_path / "t", tmp_path)
