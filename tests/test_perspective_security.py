"""Security Audit on the 'shop' fixture: real bandit and detect-secrets runs, no mocks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import Finding
from autocoder.workers.analysis.perspectives.security import SecurityAudit

SHOP = Path(__file__).parent / "fixtures" / "shop"
SECRET_VALUES = (
    "hunter2-super-secret",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)
KEY_BODY = ["MIIEow" + "Ab3+" * 15 + "xY", *["Qz9/" * 16] * 4]  # key-shaped, built at run time
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(KEY_BODY) + "\n-----END RSA PRIVATE KEY-----\n"
)


def audit(root: Path, cache: ResultCache) -> PerspectiveResult:
    ctx = RunContext(
        root=root, commit=None, sources=SourceFiles.discover(root), cache=cache,
        options=RunOptions(network=False),
    )  # fmt: skip
    return SecurityAudit().run(ctx)


def at(result: PerspectiveResult, file: str, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.file == file and f.rule == rule]


@pytest.fixture(scope="module")
def shop_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ResultCache]:
    base = tmp_path_factory.mktemp("security")
    root = base / "shop"
    shutil.copytree(SHOP, root)
    return root, ResultCache(base / "cache.sqlite3")


@pytest.fixture(scope="module")
def shop_audit(shop_copy: tuple[Path, ResultCache]) -> PerspectiveResult:
    return audit(*shop_copy)


def test_security_audit_reports_pickle_loads_with_cwe(shop_audit: PerspectiveResult) -> None:
    [pickle_loads] = at(shop_audit, "shop/storage.py", "B301")
    assert pickle_loads.line == 12
    assert pickle_loads.tool == "bandit"
    assert "CWE-502" in pickle_loads.message
    assert pickle_loads.severity == "medium"


def test_security_audit_rates_shell_true_high_and_flags_eval_and_yaml_load(
    shop_audit: PerspectiveResult,
) -> None:
    [shell] = at(shop_audit, "shop/storage.py", "B602")
    assert (shell.line, shell.severity) == (16, "high")
    assert "CWE-78" in shell.message
    assert [f.line for f in at(shop_audit, "shop/storage.py", "B307")] == [20]
    assert [f.line for f in at(shop_audit, "shop/storage.py", "B506")] == [24]
    assert shop_audit.tools["bandit"]
    assert shop_audit.metrics["by_tool"]["bandit"] == len(
        [f for f in shop_audit.findings if f.tool == "bandit"]
    )


def test_security_audit_finds_aws_keys_and_password_by_type_only(
    shop_audit: PerspectiveResult,
) -> None:
    aws = at(shop_audit, "shop/settings.py", "AWS Access Key")
    assert sorted(f.line for f in aws) == [3, 4]
    assert {f.severity for f in aws} == {"high"}
    assert [f.line for f in at(shop_audit, "shop/storage.py", "Secret Keyword")] == [8]
    assert [f.line for f in at(shop_audit, "shop/storage.py", "B105")] == [8]
    everything = (
        shop_audit.summary
        + json.dumps(shop_audit.metrics)
        + json.dumps([f.model_dump() for f in shop_audit.findings])
    )
    for value in SECRET_VALUES:
        assert value not in everything


def test_security_audit_finds_a_secret_in_an_untracked_file(
    shop_repo: Path, shop_copy: tuple[Path, ResultCache]
) -> None:
    (shop_repo / "deploy").mkdir()
    (shop_repo / "deploy" / "server.key").write_text(PRIVATE_KEY)
    (shop_repo / "logo.bin").write_bytes(b"\x89PNG\0\0" + PRIVATE_KEY.encode())
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=shop_repo, capture_output=True, text=True, check=True
    )
    assert "deploy/server.key" not in tracked.stdout
    result = audit(shop_repo, shop_copy[1])
    [key] = at(result, "deploy/server.key", "Private Key")
    assert (key.line, key.severity) == (1, "critical")
    assert "MIIEowIBAAKCAQEAz1x9" not in key.message
    assert not [f for f in result.findings if f.file == "logo.bin"]  # binary: not scanned
    assert result.metrics["files_skipped_binary_or_huge"] == 1


def test_security_audit_fingerprints_survive_lines_inserted_above(
    shop_dir: Path, shop_copy: tuple[Path, ResultCache]
) -> None:
    cache = shop_copy[1]  # shared: results are keyed by content, so only storage.py reruns
    before = {f.fingerprint: f.line for f in audit(shop_dir, cache).findings}
    storage = shop_dir / "shop" / "storage.py"
    storage.write_text("# a\n# b\n# c\n" + storage.read_text())
    after = audit(shop_dir, cache).findings
    assert {f.fingerprint for f in after} == set(before)
    moved = [f for f in after if f.file == "shop/storage.py"]
    assert moved and all(f.line == before[f.fingerprint] + 3 for f in moved)


def test_security_audit_warm_run_starts_no_analyser(
    shop_copy: tuple[Path, ResultCache],
    shop_audit: PerspectiveResult,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    warm = audit(*shop_copy)  # the shop copy is no git repo: discovery walks, starts nothing
    assert calls == []
    assert [f.model_dump() for f in warm.findings] == [f.model_dump() for f in shop_audit.findings]


def test_security_audit_survives_a_file_that_does_not_parse(
    shop_dir: Path, shop_copy: tuple[Path, ResultCache]
) -> None:
    (shop_dir / "shop" / "broken.py").write_text("def broken(:\n    pass\n")
    result = audit(shop_dir, shop_copy[1])
    assert result.metrics["bandit_unparsed_files"] == ["shop/broken.py"]
    assert at(result, "shop/storage.py", "B301")


def test_security_audit_scans_secrets_when_there_is_no_python(tmp_path: Path) -> None:
    root = tmp_path / "keys"
    root.mkdir()
    (root / "id_rsa").write_text(PRIVATE_KEY)
    result = audit(root, ResultCache(tmp_path / "cache.sqlite3"))
    assert result.skipped["bandit"] == "skipped: no Python files"
    assert [(f.file, f.rule) for f in result.findings] == [("id_rsa", "Private Key")]


def test_security_audit_skips_an_empty_target(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        audit(tmp_path / "empty", ResultCache(tmp_path / "cache.sqlite3"))


def test_bandits_low_confidence_lowers_a_timeout_warning_but_not_an_injection(
    tmp_path: Path,
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "db.py").write_text(
        "import requests\n\n\ndef find(conn, name):\n"
        "    conn.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)\n"
        "    return requests.get(name)\n"
    )
    result = audit(root, ResultCache(tmp_path / "cache.sqlite3"))
    rated = {f.rule: f.severity for f in result.findings}
    assert rated["B608"] == "medium"  # bandit's medium, kept despite its low confidence
    assert rated["B113"] == "low"  # bandit's medium, lowered by its low confidence


def test_a_hardcoded_password_message_says_its_shape_not_its_value(tmp_path: Path) -> None:
    value = "Xq7" + "-correct-horse"
    root = tmp_path / "app"
    root.mkdir()
    (root / "conf.py").write_text(f'password = "{value}"\nTOKEN_TYPE = "bearer"\n')
    result = audit(root, ResultCache(tmp_path / "cache.sqlite3"))
    shapes = {f.line: f.message for f in result.findings if f.rule == "B105"}
    assert "looks like a real credential" in shapes[1] and value not in shapes[1]
    assert "placeholder, a field name or plain words" in shapes[2]


def test_messages_field_names_and_sql_templates_are_not_real_credentials(tmp_path: Path) -> None:
    real = "Xq7" + "-correct-horse"
    root = tmp_path / "app"
    root.mkdir()
    (root / "conf.py").write_text(
        'REASON_CSRF_TOKEN_MISSING = "CSRF token missing."\n'
        "set_password = 'ALTER USER %(user)s IDENTIFIED BY \"%(password)s\"'\n"
        'def check(form, password_field_name="password2"):\n    return form\n'
        f'password = "{real}"\n'
    )
    result = audit(root, ResultCache(tmp_path / "cache.sqlite3"))
    shapes = {f.line: f.message for f in result.findings if f.rule in {"B105", "B107"}}
    assert sorted(shapes) == [1, 2, 3, 5]
    assert [n for n, text in shapes.items() if "looks like a real credential" in text] == [5]
