"""Test Pyramid: existing tests by layer, the ratio, and integration / end-to-end gaps as specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import PerspectiveResult
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.test_pyramid import TestPyramid
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import context, write_target

CLI = """import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tiers")
    parser.add_argument("--name", default="x")
    parser.parse_args(argv)
    return 0
"""
TIERS = {
    "pyproject.toml": '[project]\nname = "tiers"\n\n[project.scripts]\ntiers = "tiers.cli:main"\n',
    "tiers/__init__.py": "",
    "tiers/cli.py": CLI,
    "tiers/store.py": """import os


def save(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def home() -> str:
    configured = os.environ.get("TIERS_HOME")
    return "/srv/tiers"
""",
    "tiers/net.py": "import requests\n\n\ndef fetch(url: str) -> bytes:\n    return requests.get(url).content\n",
    "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef workdir(tmp_path):\n    return tmp_path\n",
    "tests/test_plain.py": "def test_plain():\n    assert 1 + 1 == 2\n",
    "tests/test_files.py": """import pytest

from tiers.store import save


def test_save(workdir):
    save(str(workdir / "x"), "t")


@pytest.mark.integration
def test_marked():
    assert save
""",
    "tests/test_views.py": """import unittest

from django.test import LiveServerTestCase, TestCase


class AccountTests(TestCase):
    def test_saves(self):
        self.assertTrue(True)


class BrowserTests(LiveServerTestCase):
    def test_page(self):
        self.assertTrue(True)


class HelperTest(unittest.TestCase):
    def test_helper(self):
        self.assertEqual(1, 1)
""",
    "tests/e2e/test_cli.py": """import subprocess
import sys


def test_cli_help():
    subprocess.run([sys.executable, "-m", "tiers.cli", "--help"], check=False)
""",
}


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], PerspectiveResult]:
    ctx = context(root, tmp_path, **options)
    result = TestPyramid().run(ctx)
    return [s for s in result.items if isinstance(s, TestSpec)], result


def test_tests_are_classified_by_what_they_touch(tmp_path: Path) -> None:
    _specs, result = _run(write_target(tmp_path, TIERS), tmp_path)
    listed = result.details["tests"]
    assert "tests/test_plain.py:1 test_plain: unit (no I/O, process or client)" in listed
    assert (
        "tests/test_files.py:6 test_save: integration (fixture workdir (fixture tmp_path))"
        in listed
    )
    assert "tests/test_files.py:11 test_marked: integration (@mark.integration)" in listed
    assert "tests/e2e/test_cli.py:5 test_cli_help: end-to-end (subprocess.run)" in listed
    assert "tests/test_views.py:7 test_saves: integration (base TestCase (database))" in listed
    assert "tests/test_views.py:12 test_page: end-to-end (base LiveServerTestCase)" in listed
    assert "tests/test_views.py:17 test_helper: unit (no I/O, process or client)" in listed
    levels = (result.metrics["unit"], result.metrics["integration"], result.metrics["end-to-end"])
    assert levels == (2, 3, 2)
    assert result.metrics["ratio"] == {"unit": 0.286, "integration": 0.429, "end-to-end": 0.286}


def test_gaps_become_integration_specs_and_a_failing_one_is_kept(tmp_path: Path) -> None:
    root = write_target(tmp_path, TIERS)
    (root / "tests" / "test_files.py").unlink()  # tiers.store loses its integration tests
    specs, result = _run(root, tmp_path, run_target_tests=True, tool_timeout_s=120)
    assert result.details["integration_gaps"] == {
        "tiers.net": ["network"],
        "tiers.store": ["environment", "filesystem"],
    }
    by_key = {(s.subject, s.kind): s for s in specs}
    save = by_key[("tiers.store:save", "integration")]
    assert (save.file, save.line, save.status) == ("tiers/store.py", 5, "passed")
    assert "save(str(tmp_path / \"save.out\"), 'text')" in save.test_code
    home = by_key[("tiers.store:home", "integration")]
    assert home.line == 10 and home.mocks == "monkeypatch.setenv"
    assert home.status == "failed"  # reads $TIERS_HOME and ignores it: kept as a finding
    assert "tiers.cli:main" not in {s.subject for s in specs}  # the e2e test runs `tiers.cli`
    assert result.details["end_to_end_gaps"] == []


def test_shop_has_only_unit_tests_and_two_integration_gaps(shop_dir: Path, tmp_path: Path) -> None:
    specs, result = _run(shop_dir, tmp_path, run_target_tests=True, tool_timeout_s=120)
    assert result.metrics["ratio"] == {"unit": 1.0, "integration": 0.0, "end-to-end": 0.0}
    assert result.details["integration_gaps"] == {
        "shop.orders": ["environment", "filesystem", "network"],
        "shop.storage": ["filesystem", "subprocess"],
    }
    assert {(s.subject, s.kind, s.line, s.status) for s in specs} == {
        ("shop.orders:data_dir", "integration", 69, "passed"),
        ("shop.storage:save", "integration", 28, "passed"),
    }
    assert result.summary.startswith(
        "2 tests: 2 unit (100%), 0 integration (0%), 0 end-to-end (0%)."
    )


def test_console_script_without_end_to_end_test_gets_one(ledger_dir: Path, tmp_path: Path) -> None:
    specs, result = _run(ledger_dir, tmp_path)
    cli = next(s for s in specs if s.kind == "end-to-end")
    assert (cli.subject, cli.file, cli.line) == ("ledger.cli:main", "ledger/cli.py", 14)
    assert (
        "from ledger.cli import main; sys.exit(main())" in cli.test_code
        and '"--help"' in cli.test_code
    )
    assert result.details["end_to_end_gaps"] == ["ledger -> ledger.cli:main"]
    collection = collect_generated_tests(ledger_dir, specs)
    assert collection.items == len(specs), collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before = {s.subject: s.id for s in _run(shop_dir, tmp_path)[0]}
    storage = shop_dir / "shop" / "storage.py"
    storage.write_text("# a comment\n\n" + storage.read_text())
    after = _run(shop_dir, tmp_path)[0]
    assert {s.subject: s.id for s in after} == before
    assert next(s for s in after if s.subject == "shop.storage:save").line == 30


def test_a_complete_pyramid_has_nothing_to_say(tmp_path: Path) -> None:
    files = {k: v for k, v in TIERS.items() if k not in ("tiers/net.py",)}
    files["tiers/store.py"] = files["tiers/store.py"].split("\n\ndef home")[0] + "\n"
    specs, result = _run(write_target(tmp_path, files), tmp_path)
    assert specs == []
    assert "No gap" in result.summary


def test_target_without_python_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(write_target(tmp_path, {"README.md": "docs"}), tmp_path)
