"""Dependency Analysis: declared requirements against imports (deptry), pins, known vulnerabilities.

Reading the declarations is :mod:`._requirements`' job; :mod:`._deptry` and :mod:`._pip_audit`
run the analysers. This module turns what they report into findings.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import ToolError, ToolMissing
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._deptry import deptry_inputs, run_deptry
from autocoder.workers.analysis.perspectives._pip_audit import audit_pins
from autocoder.workers.analysis.perspectives._requirements import (
    Declarations,
    Requirement,
    declarations,
    normalise_name,
)

SPEC_TOOL = "requirements"
_DEPTRY: dict[str, tuple[Severity, str]] = {
    "DEP001": ("medium", "imported but not declared"),
    "DEP002": ("low", "declared but never imported"),
    "DEP003": ("medium", "imported but only a transitive dependency"),
    "DEP004": ("medium", "development dependency imported by non-development code"),
}


class DependencyAnalysis:
    """Declared versus imported dependencies, unpinned requirements and known vulnerabilities."""

    id: ClassVar[str] = "dependencies"
    name: ClassVar[str] = "Dependency Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        toolkit.require_python(ctx)
        declared = declarations(ctx.sources)
        result = PerspectiveResult(summary="")
        findings = _declaration_findings(ctx.sources, declared)
        findings += _deptry_findings(ctx, declared, result)
        findings += _audit_findings(ctx, declared.requirements, result)
        result.findings = evidence.stable_fingerprints(findings)
        result.metrics = _metrics(ctx.sources, declared, result.findings)
        result.summary = _summary(result)
        return result


def _declaration_findings(src: SourceFiles, declared: Declarations) -> list[Finding]:
    """Unreadable declarations, unpinned requirements, and the lack of any declaration."""
    findings = [
        evidence.finding(
            src, tool=SPEC_TOOL, rule="unreadable-declaration", severity="medium", file=file,
            line=1, message=f"{file} could not be read: {why[:160]}",
        )
        for file, why in declared.unreadable.items()
    ]  # fmt: skip
    findings += [_unpinned(src, r) for r in declared.requirements if not r.bounded]
    if not declared.files:
        findings.append(evidence.finding(
            src, tool=SPEC_TOOL, rule="no-dependency-declaration", severity="medium",
            file="pyproject.toml", line=0, message="no dependency declaration (pyproject.toml "
            "[project], requirements*.txt, setup.cfg): every third-party import is undeclared",
        ))  # fmt: skip
    return findings


def _unpinned(src: SourceFiles, req: Requirement) -> Finding:
    return evidence.finding(
        src, tool=SPEC_TOOL, rule="unpinned-requirement", severity="low", file=req.file,
        line=req.line, message=f"requirement {req.spec!r} has no == pin or upper bound",
    )  # fmt: skip


def _deptry_findings(
    ctx: RunContext, declared: Declarations, result: PerspectiveResult
) -> list[Finding]:
    reqs = declared.requirements
    try:
        version = toolkit.require_module("deptry", "deptry")
        issues = toolkit.cached_whole_tree(
            ctx.cache, "deptry", version, ctx.sources, deptry_inputs(ctx.sources, declared.files),
            lambda: run_deptry(ctx, reqs),
        )  # fmt: skip
    except ToolError as exc:
        result.skipped["deptry"] = f"skipped: {exc}"
        return []
    result.tools["deptry"] = version
    by_name = {r.name: r for r in reversed(reqs)}
    return [
        _deptry_finding(ctx, issue, by_name.get(normalise_name(issue["module"])))
        for issue in issues
    ]


def _deptry_finding(ctx: RunContext, issue: dict[str, Any], req: Requirement | None) -> Finding:
    code = issue["error"]["code"]
    severity, meaning = _DEPTRY.get(code, ("low", "dependency issue"))
    file, line = _deptry_location(ctx, issue["location"], req)
    return evidence.finding(
        ctx.sources, tool="deptry", rule=code, severity=severity, file=file, line=line,
        message=f"{issue['error']['message']} ({code}: {meaning})",
    )  # fmt: skip


def _deptry_location(
    ctx: RunContext, location: dict[str, Any], req: Requirement | None
) -> tuple[str, int]:
    """deptry's location, or the declaration's line when deptry gives none (unused deps)."""
    file = toolkit.relative(ctx.root, str(location.get("file") or ""))
    if req is not None and (location.get("line") is None or file not in ctx.sources.files):
        return req.file, req.line
    return file, int(location.get("line") or 0)


def _audit_findings(
    ctx: RunContext, reqs: list[Requirement], result: PerspectiveResult
) -> list[Finding]:
    pinned = {f"{r.name}=={r.exact}": r for r in reversed(reqs) if r.exact}
    if not ctx.options.network or not pinned:
        why = "no network" if not ctx.options.network else "no requirement is pinned with =="
        result.skipped["pip-audit"] = f"skipped: {why}"
        return []
    try:
        version = toolkit.require_module("pip_audit", "pip-audit")
        vulns = audit_pins(ctx, version, sorted(pinned))
    except ToolMissing as exc:
        result.skipped["pip-audit"] = f"skipped: {exc}"
        return []
    except ToolError as exc:  # a timeout, a connection error, or no answer for any package
        last = (str(exc).strip().splitlines() or ["no output"])[-1][-160:]
        result.skipped["pip-audit"] = f"skipped: vulnerability service unreachable ({last})"
        return []
    result.tools["pip-audit"] = version
    return [_vulnerability_finding(ctx.sources, v, pinned[v["pin"]]) for v in vulns]


def _vulnerability_finding(src: SourceFiles, vuln: dict[str, Any], req: Requirement) -> Finding:
    return evidence.finding(
        src, tool="pip-audit", rule=vuln["id"], severity="high", file=req.file, line=req.line,
        message=f"{vuln['pin']} has known vulnerability {vuln['id']} "
        f"({', '.join(vuln['aliases']) or 'no aliases'}); fixed in "
        f"{', '.join(vuln['fix_versions']) or 'no released version'}",
    )  # fmt: skip


def _metrics(src: SourceFiles, declared: Declarations, findings: list[Finding]) -> dict[str, Any]:
    reqs = declared.requirements
    return {
        "declaration_files": declared.files[:15],
        "requirements_declared": len(reqs),
        "distinct_packages": len({r.name for r in reqs}),
        "pinned_exactly": sum(1 for r in reqs if r.exact),
        "unbounded": sum(1 for r in reqs if not r.bounded),
        "by_severity": evidence.count_by(findings, "severity"),
        "by_rule": evidence.count_by(findings, "rule", most=15),
        "findings_per_kloc": evidence.per_kloc(len(findings), evidence.kloc(src)),
        "worst_files": evidence.count_by(findings, "file", most=10),
    }


def _summary(result: PerspectiveResult) -> str:
    m = result.metrics
    text = (
        f"{m['requirements_declared']} requirements ({m['distinct_packages']} packages) are "
        f"declared in {len(m['declaration_files'])} files; {m['pinned_exactly']} pinned exactly "
        f"and {m['unbounded']} without an upper bound. {len(result.findings)} findings: "
        f"{evidence.counts_phrase(m['by_rule'], empty='no issues')}."
    )
    return text + evidence.skipped_sentences(result.skipped)
