"""Reports over the analysis dataset: SARIF 2.1.0 for code scanning, and a severity gate."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from autocoder import __version__
from autocoder.apps import rule_docs
from autocoder.errors import StoreError
from autocoder.schema import FINDINGS, SEVERITIES, severity_rank
from autocoder.store.dataset import Dataset
from autocoder.store.reader import latest_per_perspective, rows_of_iteration

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}
AUTOCODER_COMPONENT = {
    "name": "autocoder",
    "version": __version__,
    "semanticVersion": __version__,
    "informationUri": rule_docs.AUTOCODER_URI,
}  # the extension of every run: it ran the analyser and rated the findings (severity policy)


def latest_findings(reader: Dataset) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The findings of the newest successful pass of every perspective, and those records."""
    records = latest_per_perspective(reader)
    if not records:
        raise StoreError(
            f"no successful analysis iteration in {reader.location} yet; run "
            "`autocoder once analysis --iterations 6` first"
        )
    findings: list[dict[str, Any]] = []
    for record in records.values():
        findings.extend(rows_of_iteration(reader, FINDINGS, record["iteration"]))
    return findings, list(records.values())


def _result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ruleId": row["rule"],
        "level": LEVELS[row["severity"]],
        "message": {"text": row["message"]},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": row["file"], "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": max(int(row["line"]), 1)},
                }
            }
        ],
        "partialFingerprints": {"autocoder/v1": row["fingerprint"]},
        "properties": {"severity": row["severity"], "perspective": row["perspective_name"]},
    }


def _rule(tool: str, rule: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A rule as code scanning shows it: the rule's own description as its title, the worst
    severity seen as its level, and a security score only when it is a security rule."""
    worst = min((r["severity"] for r in rows), key=severity_rank)
    text, help_uri = rule_docs.describe(tool, rule)
    descriptor: dict[str, Any] = {
        "id": rule,
        "shortDescription": {"text": text[:1000]},
        "defaultConfiguration": {"level": LEVELS[worst]},
    }
    if help_uri:
        descriptor["helpUri"] = help_uri
    if rule_docs.is_security_rule(tool, rule):
        descriptor["properties"] = {
            "tags": ["security"],
            "security-severity": SECURITY_SEVERITY[worst],
        }
    return descriptor


def repository_uri(repo: str) -> str | None:
    """The repository as a URI code scanning accepts: an http(s) git remote without any
    credentials in it, or None (a local folder, an scp-style ``git@host:path``)."""
    parts = urlsplit(repo)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _tool_versions(records: list[dict[str, Any]]) -> dict[str, str]:
    """tool -> version, as the newest records of the perspectives say they ran them."""
    versions: dict[str, str] = {}
    for record in records:
        versions.update((record.get("analysis") or {}).get("tools") or {})
    return versions


def _run(tool: str, rows: list[dict[str, Any]], version: str | None) -> dict[str, Any]:
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_rule.setdefault(row["rule"], []).append(row)
    rules = [_rule(tool, rule, group) for rule, group in sorted(by_rule.items())]
    return {
        "tool": {
            "driver": {**rule_docs.driver(tool, version), "rules": rules},
            "extensions": [AUTOCODER_COMPONENT],
        },
        "automationDetails": {"id": f"autocoder/{tool}/"},
        "results": [_result(row) for row in rows],
    }


def sarif(reader: Dataset) -> dict[str, Any]:
    """One SARIF run per analyser over the latest findings of every analysis perspective: the
    analyser is the run's driver, autocoder (which ran it and rated its findings) an extension."""
    findings, records = latest_findings(reader)
    versions = _tool_versions(records)
    commit = next((r["target"]["commit"] for r in records if r["target"].get("commit")), None)
    uri = repository_uri(records[0]["target"]["repo"])
    runs = []
    for tool in sorted({row["tool"] for row in findings}):
        run = _run(tool, [r for r in findings if r["tool"] == tool], versions.get(tool))
        if commit and uri:
            run["versionControlProvenance"] = [{"repositoryUri": uri, "revisionId": commit}]
        runs.append(run)
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}


def gate(reader: Dataset, fail_on: str) -> tuple[bool, str]:
    """(passed, report): fails when the latest pass has findings at or above ``fail_on``."""
    if fail_on not in SEVERITIES:
        raise StoreError(
            f"--fail-on {fail_on!r} is not a severity; use one of {', '.join(SEVERITIES)}"
        )
    findings, records = latest_findings(reader)
    threshold = severity_rank(fail_on)
    blocking = sorted(
        (f for f in findings if severity_rank(f["severity"]) <= threshold),
        key=lambda f: (severity_rank(f["severity"]), f["file"], f["line"]),
    )
    counts = Counter(f["severity"] for f in findings)
    lines = [
        f"autocoder gate: {len(findings)} findings, latest pass of {len(records)} perspectives: "
        + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES),
    ]
    if blocking:
        lines.append(f"FAILED: {len(blocking)} at or above {fail_on}:")
        lines += [
            f"  {f['severity']:<8} {f['file']}:{f['line']} {f['rule']} {f['message'][:120]}"
            for f in blocking[:20]
        ]
        if len(blocking) > 20:
            lines.append(f"  ... and {len(blocking) - 20} more")
    else:
        lines.append(f"PASSED: nothing at or above {fail_on}.")
    return not blocking, "\n".join(lines)
