"""Reports over the analysis dataset: SARIF 2.1.0 for code scanning, and a severity gate."""

from __future__ import annotations

from collections import Counter
from typing import Any

from autocoder import __version__
from autocoder.errors import StoreError
from autocoder.schema import FINDINGS, SEVERITIES, severity_rank
from autocoder.store.dataset import Dataset
from autocoder.store.reader import latest_per_perspective, rows_of_iteration

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}


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


def _rule(rule: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    worst = min((r["severity"] for r in rows), key=severity_rank)
    return {
        "id": rule,
        "shortDescription": {"text": rows[0]["message"][:200]},
        "defaultConfiguration": {"level": LEVELS[worst]},
        "properties": {"security-severity": SECURITY_SEVERITY[worst]},
    }


def sarif(reader: Dataset) -> dict[str, Any]:
    """One SARIF run per tool over the latest findings of every analysis perspective."""
    findings, records = latest_findings(reader)
    commit = next((r["target"]["commit"] for r in records if r["target"].get("commit")), None)
    runs = []
    for tool in sorted({row["tool"] for row in findings}):
        rows = [r for r in findings if r["tool"] == tool]
        by_rule: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_rule.setdefault(row["rule"], []).append(row)
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": tool,
                    "informationUri": "https://github.com/autocoder/autocoder",
                    "semanticVersion": __version__,
                    "rules": [_rule(rule, group) for rule, group in sorted(by_rule.items())],
                }
            },
            "automationDetails": {"id": f"autocoder/{tool}/"},
            "results": [_result(row) for row in rows],
        }
        if commit:
            run["versionControlProvenance"] = [
                {"repositoryUri": records[0]["target"]["repo"], "revisionId": commit}
            ]
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
