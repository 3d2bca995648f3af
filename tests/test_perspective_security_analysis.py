"""Security Analysis: abuse-case tests for parameters that reach eval, SQL, a shell, pickle/yaml
or a path, from the analysis worker's Security Audit when its dataset is there, else an own scan."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from autocoder.cli import main
from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.store.dataset import LocalDataset
from autocoder.workers.test_planning.perspectives.security_analysis import SecurityAnalysis
from autocoder.workers.test_planning.verify import collect_generated_tests, run_generated_tests

SHOP = Path(__file__).parent / "fixtures" / "shop"
Ran = tuple[Path, list[TestSpec], dict]


def _run(
    root: Path,
    tmp_path: Path,
    commit: str | None = None,
    data: Path | None = None,
    **options: object,
) -> tuple[list[TestSpec], dict]:
    ctx = RunContext(
        root=root, commit=commit, sources=SourceFiles.discover(root),
        cache=ResultCache(tmp_path / "cache.sqlite3"), options=RunOptions(**options),  # type: ignore[arg-type]
        peers=(lambda name: LocalDataset(data / name) if (data / name).is_dir() else None) if data else (lambda _name: None),
    )  # fmt: skip
    result = SecurityAnalysis().run(ctx)
    specs = [s for s in result.items if isinstance(s, TestSpec)]
    return specs, {"summary": result.summary, **result.details, **result.metrics}


def _by(specs: list[TestSpec], subject: str) -> TestSpec:
    return next(s for s in specs if s.subject == subject)


@pytest.fixture(scope="module")
def shop_ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """The shop fixture, own scan, with the generated tests run once against the unmodified code."""
    tmp = tmp_path_factory.mktemp("ran")
    shutil.copytree(SHOP, tmp / "shop")
    return tmp / "shop", *_run(tmp / "shop", tmp, run_target_tests=True)


def test_every_dangerous_sink_of_the_shop_gets_an_abuse_case_that_fails_today(
    shop_ran: Ran,
) -> None:
    _root, specs, info = shop_ran
    got = {s.subject: (s.line, s.kind, s.status) for s in specs}
    assert got == {
        "shop.storage:evaluate": (20, "security", "failed"),  # eval(expression)
        "shop.storage:load_blob": (12, "security", "failed"),  # pickle.loads(blob)
        "shop.storage:backup": (16, "security", "failed"),  # shell=True with an f-string
        "shop.orders:load_order": (
            13,
            "security",
            "failed",
        ),  # open(f"/var/shop/orders/{order_id}.json")
        "shop.storage:read_config": (
            24,
            "security",
            "passed",
        ),  # PyYAML 6 refuses yaml.load without a Loader
    }
    assert info["source"] == "own AST scan: no Security Audit record in autocoder-analysis-results"
    assert info["by_category"] == {"code": 1, "deserialise": 2, "shell": 1, "path": 1}
    assert "os.path.realpath('/var/shop/orders/')" in _by(specs, "shop.orders:load_order").test_code
    assert "backup(path=PAYLOAD)" in _by(specs, "shop.storage:backup").test_code
    assert "pickle.dumps(_Probe())" in _by(specs, "shop.storage:load_blob").test_code
    assert (
        "shop.storage:save" not in got
    )  # open(path, "w"): the path is the input itself, not built from it


def test_generated_tests_collect(shop_ran: Ran) -> None:
    root, specs, _info = shop_ran
    collection = collect_generated_tests(root, specs)
    assert collection.items == len(specs) == 5, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_quoting_the_shell_argument_and_literal_eval_make_the_abuse_cases_pass(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(shop_dir, tmp_path)
    storage = shop_dir / "shop" / "storage.py"
    fixed = storage.read_text().replace(
        "import pickle\n", "import ast\nimport pickle\nimport shlex\n"
    )
    fixed = fixed.replace('{path}", shell=True', '{shlex.quote(path)}", shell=True').replace(
        "eval(expression)", "ast.literal_eval(expression)"
    )
    storage.write_text(fixed)
    chosen = [s for s in specs if s.subject in ("shop.storage:backup", "shop.storage:evaluate")]
    assert [s.status for s in run_generated_tests(shop_dir, chosen, 120)] == ["passed", "passed"]


def test_sql_built_with_an_f_string_and_a_path_from_input_in_the_ledger(
    ledger_dir: Path, tmp_path: Path
) -> None:
    specs, _info = _run(ledger_dir, tmp_path)
    sql = _by(specs, "ledger.storage.db:find_owner")
    assert (sql.file, sql.line, sql.inputs) == ("ledger/storage/db.py", 19, "owner: x' OR '1'='1")
    assert "find_owner(conn=connection, owner=PAYLOAD)" in sql.test_code
    path = _by(specs, "ledger.storage.files:read_statement")
    assert path.line == 45 and "os.path.realpath('/srv/ledger/statements/')" in path.test_code
    assert "ledger.storage.db:post_transfer" not in {s.subject for s in specs}  # parameterised SQL


def test_security_audit_findings_are_used_when_the_analysis_dataset_is_there(
    shop_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    data = tmp_path / "data"
    assert (
        main(
            [
                "once",
                "analysis",
                "--target",
                str(shop_repo),
                "--data-dir",
                str(data),
                "--iterations",
                "4",
            ]
        )
        == 0
    )
    capsys.readouterr()
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=shop_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    specs, info = _run(shop_repo, tmp_path, commit, data)
    assert info["source"] == "Security Audit findings of autocoder-analysis-results iteration 4"
    assert info["source"] in info["summary"] and info["by_category"] == {
        "deserialise": 2,
        "shell": 1,
        "code": 1,
        "path": 1,
    }
    assert "shop/storage.py:16 B602 -> shop.storage:backup" in info["mapped_findings"]
    assert "shop/storage.py:12 B301 -> shop.storage:load_blob" in info["mapped_findings"]
    assert {"shop/settings.py:3 AWS Access Key", "shop/storage.py:4 B404"} <= set(
        info["findings_without_abuse_case"]
    )
    backup = _by(specs, "shop.storage:backup")
    assert backup.rationale.startswith("bandit B602: path reaches `subprocess.call(")
    assert _by(specs, "shop.orders:load_order").rationale.startswith(
        "order_id reaches"
    )  # bandit has no path rule: own scan
    own, other = _run(shop_repo, tmp_path, "0" * 40, data)
    assert (
        other["source"] == f"own AST scan: the Security Audit ran at {commit}, target at {'0' * 40}"
    )
    assert {s.id for s in own} == {s.id for s in specs}  # the same specs whichever the source


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before = {s.subject: s.id for s in _run(shop_dir, tmp_path)[0]}
    storage = shop_dir / "shop" / "storage.py"
    storage.write_text("# moved\n\n\n" + storage.read_text())
    after = _run(shop_dir, tmp_path)[0]
    assert {s.subject: s.id for s in after} == before
    assert _by(after, "shop.storage:evaluate").line == 23


def test_target_with_safe_calls_has_nothing_to_say(tmp_path: Path) -> None:
    root = tmp_path / "t"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "m.py").write_text(
        "import subprocess\nimport yaml\n\n\ndef archive(path: str) -> int:\n    return subprocess.call(['tar', 'czf', 'out.tgz', path])\n\n\n"
        "def config(text: str):\n    return yaml.load(text, Loader=yaml.SafeLoader)\n\n\n"
        "def find(conn, name: str):\n    return conn.execute('SELECT * FROM t WHERE name = ?', (name,))\n"
    )
    specs, info = _run(root, tmp_path)
    assert specs == [] and info["summary"].startswith("No parameter reaches eval, SQL, a shell")


def test_target_without_python_files_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "README.md").write_text("nothing here\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(tmp_path / "t", tmp_path)
