"""Integration Points: every call to the outside world, with a test proving the call is reached."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives._scan import scan_module
from autocoder.workers.test_planning.perspectives.integration_points import IntegrationPoints
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import run_specs


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], dict]:
    return run_specs(IntegrationPoints(), root, tmp_path, **options)


def _points(specs: list[TestSpec]) -> set[tuple[str, str, int]]:
    """(subject, boundary call, line) of each spec, the call read from its ``expected``."""
    return {(s.subject, s.expected.split(" reaches ")[1].split(" ")[0], s.line) for s in specs}


def test_shop_boundaries_are_mapped_with_their_kind_call_and_line(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, info = _run(shop_dir, tmp_path)
    assert _points(specs) == {
        ("shop.orders:data_dir", "os.environ.get", 69),
        ("shop.orders:fetch_rates", "time.sleep", 48),
        ("shop.orders:fetch_rates", "requests.get", 49),
        ("shop.orders:load_order", "open", 13),
        ("shop.storage:backup", "subprocess.call", 16),
        ("shop.storage:save", "open", 28),
    }
    assert {s.kind for s in specs} == {"integration"}
    assert info["by_boundary"] == {
        "filesystem": 2,
        "environment": 1,
        "clock": 1,
        "network": 1,
        "subprocess": 1,
    }
    assert info["summary"].startswith("6 integration points in 5 functions")
    data_dir = next(s for s in specs if s.subject == "shop.orders:data_dir")
    assert "'SHOP_DATA' in str(" in data_dir.test_code and "BoundaryReached" in data_dir.test_code


def test_ledger_journal_reaches_database_clock_randomness_and_environment(
    ledger_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(ledger_dir, tmp_path)
    journal = {p for p in _points(specs) if p[0].startswith("ledger.boundaries.journal:")}
    assert journal == {
        ("ledger.boundaries.journal:journal_path", "os.environ[]", 12),
        ("ledger.boundaries.journal:journal_dir", "os.getenv", 16),
        ("ledger.boundaries.journal:append_entry", "open", 20),
        ("ledger.boundaries.journal:append_entry", "time.time", 21),
        ("ledger.boundaries.journal:load_rates", "open", 25),
        ("ledger.boundaries.journal:count_entries", "sqlite3.connect", 30),
        ("ledger.boundaries.journal:new_reference", "random.randint", 39),
        ("ledger.boundaries.journal:stamp", "datetime.datetime.now", 43),
    }
    assert not any(s.subject.startswith(("ledger.core:", "ledger.cli:")) for s in specs)


def test_scanner_resolves_imports_and_says_how_to_patch() -> None:
    source = (
        "import requests as r\nfrom os import environ\nfrom pathlib import Path\n\n"
        "def f(p, response):\n    import subprocess\n    r.post('https://x.test/a')\n"
        "    environ['HOME']\n    Path(p).write_text('x')\n    response.json()\n"
        "    subprocess.run(['ls'])\n    r.get('u').json()\n"
    )
    found = {b["call"]: b for b in scan_module(ast.parse(source))["f"]["boundaries"]}
    assert set(found) == {
        "requests.post",
        "os.environ[]",
        "pathlib.Path().write_text",
        "subprocess.run",
        "requests.get",
    }
    assert (
        found["requests.post"]["root"],
        found["requests.post"]["path"],
        found["requests.post"]["arg"],
    ) == ("r", "post", "https://x.test/a")
    assert found["os.environ[]"]["path"] == "__getitem__" and found["os.environ[]"]["arg"] == "HOME"
    assert found["pathlib.Path().write_text"]["path"] == "return_value.write_text"
    assert found["pathlib.Path().write_text"]["arg_param"] == "p"
    assert found["subprocess.run"]["patchable"] is False  # a local import: not a module attribute


def test_generated_tests_collect_and_pass_on_the_unmodified_code(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, info = _run(shop_dir, tmp_path, run_target_tests=True)
    collection = collect_generated_tests(shop_dir, specs)
    assert collection.items == len(specs) == 6, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
    assert {s.status for s in specs} == {"passed"}
    assert info["by_status"] == {"passed": 6}


def _conf(tmp_path: Path, code: str) -> Path:
    root = tmp_path / "t"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "conf.py").write_text(code)
    return root


def test_a_boundary_behind_a_branch_is_called_with_arguments_that_reach_it(
    tmp_path: Path,
) -> None:
    # Before: the sample call home() never reached os.environ and the test failed on DID NOT
    # RAISE, a defect of the test. The branch's condition is now solved: home(True).
    root = _conf(
        tmp_path,
        "import os\n\n\ndef home(flag: bool = False) -> str:\n    if flag:\n"
        "        return os.environ['HOME']\n    return '/'\n\n\n"
        "def user() -> str:\n    return os.getenv('USER', 'nobody')\n",
    )
    specs, _ = _run(root, tmp_path, run_target_tests=True)
    assert {s.subject: s.status for s in specs} == {
        "pkg.conf:home": "passed",
        "pkg.conf:user": "passed",
    }
    home = next(s for s in specs if s.subject == "pkg.conf:home")
    assert "home(True)" in home.test_code


def test_a_boundary_no_arguments_reach_gets_no_test(tmp_path: Path) -> None:
    root = _conf(
        tmp_path,
        "import os\n\nLIMIT = 3\n\n\ndef each(names: list[str]) -> list[str]:\n"
        "    return [os.environ[n] for n in names]\n\n\n"
        "def late() -> str:\n    if LIMIT > 2:\n        return ''\n    return os.getenv('X', '')\n"
        "\n\ndef looped(names: list[str]) -> None:\n    for n in names:\n        os.getenv(n)\n",
    )
    specs, info = _run(root, tmp_path)
    assert specs == []
    assert info["not_reached_on_every_call"] == 3


def test_only_the_first_call_through_a_shared_fake_is_checked(tmp_path: Path) -> None:
    # The fake raises on its first call: a test that expects environ['B'] after environ['A']
    # failed on "assert 'B' in call('A')" (seen on click's shell completion).
    root = _conf(
        tmp_path,
        "import os\n\n\ndef pair() -> tuple[str, str]:\n"
        "    first = os.environ['A']\n    return first, os.environ['B']\n",
    )
    specs, _ = _run(root, tmp_path, run_target_tests=True)
    assert [(s.line, s.status) for s in specs] == [(5, "passed")]
    assert "'A' in str(" in specs[0].test_code


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before = {s.id: (s.subject, s.line) for s in _run(shop_dir, tmp_path)[0]}
    orders = shop_dir / "shop" / "orders.py"
    orders.write_text("# a comment\n\n" + orders.read_text())
    after = {s.id: (s.subject, s.line) for s in _run(shop_dir, tmp_path)[0]}
    moved = {
        i: (sub, line + 2 if sub.startswith("shop.orders:") else line)
        for i, (sub, line) in before.items()
    }
    assert after == moved


def test_pure_code_has_no_integration_points(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "calc.py").write_text(
        "import math\n\n\ndef area(r: float) -> float:\n    return math.pi * r * r\n"
    )
    specs, info = _run(root, tmp_path)
    assert specs == [] and info["integration_points"] == 0
    assert info["summary"].startswith("No calls to the network, databases, files")


def test_a_target_without_python_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "README.md").write_text("# nothing\n")
    with pytest.raises(PerspectiveSkipped):
        _run(tmp_path / "t", tmp_path)


def test_request_handlers_are_tested_through_the_framework_client_not_a_mock_request(
    tmp_path: Path,
) -> None:
    vulnweb = Path(__file__).resolve().parent / "fixtures/vulnweb"
    specs, info = _run(vulnweb, tmp_path)
    home = [s for s in specs if s.subject == "vulnweb.aio:home"]
    assert len(home) == 1 and "TestClient" in home[0].test_code
    assert "MagicMock" not in home[0].test_code
    assert info["by_boundary"].get("framework client", 0) >= 2  # home and back
