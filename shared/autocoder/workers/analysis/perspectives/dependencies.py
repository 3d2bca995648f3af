"""Dependency Analysis: declared requirements against imports (deptry), pins, known vulnerabilities.

Reading the declarations is :mod:`._requirements`' job; :mod:`._deptry` and :mod:`._pip_audit`
run the analysers, :mod:`._dep_issues` judges deptry's issues against the project (settings,
entry points, start commands: :mod:`._dep_use`). This module turns it all into findings.

Pins: a library's package metadata (a pyproject.toml with [build-system], setup.cfg) declares
ranges on purpose, development requirements need no pin and a lock file (uv.lock, poetry.lock,
Pipfile.lock, pdm.lock) or a pip-compile output pins for everyone, so only a runtime requirement
of an application left open by all of these is "unpinned" - once per package.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import ToolError, ToolMissing
from autocoder.schema import Finding
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._dep_issues import deptry_findings
from autocoder.workers.analysis.perspectives._dep_use import project_uses
from autocoder.workers.analysis.perspectives._deptry import MAP_DIGEST, deptry_inputs, run_deptry
from autocoder.workers.analysis.perspectives._pip_audit import audit_pins
from autocoder.workers.analysis.perspectives._requirements import (
    Declarations,
    Requirement,
    declarations,
)

SPEC_TOOL = "requirements"
MOST_LISTED = 30  # packages named per reason in the record's details


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
        result.details["lock_files"] = declared.locks[:MOST_LISTED]
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
    reported: set[str] = set()
    for req in sorted(declared.requirements, key=lambda r: (r.file.count("/"), r.file, r.line)):
        if _needs_pin(req, declared) and req.name not in reported:
            reported.add(req.name)
            findings.append(_unpinned(src, req))
    if not declared.files:
        findings.append(evidence.finding(
            src, tool=SPEC_TOOL, rule="no-dependency-declaration", severity="medium",
            file="pyproject.toml", line=0, message="no dependency declaration (pyproject.toml "
            "[project], requirements*.txt, setup.cfg, setup.py): every third-party import is "
            "undeclared",
        ))  # fmt: skip
    return findings


def _needs_pin(req: Requirement, declared: Declarations) -> bool:
    """An open runtime requirement of an application that no lock file pins."""
    return not (
        req.bounded
        or req.dev
        or req.transitive
        or req.file in declared.packaged
        or declared.locked(req.file)
    )


def _unpinned(src: SourceFiles, req: Requirement) -> Finding:
    return evidence.finding(
        src, tool=SPEC_TOOL, rule="unpinned-requirement", severity="low", file=req.file,
        line=req.line, message=f"runtime requirement {req.spec!r} has no == pin or upper bound "
        "and no lock file pins it: each install may get a different version",
    )  # fmt: skip


def _deptry_findings(
    ctx: RunContext, declared: Declarations, result: PerspectiveResult
) -> list[Finding]:
    reqs = declared.requirements
    try:
        version = toolkit.require_module("deptry", "deptry")
        issues = toolkit.cached_whole_tree(
            ctx.cache, "deptry", f"{version}+map.{MAP_DIGEST}", ctx.sources,
            deptry_inputs(ctx.sources, declared.files), lambda: run_deptry(ctx, reqs),
        )  # fmt: skip
    except ToolError as exc:
        result.skipped["deptry"] = f"skipped: {exc}"
        return []
    result.tools["deptry"] = version
    findings, kept = deptry_findings(ctx, issues, declared, project_uses(ctx.sources))
    result.details["used_without_import"] = dict(sorted(kept.items())[:MOST_LISTED])
    return findings


def _audit_findings(
    ctx: RunContext, reqs: list[Requirement], result: PerspectiveResult
) -> list[Finding]:
    pinned: dict[str, Requirement] = {}  # each pin at its first runtime declaration, if any
    for r in sorted(reqs, key=lambda r: r.dev):
        if r.exact:
            pinned.setdefault(f"{r.name}=={r.exact}", r)
    unchecked = _not_pinned(reqs, pinned)
    result.details["not_audited"] = unchecked
    if not ctx.options.network or not pinned:
        why = "no network" if not ctx.options.network else "no requirement is pinned with =="
        if pinned:
            unchecked["no network"] = sorted(pinned)[:MOST_LISTED]
        result.skipped["pip-audit"] = f"skipped: {why}"
        return []
    try:
        version = toolkit.require_module("pip_audit", "pip-audit")
        vulns, unaudited = audit_pins(ctx, version, sorted(pinned))
    except ToolMissing as exc:
        result.skipped["pip-audit"] = f"skipped: {exc}"
        return []
    except ToolError as exc:  # a timeout, a connection error, or no answer for any package
        last = (str(exc).strip().splitlines() or ["no output"])[-1][-160:]
        result.skipped["pip-audit"] = f"skipped: vulnerability service unreachable ({last})"
        unchecked["vulnerability service unreachable"] = sorted(pinned)[:MOST_LISTED]
        return []
    for pin, why in sorted(unaudited.items())[:MOST_LISTED]:
        unchecked.setdefault(why, []).append(pin)  # e.g. "not on PyPI"
    result.tools["pip-audit"] = version
    return [_vulnerability_finding(ctx.sources, v, pinned[v["pin"]]) for v in vulns]


def _not_pinned(reqs: list[Requirement], pinned: dict[str, Requirement]) -> dict[str, list[str]]:
    """The packages pip-audit cannot check because no declaration pins an exact version."""
    exact = {r.name for r in pinned.values()}
    names = sorted({r.name for r in reqs if r.name not in exact})
    return {"unpinned (no exact version to check)": names[:MOST_LISTED]} if names else {}


def _vulnerability_finding(src: SourceFiles, vuln: dict[str, Any], req: Requirement) -> Finding:
    """High for what the application installs; low for a development-only pin (docs, tests)."""
    return evidence.finding(
        src, tool="pip-audit", rule=vuln["id"], severity="low" if req.dev else "high",
        file=req.file, line=req.line,
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
