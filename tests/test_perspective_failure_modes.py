"""Failure Mode Analysis: raises solved from the parameters, failing calls injected, None returns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.failure_modes import FailureModeAnalysis
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import run_specs, write_target


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], dict]:
    return run_specs(FailureModeAnalysis(), root, tmp_path, **options)


def _of(specs: list[TestSpec], subject: str) -> dict[int, TestSpec]:
    return {s.line: s for s in specs if s.subject == subject}


def test_withdraw_raises_are_reached_with_arguments_solved_from_the_conditions(
    ledger_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(ledger_dir, tmp_path)
    withdraw = _of(specs, "ledger.core:Account.withdraw")
    assert set(withdraw) == {17, 19}
    code = withdraw[17].test_code  # the instance's sample arguments come from _setup
    assert re.search(
        r"        subject_instance = Account\('\w+'\)\n    except Exception as error:\n"
        r'        raise TypeError\(f"setup: could not build the instance: \{error!r\}"\) from '
        r"error\n    with pytest.raises\(ValueError\):\n        subject_instance.withdraw\(0\)",
        code,
    )
    assert withdraw[17].expected == "raises ValueError" and "amount <= 0" in withdraw[17].rationale
    assert "from ledger.core import Account, InsufficientFunds" in withdraw[19].test_code
    assert re.search(r"subject_instance = Account\('\w+', 0\)\n", withdraw[19].test_code)


def test_shop_failure_modes_cover_raises_files_parsers_network_and_indexing(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, info = _run(shop_dir, tmp_path)
    assert {(s.subject, s.line, s.expected) for s in specs} == {
        ("shop.pricing:compute_price", 8, "raises ValueError"),
        ("shop.orders:classify", 18, "raises KeyError"),
        ("shop.orders:load_order", 13, "FileNotFoundError propagates to the caller"),
        ("shop.orders:load_order", 14, "json.JSONDecodeError propagates to the caller"),
        ("shop.orders:fetch_rates", 49, "requests.ConnectionError propagates to the caller"),
        ("shop.storage:backup", 16, "FileNotFoundError propagates to the caller"),
        ("shop.storage:save", 28, "PermissionError propagates to the caller"),
        ("shop.storage:load_blob", 12, "pickle.UnpicklingError propagates to the caller"),
        ("shop.storage:read_config", 24, "yaml.YAMLError propagates to the caller"),
    }
    assert "compute_price(0, 1.0)" in _of(specs, "shop.pricing:compute_price")[8].test_code
    assert "classify({}, " in _of(specs, "shop.orders:classify")[18].test_code
    json_load = _of(specs, "shop.orders:load_order")[14]
    assert 'fakes["json"].load.side_effect = json.JSONDecodeError' in json_load.test_code
    assert '"open": mock.mock_open(read_data="{}")' in json_load.test_code  # the file is faked too
    assert "patch shop.orders.json" in json_load.mocks
    assert info["by_failure"] == {
        "parsing": 3,
        "filesystem": 2,
        "raise": 1,
        "index": 1,
        "network": 1,
        "subprocess": 1,
    }
    assert info["summary"].startswith("9 failure modes in 8 functions")


def test_none_returns_unchecked_values_and_unset_environment(
    ledger_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(ledger_dir, tmp_path)
    assert (
        '    result = find_entry([], "sample")\nexcept Exception as error:'.replace("\n", "\n    ")
        in _of(specs, "ledger.boundaries.entries:find_entry")[19].test_code
    )
    assert "first_entry([])" in _of(specs, "ledger.boundaries.entries:first_entry")[13].test_code
    parse = _of(specs, "ledger.boundaries.entries:parse_amount")
    assert {line: s.expected for line, s in parse.items()} == {
        6: "raises ValueError", 8: "raises OverflowError", 9: "raises ValueError",
    }  # fmt: skip
    assert (
        "parse_amount('')" in parse[6].test_code
        and "parse_amount('xxxxxxxxxxxxx')" in parse[8].test_code
    )
    assert "parse_amount('not-a-number')" in parse[9].test_code
    env = _of(specs, "ledger.boundaries.journal:journal_path")[12]
    assert "monkeypatch.delenv('LEDGER_JOURNAL', raising=False)" in env.test_code
    assert (
        "sqlite3.OperationalError"
        in _of(specs, "ledger.boundaries.journal:count_entries")[30].test_code
    )


def test_generated_tests_collect_and_pass_on_the_unmodified_code(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, info = _run(shop_dir, tmp_path, run_target_tests=True)
    collection = collect_generated_tests(shop_dir, specs)
    assert collection.items == len(specs) == 9, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
    assert info["by_status"] == {"passed": 9}


def test_a_raise_after_its_parameter_is_rebound_gets_no_test(tmp_path: Path) -> None:
    # Before, clamp(11) was generated for line 5 and failed on "DID NOT RAISE" (`n = 10` comes
    # first): a defect of the test. A condition on a rebound name is not solved for the argument.
    root = tmp_path / "t"
    root.mkdir()
    (root / "clamp.py").write_text(
        "def clamp(n: int) -> int:\n    if n > 10:\n        n = 10\n        if n > 10:\n"
        "            raise ValueError('unreachable')\n    if n < 0:\n        raise ValueError('negative')\n"
        "    return n\n"
    )
    specs, info = _run(root, tmp_path, run_target_tests=True)
    assert {(s.line, s.inputs, s.status) for s in specs} == {(7, "clamp(-1)", "passed")}
    assert info["raises_not_reached"] == 1


def test_only_raises_a_test_can_name_become_specs_and_every_generated_test_collects(
    tmp_path: Path,
) -> None:
    root = write_target(tmp_path, {"errs.py": (
        "class Invalid(Exception):\n    pass\n\n\n"
        "def rethrow(n: int) -> int:\n    error = ValueError(n)\n    if n < 0:\n        raise error\n"
        "    return n\n\n\n"
        "def wrapped(n: int) -> int:\n    try:\n        return 10 // n\n"
        "    except ZeroDivisionError as exc:\n        raise exc.with_traceback(None)\n\n\n"
        "def checked(n: int) -> int:\n    if n < 0:\n        raise Invalid(n)\n    return n\n\n\n"
        "class Parser:\n    error_class = ValueError\n\n"
        "    def parse(self, text: str) -> int:\n        if not text:\n"
        "            raise self.error_class(text)\n        return len(text)\n"
    )})  # fmt: skip
    specs, _ = _run(root, tmp_path)
    assert {(s.subject, s.expected) for s in specs} == {("errs:checked", "raises Invalid")}
    collection = collect_generated_tests(root, specs)
    assert collection.items == len(specs), collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before = {s.id: (s.subject, s.line) for s in _run(shop_dir, tmp_path)[0]}
    pricing = shop_dir / "shop" / "pricing.py"
    pricing.write_text("# a comment\n\n" + pricing.read_text())
    after = {s.id: (s.subject, s.line) for s in _run(shop_dir, tmp_path)[0]}
    assert after == {
        i: (sub, line + 2 if sub.startswith("shop.pricing:") else line)
        for i, (sub, line) in before.items()
    }


def test_code_that_cannot_fail_has_no_failure_modes(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "calc.py").write_text("def add(a: int, b: int) -> int:\n    return a + b\n")
    specs, info = _run(root, tmp_path)
    assert specs == [] and info["failure_modes"] == 0
    assert (
        info["summary"] == "No raise, failing call, None return or unchecked index in 1 functions."
    )


def test_a_target_without_python_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    with pytest.raises(PerspectiveSkipped):
        _run(tmp_path / "t", tmp_path)


def test_a_none_path_reached_only_through_a_magicmock_argument_gets_no_test(
    tmp_path: Path,
) -> None:
    # click's Context.find_object(object_type) got find_object(MagicMock()) and broke on
    # isinstance(), a failure in the test's own input, not in the code.
    root = tmp_path / "t"
    root.mkdir()
    (root / "pick.py").write_text(
        "def first_of(kind, items: list) -> object:\n    for item in items:\n"
        "        if isinstance(item, kind):\n            return item\n    return None\n\n\n"
        "def first_text(items: list) -> object:\n    for item in items:\n"
        "        if isinstance(item, str):\n            return item\n    return None\n"
    )
    specs, _ = _run(root, tmp_path, run_target_tests=True)
    assert {(s.subject, s.expected, s.status) for s in specs} == {
        ("pick:first_text", "returns None", "passed")
    }
