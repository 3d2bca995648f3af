"""The severity policy, class by class: real bandit and ruff runs on a small vulnerable app, and
the policy's own rules on hand-made findings over real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis import severity
from autocoder.workers.analysis.insights import AnalysisInsights
from autocoder.workers.analysis.perspectives.code_quality import CodeQualityAnalysis
from autocoder.workers.analysis.perspectives.security import SecurityAudit
from autocoder.workers.analysis.records import record_analysis
from autocoder.workers.analysis.spec import rated

from perspectivekit import write_files

PASSWORD = "Tr0ub4dor" + "-and-3"  # a literal in the target only: built here at run time
VIEWS = f'''import hashlib
import hmac
import os
import subprocess


def find_user(conn, name):
    query = "SELECT * FROM users WHERE name = '%s'" % name
    return conn.execute(query).fetchall()


def raw_users(User, name):
    return User.objects.raw("SELECT * FROM users WHERE name = '" + name + "'")


def ping(host):
    os.system("ping -c 1 " + host)


def open_in_editor(filename):
    editor = os.environ.get("EDITOR", "vi")
    subprocess.call(f"{{editor}} {{filename}}", shell=True)


def hash_password(password):
    return hashlib.md5(password.encode()).hexdigest()


def etag(body):
    return hashlib.sha1(body).hexdigest()


def _sha1(data=b""):
    return hashlib.sha1(data)


SIGNER = dict(key_derivation="hmac", digest_method=_sha1)


def cache_key(body):
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def message(n):
    return "Please select one of %d options from the list" % n


def login(user):
    password = "{PASSWORD}"
    return user.check(password)


def logout(user):
    token = "bearer"
    return user.drop(token)
'''
LINES = {
    "sql": 8, "raw": 13, "system": 17, "editor": 22, "md5_password": 26, "sha1_etag": 30,
    "sha1_hmac": 34, "prose": 45, "password": 49, "plain_word": 54,
}  # fmt: skip
INJECTIONS = {LINES["sql"], LINES["raw"], LINES["system"]}


def run(perspective: object, root: Path, cache: ResultCache) -> PerspectiveResult:
    ctx = RunContext(
        root=root, commit=None, sources=SourceFiles.discover(root), cache=cache,
        options=RunOptions(network=False),
    )  # fmt: skip
    return rated(perspective).run(ctx)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> PerspectiveResult:
    base = tmp_path_factory.mktemp("severity")
    root = write_files(base / "app", {"app/views.py": VIEWS})
    return run(SecurityAudit(), root, ResultCache(base / "cache.sqlite3"))


def at(result: PerspectiveResult, line: int, tool: str = "bandit") -> Finding:
    [found] = [f for f in result.findings if f.line == line and f.tool == tool]
    return found


def test_sql_built_by_formatting_is_high_despite_bandits_low_confidence(
    audit: PerspectiveResult,
) -> None:
    for line in (LINES["sql"], LINES["raw"]):
        sql = at(audit, line)
        assert (sql.rule, sql.severity) == ("B608", "high")
        assert "confidence low" in sql.message and "CWE-89" in sql.message


def test_sql_like_prose_is_not_raised_to_high(audit: PerspectiveResult) -> None:
    prose = at(audit, LINES["prose"])
    assert (prose.rule, prose.severity) == ("B608", "medium")


def test_shell_command_built_at_run_time_is_high(audit: PerspectiveResult) -> None:
    assert at(audit, LINES["system"]).severity == "high"


def test_shell_command_from_the_users_environment_is_medium(audit: PerspectiveResult) -> None:
    editor = at(audit, LINES["editor"])
    assert editor.severity == "medium" and "no trust boundary" in editor.message


def test_hardcoded_password_that_looks_real_is_high_and_its_value_withheld(
    audit: PerspectiveResult,
) -> None:
    password = at(audit, LINES["password"])
    assert password.severity == "high" and "hard-coded credential" in password.message
    assert PASSWORD not in password.message


def test_hardcoded_plain_word_stays_low(audit: PerspectiveResult) -> None:
    assert at(audit, LINES["plain_word"]).severity == "low"


def test_weak_hash_of_a_password_is_high(audit: PerspectiveResult) -> None:
    md5 = at(audit, LINES["md5_password"])
    assert (md5.rule, md5.severity) == ("B324", "high")


def test_weak_hash_of_something_else_is_medium(audit: PerspectiveResult) -> None:
    assert at(audit, LINES["sha1_etag"]).severity == "medium"


def test_sha1_handed_to_an_hmac_signer_is_info(audit: PerspectiveResult) -> None:
    hmac_sha1 = at(audit, LINES["sha1_hmac"])
    assert hmac_sha1.severity == "info" and "HMAC" in hmac_sha1.message


def test_hash_declared_not_for_security_is_info(tmp_path: Path) -> None:
    src = sources(tmp_path, {"k.py": "def key(b):\n    return md5(b, usedforsecurity=False)\n"})
    [f], _ = severity.rate([finding("S324", "high", "k.py", 2, "ruff")], "security", src)
    assert f.severity == "info" and "usedforsecurity=False" in f.message


def test_injections_rank_first_in_the_record(audit: PerspectiveResult) -> None:
    top = record_analysis(audit)["top_findings"]
    assert {f["line"] for f in top[:3]} == INJECTIONS
    assert audit.metrics["by_severity"] == severity_counts(audit.findings)


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return {s: counts[s] for s in ("critical", "high", "medium", "low", "info") if s in counts}


# -- rules on hand-made findings over real files -------------------------------------------------


def finding(rule: str, sev: Severity, file: str, line: int, tool: str = "bandit") -> Finding:
    return Finding(
        tool=tool, rule=rule, severity=sev, file=file, line=line,
        message=f"{rule} at {file}:{line}", fingerprint=f"{rule}{file}{line}",
    )  # fmt: skip


def sources(tmp_path: Path, files: dict[str, str]) -> SourceFiles:
    return SourceFiles.discover(write_files(tmp_path / "t", files))


ANNOTATED = "def f():\n    local: Missing = 1\n    return local\n\n\ndef g():\n    return Missing\n"


def test_undefined_name_only_in_a_local_annotation_is_info(tmp_path: Path) -> None:
    src = sources(tmp_path, {"m.py": ANNOTATED})
    f = finding("F821", "high", "m.py", 2, tool="ruff").model_copy(
        update={"message": "F821: Undefined name `Missing`"}
    )
    [rated_f], _ = severity.rate([f], "code_quality", src)
    assert rated_f.severity == "info" and "never evaluates" in rated_f.message


def test_undefined_name_used_at_run_time_stays_high(tmp_path: Path) -> None:
    src = sources(tmp_path, {"m.py": ANNOTATED + "\n\nclass C:\n    def h(self):\n"
                             "        class D:\n            x: Missing = 1\n"})  # fmt: skip
    for line in (7, 13):  # a return value; a class body inside a function is evaluated
        f = finding("F821", "high", "m.py", line, tool="ruff").model_copy(
            update={"message": "F821: Undefined name `Missing`"}
        )
        assert severity.rate([f], "code_quality", src)[0][0].severity == "high"


def test_tools_that_agree_raise_a_finding_one_step_saying_who(tmp_path: Path) -> None:
    src = sources(tmp_path, {"db.py": 'q = "SELECT * FROM t WHERE a = %s" % a\nx = 1\n'})
    found = [finding("B608", "medium", "db.py", 1), finding("S608", "medium", "db.py", 1, "ruff")]
    rated_findings, stats = severity.rate(found, "security", src)
    assert [f.severity for f in rated_findings] == ["critical", "critical"]
    assert "also reported by ruff S608" in rated_findings[0].message and stats.raised == 2


def test_tools_on_different_lines_do_not_corroborate(tmp_path: Path) -> None:
    src = sources(tmp_path, {"db.py": 'q = "SELECT * FROM t WHERE a = %s" % a\nx = 1\n'})
    found = [finding("B608", "medium", "db.py", 1), finding("S608", "medium", "db.py", 2, "ruff")]
    assert severity.rate(found, "security", src)[0][0].severity == "high"


@pytest.mark.parametrize(
    ("file", "expected"),
    [("tests/test_db.py", "medium"), ("docs/conf.py", "medium"), ("app/migrations/0001_a.py",
     "medium"), ("examples/demo.py", "medium"), ("app/db.py", "high")],
)  # fmt: skip
def test_findings_outside_shipped_code_go_down_one_step(
    tmp_path: Path, file: str, expected: str
) -> None:
    src = sources(tmp_path, {file: 'q = "SELECT * FROM t WHERE a = %s" % a\n'})
    [f], _ = severity.rate([finding("B608", "medium", file, 1)], "security", src)
    assert f.severity == expected


def test_style_findings_in_tests_are_dropped_and_defects_kept(tmp_path: Path) -> None:
    src = sources(tmp_path, {"tests/test_a.py": "import os\ndef test_A(): pass\n", "a.py": "x=1\n"})
    found = [finding("N802", "info", "tests/test_a.py", 2, "ruff"),
             finding("F401", "medium", "tests/test_a.py", 1, "ruff"),
             finding("N802", "info", "a.py", 1, "ruff")]  # fmt: skip
    kept, stats = severity.rate(found, "code_quality", src)
    assert [(f.rule, f.file, f.severity) for f in kept] == [
        ("F401", "tests/test_a.py", "low"), ("N802", "a.py", "info")
    ]  # fmt: skip
    assert stats.dropped == {"test": 1}


def test_entropy_strings_in_lock_and_pre_commit_files_are_dropped(tmp_path: Path) -> None:
    src = sources(tmp_path, {"uv.lock": "h\n", ".pre-commit-config.yaml": "r\n", "k.py": "k\n"})
    found = [finding("Hex High Entropy String", "low", name, 1, "detect-secrets")
             for name in ("uv.lock", ".pre-commit-config.yaml", "k.py")]  # fmt: skip
    kept, _ = severity.rate(found, "security", src)
    assert [f.file for f in kept] == ["k.py"]


def test_dependency_findings_keep_their_severity_in_manifests(tmp_path: Path) -> None:
    src = sources(tmp_path, {"tests/requirements.txt": "x\n"})
    f = finding("unpinned", "medium", "tests/requirements.txt", 1, "requirements")
    assert severity.rate([f], "dependencies", src)[0][0].severity == "medium"


def test_policy_counts_and_summary_match_the_rated_findings(tmp_path: Path) -> None:
    root = write_files(tmp_path / "t", {"a.py": "import os\n", "tests/test_a.py": "import os\n"})
    result = run(CodeQualityAnalysis(), root, ResultCache(tmp_path / "c.sqlite3"))
    assert [(f.file, f.severity) for f in result.findings] == [
        ("a.py", "medium"), ("tests/test_a.py", "low")
    ]  # fmt: skip
    assert result.metrics["by_severity"] == {"medium": 1, "low": 1}
    assert "2 issues (1 medium, 1 low)" in result.summary and "1 lowered" in result.summary


def test_placeholder_password_does_not_vouch_for_a_secret_on_its_line(tmp_path: Path) -> None:
    src = sources(tmp_path, {"conf.py": 'SECRET_KEY = "dev"\n'})
    bandit = finding("B105", "low", "conf.py", 1).model_copy(
        update={"message": "Possible hardcoded password (value withheld; looks like a placeholder)"}
    )
    keyword = finding("Secret Keyword", "medium", "conf.py", 1, "detect-secrets")
    rated_findings, stats = severity.rate([bandit, keyword], "security", src)
    assert [f.severity for f in rated_findings] == ["low", "medium"] and stats.raised == 0


@pytest.mark.parametrize(
    ("path", "context"),
    [("db/alembic/versions/1a2b.py", "migration"), ("pkg/versions/v1.py", None),
     ("shop/migrations/0002_auto.py", "migration"), ("django/db/migrations/state.py", None),
     ("poetry.lock", "lock"), (".pre-commit-config.yaml", "pre-commit"),
     ("src/testing/util.py", "test"), ("tests/fixtures/x.py", "fixture"), ("src/app.py", None)],
)  # fmt: skip
def test_file_context_names_what_is_not_shipped_code(path: str, context: str | None) -> None:
    assert severity.file_context(path) == context


def test_insights_count_a_finding_at_its_latest_rating() -> None:
    insights = AnalysisInsights({})
    high = finding("F821", "high", "m.py", 2, tool="ruff")
    for iteration, f in enumerate([high, high.model_copy(update={"severity": "info"})], start=1):
        insights.apply(iteration, SecurityAudit(), "ok", PerspectiveResult("", findings=[f]))
    counts = insights.summary()["unique_findings_by_severity"]
    assert (counts["high"], counts["info"], insights.summary()["unique_findings"]) == (0, 1, 1)


def test_ruffs_undefined_name_in_a_local_annotation_is_info_end_to_end(tmp_path: Path) -> None:
    root = write_files(tmp_path / "t", {"m.py": ANNOTATED})
    result = run(CodeQualityAnalysis(), root, ResultCache(tmp_path / "c.sqlite3"))
    undefined = {f.line: f.severity for f in result.findings if f.rule == "F821"}
    assert undefined == {2: "info", 7: "high"}
