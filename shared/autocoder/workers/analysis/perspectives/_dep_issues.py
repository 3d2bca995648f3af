"""deptry's issues judged against the whole project: one finding per package and problem.

deptry reports every import of an undeclared module and cannot see a dependency used through
Django settings, an entry point or a Procfile; it tells "missing" from "transitive" by what the
*worker* has installed. Here both become one "imported but not declared" finding (DEP001),
optional imports and development code are set apart, and use outside imports is honoured.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from autocoder.engine import toolkit
from autocoder.engine.perspective import RunContext
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._dep_names import STDLIB_ACROSS_VERSIONS, import_names
from autocoder.workers.analysis.perspectives._dep_use import (
    Uses,
    import_kinds,
    is_dev_code,
    is_optional,
    local_modules,
    quoted_anywhere,
)
from autocoder.workers.analysis.perspectives._requirements import (
    Declarations,
    Requirement,
    normalise_name,
)

MEANINGS: dict[str, str] = {
    "DEP001": "imported but not declared",
    "DEP002": "declared but never used",
    "DEP004": "development dependency imported by code the package ships",
    "DEP005": "standard library module declared as a dependency",
}
Place = tuple[str, int]


def deptry_findings(
    ctx: RunContext, issues: list[dict[str, Any]], declared: Declarations, uses: Uses
) -> tuple[list[Finding], dict[str, str]]:
    """Findings from deptry's ``issues``, and the declared packages kept from DEP002 with why."""
    places: dict[tuple[str, str], list[Place]] = defaultdict(list)
    for issue in issues:
        code = "DEP001" if issue["error"]["code"] == "DEP003" else issue["error"]["code"]
        where = issue["location"]
        file = toolkit.relative(ctx.root, str(where.get("file") or ""))
        places[code, issue["module"]].append((file, int(where.get("line") or 0)))
    findings: list[Finding] = []
    kept: dict[str, str] = {}
    for (code, module), found in sorted(places.items()):
        if code == "DEP002":
            finding = _unused(ctx, module, declared, uses, kept)
        elif code in ("DEP001", "DEP004"):
            finding = _imported(ctx, code, module, sorted(set(found)), declared)
        else:
            finding = _declared(ctx, code, module, declared)
        findings += [finding] if finding else []
    return findings, kept


def _imported(
    ctx: RunContext, code: str, module: str, found: list[Place], declared: Declarations
) -> Finding | None:
    """An undeclared (DEP001) or development-only (DEP004) module at its first import that is
    not optional by design; DEP004 only counts code the package ships."""
    if code == "DEP001" and (
        module in STDLIB_ACROSS_VERSIONS
        or _pinned_anyway(module, declared)
        or module in local_modules(ctx.sources)
    ):
        return None
    library = declared.is_library()
    found = [p for p in found if not is_optional(_kinds(ctx, p), library)]
    shipped = [p for p in found if not is_dev_code(p[0])]
    found = shipped if code == "DEP004" else found
    if not found:
        return None
    file, line = (shipped or found)[0]
    severity: Severity = "medium" if shipped and not (library and code == "DEP004") else "low"
    more = f" and {len(found) - 1} more places" if len(found) > 1 else ""
    return evidence.finding(
        ctx.sources, tool="deptry", rule=code, severity=severity, file=file, line=line,
        message=f"'{module}' is imported here{more}{_declared_for_dev(code, module, declared)}: "
        f"{MEANINGS[code]} ({code})",
        anchor=f"{code} {module}",
    )  # fmt: skip


def _kinds(ctx: RunContext, place: Place) -> frozenset[str]:
    return import_kinds(ctx.sources, place[0]).get(place[1], frozenset())


def _declared_for_dev(code: str, module: str, declared: Declarations) -> str:
    """Where a DEP004 module is declared for development only."""
    dev = [r for r in declared.requirements if r.dev and module in import_names(r.name)]
    first = min(dev, key=lambda r: (r.transitive, r.file, r.line), default=None)
    return f" but declared only for development ({first.file}:{first.line})" if first else ""


def _pinned_anyway(module: str, declared: Declarations) -> bool:
    """Whether a transitive pin of a compiled requirements file provides ``module``."""
    return any(module in import_names(r.name) for r in declared.requirements if r.transitive)


def _unused(
    ctx: RunContext, package: str, declared: Declarations, uses: Uses, kept: dict[str, str]
) -> Finding | None:
    """A runtime requirement nothing imports, at its first declaration, unless it is used
    another way (``kept`` records how)."""
    req = _declaration(package, declared)
    if req is None or req.dev:
        return None
    if why := uses.evidence(req.name) or _quoted(ctx, req.name):
        kept[req.name] = why
        return None
    return evidence.finding(
        ctx.sources, tool="deptry", rule="DEP002", severity="low", file=req.file, line=req.line,
        message=f"'{req.name}' is declared but no code imports it and no settings, entry point "
        f"or start command names it: {MEANINGS['DEP002']} (DEP002)",
    )  # fmt: skip


def _quoted(ctx: RunContext, distribution: str) -> str | None:
    """Where a module of ``distribution`` is named as a string (a dynamic import)."""
    for module in import_names(distribution):
        if file := quoted_anywhere(ctx.sources, module):
            return f"named as a string in {file}"
    return None


def _declared(ctx: RunContext, code: str, package: str, declared: Declarations) -> Finding | None:
    req = _declaration(package, declared)
    if req is None:
        return None
    return evidence.finding(
        ctx.sources, tool="deptry", rule=code, severity="low", file=req.file, line=req.line,
        message=f"'{req.name}': {MEANINGS.get(code, 'dependency issue')} ({code})",
    )  # fmt: skip


def _declaration(package: str, declared: Declarations) -> Requirement | None:
    """The declaration a package finding points at: the first runtime one, else the first."""
    name = normalise_name(package)
    reqs = [r for r in declared.requirements if r.name == name and not r.transitive]
    return min(reqs, key=lambda r: (r.dev, r.file.count("/"), r.file, r.line), default=None)
