"""Architecture Review: grimp's import graph of the target's packages, cycles, coupling, layers.

The graph itself is built in :mod:`._graph`; this module turns it into findings and metrics.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._graph import (
    GRAPH_FORMAT,
    build_graph,
    find_packages,
    module_files,
)

FAN_OUT_LIMIT = 15  # a module importing more internal modules than this gets a finding
TOP = evidence.TOP

ImportLines = dict[tuple[str, str], int]  # (importer, imported) -> line of the first import


class ArchitectureReview:
    """Import cycles, mutually dependent sibling packages and modules that import too much."""

    id: ClassVar[str] = "architecture"
    name: ClassVar[str] = "Architecture Review"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        toolkit.require_python(ctx)
        packages = find_packages(ctx.sources)
        if not packages:
            raise PerspectiveSkipped(
                f"no Python package (a folder with __init__.py, at the top or under src/) in "
                f"{ctx.root}: there is no import graph to review"
            )
        version = toolkit.require_module("grimp", "grimp")
        modules = module_files(ctx.sources, packages)
        graph = toolkit.cached_whole_tree(
            ctx.cache, "grimp/architecture", f"{version}:{GRAPH_FORMAT}", ctx.sources,
            sorted(modules.values()), lambda: build_graph(ctx.root, packages, modules),
        )  # fmt: skip
        findings = evidence.stable_fingerprints(graph_findings(ctx, modules, graph))
        metrics = graph_metrics(ctx, packages, modules, graph, findings=findings)
        return PerspectiveResult(
            summary=summarise(metrics), findings=findings, metrics=metrics, tools={"grimp": version}
        )


def graph_findings(
    ctx: RunContext, modules: dict[str, str], graph: dict[str, Any]
) -> list[Finding]:
    """Import cycles, then mutually dependent sibling packages, then modules of high fan-out."""
    where = _ChainStart(modules, {(a, b): n for a, b, n in graph["imports"]})
    return (
        _cycle_findings(ctx, graph, where)
        + _layer_findings(ctx, graph, where)
        + _fan_out_findings(ctx, where)
    )


@dataclass(frozen=True)
class _ChainStart:
    """Places a chain of imports where it starts: the importing module's file and import line."""

    modules: dict[str, str]  # module -> file
    import_lines: ImportLines

    def fields(self, chain: list[str], rule: str, severity: Severity) -> dict[str, Any]:
        """The finding's tool, rule, severity, file and line for ``chain``."""
        line = self.import_lines.get((chain[0], chain[1]), 0)
        return {"tool": "grimp", "rule": rule, "severity": severity,
                "file": self.modules[chain[0]], "line": line}  # fmt: skip

    def first_import(self, module: str) -> str:
        """The module that ``module`` imports first in its source."""
        return min((n, b) for (a, b), n in self.import_lines.items() if a == module)[1]


def _cycle_findings(ctx: RunContext, graph: dict[str, Any], where: _ChainStart) -> list[Finding]:
    return [
        evidence.finding(
            ctx.sources, **where.fields(c["cycle"], "import-cycle", "medium"),
            anchor="cycle " + " ".join(sorted(c["cycle"][1:])),
            message=f"import cycle: {' -> '.join(c['cycle'])} ({c['group']} modules import each "
            "other); move what they share into a module of its own",
        )
        for c in graph["cycles"]
    ]  # fmt: skip


def _layer_findings(ctx: RunContext, graph: dict[str, Any], where: _ChainStart) -> list[Finding]:
    return [
        evidence.finding(
            ctx.sources, **where.fields(layer["chains"][0], "layer-cycle", "low"),
            anchor="layers " + " ".join(layer["members"]),
            message=f"{' and '.join(layer['members'])} depend on each other "
            f"({'; '.join(' -> '.join(c) for c in layer['chains'])}): a lower layer imports a "
            "higher one; invert the shorter chain",
        )
        for layer in graph["layer_cycles"]
    ]  # fmt: skip


def _fan_out_findings(ctx: RunContext, where: _ChainStart) -> list[Finding]:
    fan_out = Counter(a for a, _b in where.import_lines)
    return [
        evidence.finding(
            ctx.sources, **where.fields([m, where.first_import(m)], "high-fan-out", "low"),
            anchor=m, message=f"{m} imports {n} modules of the project (limit {FAN_OUT_LIMIT}): "
            "it knows too much; split it by responsibility",
        )
        for m, n in sorted(fan_out.items()) if n > FAN_OUT_LIMIT
    ]  # fmt: skip


def package_size(ctx: RunContext, modules: dict[str, str], package: str) -> dict[str, Any]:
    """How many modules and lines a package holds, its subpackages included."""
    files = [f for m, f in modules.items() if m == package or m.startswith(package + ".")]
    lines = sum(len(ctx.sources.lines(f)) for f in files)
    return {"package": package, "modules": len(files), "lines": lines}


def graph_metrics(
    ctx: RunContext,
    packages: dict[str, str],
    modules: dict[str, str],
    graph: dict[str, Any],
    *,
    findings: list[Finding],
) -> dict[str, Any]:
    fan_in = Counter(b for _a, b, _n in graph["imports"])
    fan_out = Counter(a for a, _b, _n in graph["imports"])
    names = [m for m, f in modules.items() if f.endswith("__init__.py")]
    sizes = sorted((package_size(ctx, modules, p) for p in names), key=lambda s: -s["lines"])
    return {
        **evidence.finding_metrics(ctx.sources, findings),
        "packages": sorted(packages),
        "modules": len(modules),
        "internal_imports": len(graph["imports"]),
        "cycles": len(graph["cycles"]),
        "import_cycles": [" -> ".join(c["cycle"]) for c in graph["cycles"]][:15],
        "modules_in_cycles": sum(c["group"] for c in graph["cycles"]),
        "cycles_per_kloc": evidence.per_kloc(len(graph["cycles"]), evidence.kloc(ctx.sources)),
        "highest_fan_in": [{"module": m, "importers": n} for m, n in fan_in.most_common(TOP)],
        "highest_fan_out": [{"module": m, "imports": n} for m, n in fan_out.most_common(TOP)],
        "package_sizes": sizes[:15],
        "unparsed_files": sorted(graph["unparsed"])[:15],
    }


def summarise(metrics: dict[str, Any]) -> str:
    m = metrics
    cycles, big = m["import_cycles"], m["package_sizes"][0]
    parts = [
        f"grimp mapped {m['modules']} modules in {len(m['packages'])} top-level packages "
        f"({', '.join(m['packages'][:5])}) with {m['internal_imports']} internal imports.",
        f"{m['cycles']} import cycles ({m['cycles_per_kloc']} per KLOC)"
        + (f": {'; '.join(cycles[:3])}." if cycles else "."),
        f"Largest package: {big['package']} ({big['modules']} modules, {big['lines']} lines).",
        f"{m['by_rule'].get('layer-cycle', 0)} groups of sibling packages depend on each other; "
        f"{m['by_rule'].get('high-fan-out', 0)} modules import more than {FAN_OUT_LIMIT} others.",
    ]
    if m["highest_fan_in"]:
        top_in, top_out = m["highest_fan_in"][0], m["highest_fan_out"][0]
        parts.insert(
            2,
            f"Most imported: {top_in['module']} ({top_in['importers']} importers); "
            f"most importing: {top_out['module']} ({top_out['imports']} modules).",
        )
    parts.append("In all: " + evidence.counts_sentence(m, "findings"))
    if m["unparsed_files"]:
        parts.append(f"{len(m['unparsed_files'])} files do not parse and count as empty modules.")
    return " ".join(parts)
