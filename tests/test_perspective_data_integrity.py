"""Data Integrity: non-atomic writes get crash tests, serialisation pairs get Hypothesis
round-trips, transactions without rollback get a failing-statement test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.data_integrity import DataIntegrity
from autocoder.workers.test_planning.verify import collect_generated_tests, run_generated_tests

from perspectivekit import run_specs, write_files

LEDGER = Path(__file__).parent / "fixtures" / "ledger"
Ran = tuple[Path, list[TestSpec], dict]


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], dict]:
    return run_specs(DataIntegrity(), root, tmp_path, **options)


def _by(specs: list[TestSpec], subject: str) -> TestSpec:
    return next(s for s in specs if s.subject == subject)


@pytest.fixture(scope="module")
def ledger_ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """The ledger fixture with the generated tests run once against the unmodified code."""
    tmp = tmp_path_factory.mktemp("ran")
    shutil.copytree(LEDGER, tmp / "ledger")
    return tmp / "ledger", *_run(tmp / "ledger", tmp, run_target_tests=True)


def test_write_in_place_fails_the_crash_test_and_the_atomic_variant_is_not_reported(
    ledger_ran: Ran,
) -> None:
    _root, specs, _info = ledger_ran
    write = _by(specs, "ledger.storage.files:save_balances")
    assert (write.kind, write.file, write.line, write.status) == (
        "integration",
        "ledger/storage/files.py",
        11,
        "failed",
    )
    assert "save_balances(path=str(target), balances={})" in write.test_code
    assert 'monkeypatch.setattr(target_module, "open", crashing, raising=False)' in write.test_code
    assert "ledger.storage.files:save_balances_atomically" not in {s.subject for s in specs}
    assert "ledger.boundaries.journal:append_entry" not in {
        s.subject for s in specs
    }  # appends, never truncates


def test_serialisation_pairs_become_hypothesis_round_trips_and_the_lossy_one_fails(
    ledger_ran: Ran,
) -> None:
    _root, specs, info = ledger_ran
    dumps, amount = (
        _by(specs, "ledger.storage.codec:dumps"),
        _by(specs, "ledger.storage.codec:encode_amount"),
    )
    entry = _by(specs, "ledger.storage.codec:Entry.to_dict")
    assert {dumps.kind, amount.kind, entry.kind} == {"property"}
    assert (dumps.line, dumps.status, amount.line, amount.status, entry.status) == (
        7,
        "passed",
        15,
        "failed",
        "passed",
    )
    assert "@given(value=st.dictionaries(st.text(), st.integers()))" in dumps.test_code
    assert "assert loads(dumps(balances=value)) == value" in dumps.test_code
    assert "assert decode_amount(encode_amount(cents=value)) == value" in amount.test_code
    assert (
        "@given(obj=st.builds(Entry))" in entry.test_code
        and 'pytest.importorskip("hypothesis")' in entry.test_code
    )
    assert info["pairs"] == 3


def test_commit_without_rollback_fails_and_with_connection_is_not_reported(ledger_ran: Ran) -> None:
    _root, specs, info = ledger_ran
    post = _by(specs, "ledger.storage.db:post_transfer")
    assert (post.kind, post.line, post.status) == ("unit", 9, "failed")
    assert "post_transfer(conn=connection, source='x', target='x', cents=1)" in post.test_code
    assert "ledger.storage.db:open_account" not in {s.subject for s in specs}
    assert info["transactions"] == 1


def test_generated_tests_collect(ledger_ran: Ran) -> None:
    root, specs, _info = ledger_ran
    collection = collect_generated_tests(root, specs)
    assert collection.items == len(specs) >= 5, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_crash_test_passes_once_the_write_is_atomic(ledger_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(ledger_dir, tmp_path)
    files = ledger_dir / "ledger" / "storage" / "files.py"
    source = files.read_text()
    files.write_text(
        source.replace(
            '    with open(path, "w", encoding="utf-8") as fh:\n        json.dump(balances, fh)\n',
            '    with open(path + ".tmp", "w", encoding="utf-8") as fh:\n        json.dump(balances, fh)\n    os.replace(path + ".tmp", path)\n',
            1,
        )
    )
    write = [_by(specs, "ledger.storage.files:save_balances")]
    assert [s.status for s in run_generated_tests(ledger_dir, write, 120)] == ["passed"]


def test_shop_save_and_no_test_when_no_call_can_be_built(shop_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(shop_dir, tmp_path)
    assert [(s.subject, s.line, s.kind) for s in specs] == [
        ("shop.storage:save", 28, "integration")
    ]
    root = write_files(tmp_path / "t", {"pkg/__init__.py": "", "pkg/store.py": (
        "import json\nimport sqlite3\n\n\nclass Store:\n    def __init__(self, path: str) -> None:\n        self.path = path\n\n"
        "    def save(self, data: dict) -> None:\n        with open(self.path, 'w') as fh:\n            json.dump(data, fh)\n\n\n"
        "def record(database: str, names: list[str]) -> None:\n    db = sqlite3.connect(database)\n"
        "    for name in names:\n        db.execute('INSERT INTO t VALUES (?)', (name,))\n    db.execute('DELETE FROM u')\n    db.commit()\n\n\n"
        "def encode(value):\n    return str(value)\n\n\ndef decode(text):\n    return int(text)\n"
    )})  # fmt: skip
    specs, info = _run(root, tmp_path)
    # Store.save: no call can be built, and a test reading its source for os.replace would pass
    # on broken code, so there is none (it was an inspect.getsource check)
    assert "pkg.store:Store.save" not in {s.subject for s in specs}
    assert not any("inspect." in s.test_code for s in specs)
    record = _by(specs, "pkg.store:record")
    assert (
        'monkeypatch.setattr(target_module.sqlite3, "connect"' in record.test_code
        and record.line == 19
    )
    assert "record(database='x', names=[])" in record.test_code
    assert (info["pairs"], info["without_test"]) == (1, 2)


def test_spec_ids_are_stable_when_unrelated_lines_move(ledger_dir: Path, tmp_path: Path) -> None:
    before = {s.subject: s.id for s in _run(ledger_dir, tmp_path)[0]}
    for name in ("files.py", "codec.py", "db.py"):
        path = ledger_dir / "ledger" / "storage" / name
        path.write_text("# moved\n\n" + path.read_text())
    after = _run(ledger_dir, tmp_path)[0]
    assert {s.subject: s.id for s in after} == before
    assert _by(after, "ledger.storage.db:post_transfer").line == 11


def test_target_with_atomic_writes_and_no_codecs_has_nothing_to_say(tmp_path: Path) -> None:
    root = write_files(tmp_path / "t", {"pkg/__init__.py": "", "pkg/m.py": (
        "import os\n\n\ndef save(path: str, text: str) -> None:\n    with open(path + '.tmp', 'w') as fh:\n"
        "        fh.write(text)\n    os.replace(path + '.tmp', path)\n\n\ndef read(path: str) -> str:\n"
        "    with open(path) as fh:\n        return fh.read()\n"
    )})  # fmt: skip
    specs, info = _run(root, tmp_path)
    assert specs == [] and info["summary"].startswith("No file written in place")


def test_target_without_python_files_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "README.md").write_text("nothing here\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(tmp_path / "t", tmp_path)
