"""Security Audit: bandit on the Python files, detect-secrets over every file of the target.

Secret values never leave the analysers: detect-secrets reports types and lines only, and the
password values bandit quotes in its messages are withheld before anything is cached.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped, ToolError
from autocoder.schema import SEVERITIES, Finding, Severity, severity_rank
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._secret_filter import (
    empty_private_key,
    is_not_a_secret,
)
from autocoder.workers.analysis.perspectives._web_rules import TOOL as WEB_TOOL
from autocoder.workers.analysis.perspectives._web_rules import web_findings
from autocoder.workers.analysis.severity import CREDENTIAL_MARK

MAX_SECRET_SCAN_BYTES = 2_000_000
TOP = evidence.TOP
# (bandit severity, bandit confidence) -> ours; a weak confidence lowers the severity one step,
# except for injection classes, where bandit's doubt is about its pattern, not about the risk
_BANDIT: dict[str, tuple[Severity, Severity, Severity]] = {
    "HIGH": ("high", "high", "medium"),
    "MEDIUM": ("medium", "medium", "low"),
    "LOW": ("low", "low", "info"),
}
_CONFIDENCE = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}
_INJECTION_CWES = {78, 89, 94}  # OS command, SQL, code
BANDIT_FORMAT = "3"  # bump when the cached bandit issue changes shape
_PLACEHOLDER = re.compile(
    r"^[\W_]*$|^(x+|\*+|\.+)$|<|>|\{|\}|\$|%\(\w+\)s|%s|change|example|dummy|fake|"
    r"sample|placeholder|your|redacted|test|default",
    re.IGNORECASE,
)
# What a "password" string is when it is not one: a sentence ("CSRF token missing."), or the name
# of a field that holds one ("password2", "new_password", "token_type")
_NOT_A_CREDENTIAL = re.compile(
    r"[A-Za-z]{2,}\s+[A-Za-z]{2,}|^[a-z_]*(password|passwd|pass|pwd|token|secret)[a-z_]*\d?$"
)
_QUOTES_SECRET = {"B105", "B106", "B107"}  # hardcoded password checks quote the value
# detect-secrets types by how sure a match is; any other type is a format-specific token: high
_SECRET_SEVERITY: dict[str, Severity] = {
    "Private Key": "critical",
    "Secret Keyword": "medium",
    "Basic Auth Credentials": "medium",
    "Base64 High Entropy String": "low",
    "Hex High Entropy String": "low",
    "Public IP (ipv4)": "info",
}


class SecurityAudit:
    """Insecure calls and imports (bandit) and hardcoded secrets (detect-secrets)."""

    id: ClassVar[str] = "security"
    name: ClassVar[str] = "Security Audit"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        src = ctx.sources
        if not src.files:
            raise PerspectiveSkipped(f"no Python files in {ctx.root}, and no files to scan")
        result = PerspectiveResult(summary="")
        findings = [f for source in FINDING_SOURCES for f in source(ctx, result)]
        result.findings = evidence.stable_fingerprints(findings)
        result.metrics.update(_metrics(src, result.findings))
        result.summary = _summary(result)
        return result


def _bandit_findings(ctx: RunContext, result: PerspectiveResult) -> list[Finding]:
    src = ctx.sources
    if not src.python:
        result.skipped["bandit"] = "skipped: no Python files"
        return []
    try:
        version = toolkit.require_module("bandit", "bandit")
        per_file = toolkit.cached_per_file(
            ctx.cache, "bandit", f"{version}:{BANDIT_FORMAT}", src, src.python,
            lambda files: _run_bandit(ctx, files),
            default=_clean_bandit_report(),
        )  # fmt: skip
    except ToolError as exc:
        result.skipped["bandit"] = f"skipped: {exc}"
        return []
    result.tools["bandit"] = version
    result.metrics["bandit_unparsed_files"] = evidence.files_with_errors(per_file, TOP)
    return [
        evidence.finding(
            src, tool="bandit", rule=i["rule"], severity=i["severity"], file=file,
            line=i["line"], message=i["message"],
        )
        for file, report in per_file.items()
        for i in report.get("issues", [])
        if not (i["rule"] == "B101" and is_test_file(file))  # asserts are what tests are made of
    ]  # fmt: skip


def _clean_bandit_report() -> dict[str, Any]:
    """What bandit reports for a file without issues or errors."""
    return {"issues": [], "error": None}


def _run_bandit(ctx: RunContext, files: list[str]) -> dict[str, Any]:
    """bandit's issues per file with any, as plain JSON with our severities and no secret values."""
    out: dict[str, Any] = {}
    for batch in toolkit.batched(files):
        done = toolkit.run_tool(
            ["bandit", "-f", "json", "-q", *(f"./{f}" for f in batch)],
            cwd=ctx.root, timeout_s=ctx.options.tool_timeout_s, ok_codes=(0, 1),
            memory_mb=ctx.options.tool_memory_mb,
        )  # fmt: skip
        report = json.loads(done.stdout)
        for issue in report.get("results", []):
            entry = out.setdefault(toolkit.relative(ctx.root, issue["filename"]),
                                   _clean_bandit_report())  # fmt: skip
            entry["issues"].append(_bandit_issue(issue))
        for error in report.get("errors", []):
            entry = out.setdefault(toolkit.relative(ctx.root, error["filename"]),
                                   _clean_bandit_report())  # fmt: skip
            entry["error"] = str(error.get("reason", "error"))[:200]
    return out


def _bandit_issue(issue: dict[str, Any]) -> dict[str, Any]:
    rule, text = issue["test_id"], issue["issue_text"]
    if rule in _QUOTES_SECRET:
        text = _withhold_password(text)
    cwe = (issue.get("issue_cwe") or {}).get("id")
    confidence = issue.get("issue_confidence", "LOW")
    doubt = 0 if cwe in _INJECTION_CWES else _CONFIDENCE.get(confidence, 2)
    severity = _BANDIT.get(issue["issue_severity"], _BANDIT["LOW"])[doubt]
    return {
        "rule": rule, "line": issue["line_number"], "severity": severity,
        "message": f"{text} [{issue['test_name']}, {f'CWE-{cwe}' if cwe else 'no CWE'}, "
        f"bandit severity {issue['issue_severity'].lower()}, confidence {confidence.lower()}]",
    }  # fmt: skip


def _withhold_password(text: str) -> str:
    """bandit's message without the quoted value, saying only whether it looks like a real one:
    at least 8 characters, not a placeholder (``test key``, ``<token>``), not plain words."""
    quoted = re.search(r":\s*'(.*)'\s*$", text)
    value = quoted.group(1) if quoted else ""
    words = value.replace(" ", "").replace("-", "").replace("_", "")
    text_like = _NOT_A_CREDENTIAL.search(value)
    real = len(value) >= 8 and not _PLACEHOLDER.search(value) and not words.isalpha()
    real = real and not text_like
    shape = CREDENTIAL_MARK if real else "looks like a placeholder, a field name or plain words"
    return f"{text[: quoted.start()] if quoted else text} (value withheld; {shape})"


def _secret_findings(ctx: RunContext, result: PerspectiveResult) -> list[Finding]:
    src = ctx.sources
    files = [f for f in src.files if _scannable(src, f)]
    result.metrics["files_scanned_for_secrets"] = len(files)
    result.metrics["files_skipped_binary_or_huge"] = len(src.files) - len(files)
    try:
        version = toolkit.require_module("detect_secrets", "detect-secrets")
        per_file = toolkit.cached_per_file(
            ctx.cache, "detect-secrets", version, src, files, lambda f: _run_detect_secrets(ctx, f)
        )
    except ToolError as exc:
        result.skipped["detect-secrets"] = f"skipped: {exc}"
        return []
    result.tools["detect-secrets"] = version
    findings, cleared = [], 0
    for file, hits in per_file.items():
        by_line: dict[int, set[str]] = {}
        for hit in hits:
            by_line.setdefault(int(hit["line"]), set()).add(str(hit["type"]))
        for line, types in by_line.items():
            if is_not_a_secret(file, src.line_text(file, line)):  # an SRI hash, a git rev...
                cleared += 1
                continue
            if types == {"Private Key"} and empty_private_key(src.lines(file), line):
                cleared += 1  # a template or a truncated sample: the markers, no key
                continue
            findings.append(_secret_finding(src, file, line, types))
    result.metrics["secret_lines_not_secrets"] = cleared
    return findings


def _web_findings(ctx: RunContext, result: PerspectiveResult) -> list[Finding]:
    """Framework-aware checks of our own: request data reaching a sink, protections switched off."""
    result.tools[WEB_TOOL] = "builtin"
    return web_findings(ctx.sources)


def _scannable(src: SourceFiles, file: str) -> bool:
    """Text files up to MAX_SECRET_SCAN_BYTES (a NUL byte in the first 8 KiB marks binary)."""
    path = src.path(file)
    try:
        if path.stat().st_size > MAX_SECRET_SCAN_BYTES:
            return False
        with path.open("rb") as fh:
            return b"\0" not in fh.read(8192)
    except OSError:
        return False


def _run_detect_secrets(ctx: RunContext, files: list[str]) -> dict[str, Any]:
    """Secret type and line per file with any; detect-secrets only reports a hash of the value."""
    out: dict[str, Any] = {}
    for batch in toolkit.batched(files):
        done = toolkit.run_tool(
            ["detect_secrets", "scan", "--all-files", *(f"./{f}" for f in batch)],
            cwd=ctx.root, timeout_s=ctx.options.tool_timeout_s, ok_codes=(0,),
            memory_mb=ctx.options.tool_memory_mb,
        )  # fmt: skip
        for name, hits in json.loads(done.stdout).get("results", {}).items():
            out.setdefault(toolkit.relative(ctx.root, name), []).extend(
                {"type": h["type"], "line": h["line_number"]} for h in hits
            )
    return out


def _secret_finding(src: SourceFiles, file: str, line: int, types: set[str]) -> Finding:
    """One finding per line, under its most certain type; the value itself is never included."""
    ranked = sorted(types, key=lambda t: (severity_rank(_SECRET_SEVERITY.get(t, "high")), t))
    also = f"; also matched as {', '.join(ranked[1:])}" if len(ranked) > 1 else ""
    return evidence.finding(
        src, tool="detect-secrets", rule=ranked[0], file=file, line=line,
        severity=_SECRET_SEVERITY.get(ranked[0], "high"),
        message=f"possible hardcoded secret: {ranked[0]} in {file} line {line}{also} "
        "(value withheld; rotate it if real)",
    )  # fmt: skip


FindingSource = Callable[[RunContext, PerspectiveResult], list[Finding]]
# Every rule source of the audit, in order; each notes its tool's version or why it skipped.
FINDING_SOURCES: tuple[FindingSource, ...] = (_bandit_findings, _secret_findings, _web_findings)


def _metrics(src: SourceFiles, findings: list[Finding]) -> dict[str, Any]:
    bandit = [f for f in findings if f.tool == "bandit"]
    cwe_tools = [f for f in findings if f.tool in {"bandit", WEB_TOOL}]
    cwes = [m.group(0) for f in cwe_tools if (m := re.search(r"CWE-\d+", f.message))]
    return {
        "by_severity": {s: n for s in SEVERITIES if (n := sum(f.severity == s for f in findings))},
        "by_tool": evidence.count_by(findings, "tool"),
        "by_rule": evidence.count_by(findings, "rule", most=15),
        "by_cwe": {c: cwes.count(c) for c in sorted(set(cwes), key=lambda c: -cwes.count(c))[:15]},
        "python_kloc": round(evidence.kloc(src), 3),
        "bandit_issues_per_kloc": evidence.per_kloc(len(bandit), evidence.kloc(src)),
        "worst_files": evidence.count_by(findings, "file", most=TOP),
    }


def _summary(result: PerspectiveResult) -> str:
    m, findings = result.metrics, result.findings
    text = f"{len(findings)} security findings ({evidence.counts_phrase(m['by_severity'])})."
    if bandit := [f for f in findings if f.tool == "bandit"]:
        top = ", ".join(f"{r} x{n}" for r, n in evidence.count_by(bandit, "rule", most=5).items())
        text += f" bandit: {len(bandit)} issues ({m['bandit_issues_per_kloc']}/KLOC), top {top}."
    if web := [f for f in findings if f.tool == WEB_TOOL]:
        rules = evidence.counts_phrase(evidence.count_by(web, "rule", most=5))
        text += f" {WEB_TOOL}: {len(web)} framework findings ({rules})."
    secrets = [f for f in findings if f.tool == "detect-secrets"]
    kinds = evidence.counts_phrase(evidence.count_by(secrets, "rule"))
    text += f" detect-secrets: {len(secrets)} lines with possible secrets ({kinds}) in "
    text += f"{m['files_scanned_for_secrets']} files scanned."
    if m["worst_files"]:
        text += f" Most affected: {', '.join(list(m['worst_files'])[:3])}."
    return text + evidence.skipped_sentences(result.skipped)
