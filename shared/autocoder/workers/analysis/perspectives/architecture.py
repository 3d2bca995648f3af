"""Architecture Review: grimp's import graph of the target's packages, cycles, coupling, layers.

The graph itself is built in :mod:`._graph`; this module turns it into findings and metrics.
Severity follows the damage: breaking the layers the project declares is high; a cycle that
runs at import time, or sibling top-level packages that depend on each other, medium; a god
module, a module of high fan-out and a hub low (thresholds in :mod:`._structure`). Cycles
closed only by imports inside functions or under ``TYPE_CHECKING`` are how projects break cycles
on purpose: counted in the metrics, never a finding.
"""

from __future__ import annotations

import hashlib
import json
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
from autocoder.workers.analysis.perspectives._layers import layer_contracts
from autocoder.workers.analysis.perspectives._structure import (
    FAN_OUT_LIMIT,
    fan_out_findings,
    god_module_findings,
    hub_findings,
)

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
                f"no Python package in {ctx.root} (a folder with __init__.py outside tests, "
                "docs and examples, or one pyproject.toml declares): there is no import graph "
                "to review"
            )
        version = toolkit.require_module("grimp", "grimp")
        modules = module_files(ctx.sources, packages)
        contracts = layer_contracts(ctx.sources)
        declared = hashlib.sha256(json.dumps(contracts).encode()).hexdigest()[:12]
        graph = toolkit.cached_whole_tree(
            ctx.cache, "grimp/architecture", f"{version}:{GRAPH_FORMAT}:{declared}", ctx.sources,
            sorted(modules.values()), lambda: build_graph(ctx.root, packages, modules, contracts),
        )  # fmt: skip
        findings = evidence.stable_fingerprints(graph_findings(ctx, modules, graph))
        metrics = graph_metrics(ctx, packages, modules, graph, findings=findings)
        metrics["layer_contracts_checked"] = len(contracts)  # "layer_contracts": those broken
        return PerspectiveResult(
            summary=summarise(metrics), findings=findings, metrics=metrics, tools={"grimp": version}
        )


def graph_findings(
    ctx: RunContext, modules: dict[str, str], graph: dict[str, Any]
) -> list[Finding]:
    """Declared layers broken, import-time cycles, mutually dependent sibling packages, god
    modules, modules of high fan-out and hubs: one finding each."""
    where = _ChainStart(modules, {(a, b): n for a, b, n, _eager in graph["imports"]})
    return (
        _layer_break_findings(ctx, graph, where)
        + _cycle_findings(ctx, graph, where)
        + _layer_findings(ctx, graph, where)
        + god_module_findings(ctx.sources, modules, graph["sizes"])
        + fan_out_findings(ctx.sources, modules, graph["imports"])
        + hub_findings(ctx.sources, modules, graph["imports"])
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


def _layer_break_findings(
    ctx: RunContext, graph: dict[str, Any], where: _ChainStart
) -> list[Finding]:
    return [
        evidence.finding(
            ctx.sources, **where.fields(b["chain"], "layer-violation", "high"),
            anchor=f"layers {b['lower']} {b['higher']}",
            message=f"{b['lower']} imports the higher layer {b['higher']} "
            f"({' -> '.join(b['chain'])}), against the contract {b['contract']!r} in "
            f"{b['source']}; invert the dependency or move the shared code down",
        )
        for b in graph["layer_breaks"]
    ]  # fmt: skip


def _cycle_findings(ctx: RunContext, graph: dict[str, Any], where: _ChainStart) -> list[Finding]:
    return [
        evidence.finding(
            ctx.sources, **where.fields(c["cycle"], "import-cycle", "medium"),
            anchor="cycle " + " ".join(sorted(c["cycle"][1:])),
            message=f"import cycle: {' -> '.join(c['cycle'])} ({c['group']} modules import each "
            "other when they are imported); move what they share into a module of its own",
        )
        for c in graph["cycles"]
    ]  # fmt: skip


def _layer_findings(ctx: RunContext, graph: dict[str, Any], where: _ChainStart) -> list[Finding]:
    return [
        evidence.finding(
            ctx.sources, **where.fields(layer["chains"][0], "layer-cycle",
                                        "low" if "." in layer["package"] else "medium"),
            anchor="layers " + " ".join(layer["members"]),
            message=f"{', '.join(layer['members'])} depend on each other "
            f"({'; '.join(' -> '.join(c) for c in layer['chains'])}): a lower layer imports a "
            "higher one; invert the shorter chain",
        )
        for layer in graph["layer_cycles"]
        if not _declared_break_says_so(layer["members"], graph["layer_breaks"])
    ]  # fmt: skip


def _declared_break_says_so(members: list[str], breaks: list[dict[str, Any]]) -> bool:
    """True when a broken layer contract already runs between two members: one fact, one
    finding (the declared one, rated higher)."""

    def member(module: str) -> str | None:
        return next((m for m in members if module == m or module.startswith(m + ".")), None)

    return any(None is not member(b["lower"]) != member(b["higher"]) is not None for b in breaks)


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
    fan_in = Counter(b for _a, b, _n, _eager in graph["imports"])
    fan_out = Counter(a for a, _b, _n, _eager in graph["imports"])
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
        "deferred_only_cycles": graph["deferred_cycles"],
        "layer_contracts": len({b["contract"] for b in graph["layer_breaks"]}),
        "largest_modules": [
            {"module": m, "lines": n, "public_names": p}
            for m, (n, p) in sorted(graph["sizes"].items(), key=lambda i: -i[1][0])[:TOP]
        ],
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
        f"{m['cycles']} import cycles at import time ({m['cycles_per_kloc']} per KLOC)"
        + (f": {'; '.join(cycles[:3])}" if cycles else "")
        + f"; {m['deferred_only_cycles']} more closed only by deferred imports.",
        f"Largest package: {big['package']} ({big['modules']} modules, {big['lines']} lines).",
        f"{m['by_rule'].get('layer-violation', 0)} imports break the declared layers; "
        f"{m['by_rule'].get('layer-cycle', 0)} groups of sibling packages depend on each other; "
        f"{m['by_rule'].get('god-module', 0)} god modules; "
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
