"""Architecture Review: grimp's import graph of the target's packages, cycles, coupling, layers."""

from __future__ import annotations

import os
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis.perspectives.code_quality import base_metrics, counts_sentence

GRAPH_FORMAT = "2"  # bump when the cached graph changes shape
FAN_OUT_LIMIT = 15  # a module importing more internal modules than this gets a finding
TOP = 10
_GRIMP_SETTINGS = threading.Lock()  # grimp's package finder is a process-wide setting


def find_packages(sources: SourceFiles) -> dict[str, str]:
    """Top-level packages (folders with ``__init__.py``, at the root or in ``src/``) -> folder."""
    known = set(sources.python)
    found: dict[str, str] = {}
    for f in sources.python:
        parts = f.split("/")
        base = parts[:2] if parts[0] == "src" and len(parts) > 2 else parts[:1]
        folder = "/".join(base)
        if len(parts) > len(base) and f"{folder}/__init__.py" in known and base[-1].isidentifier():
            found.setdefault(base[-1], folder)
    return dict(sorted(found.items()))


def module_files(sources: SourceFiles, packages: dict[str, str]) -> dict[str, str]:
    """Module name -> repo-relative file, for every file grimp will see as part of a package."""
    known = set(sources.python)
    out: dict[str, str] = {}
    for name, folder in packages.items():
        for f in known:
            if not f.startswith(folder + "/"):
                continue
            parts = [name, *f[len(folder) + 1 : -3].split("/")]
            dirs = ["/".join([folder, *parts[1:i]]) for i in range(1, len(parts))]
            if all(f"{d}/__init__.py" in known for d in dirs) and all(
                p.isidentifier() for p in parts
            ):
                out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return dict(sorted(out.items()))


def mirror_packages(
    root: Path, packages: dict[str, str], modules: dict[str, str], mirror: str
) -> dict[str, str]:
    """Symlink each module file into ``mirror`` as ``<package>/...``; mirror path -> repo file."""
    origin: dict[str, str] = {}
    for module, f in modules.items():
        top = module.split(".")[0]
        target = Path(mirror, f.removeprefix(packages[top].removesuffix(top)))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to((root / f).resolve())
        origin[os.path.normpath(target)] = f
    return origin


def build_graph(root: Path, packages: dict[str, str], modules: dict[str, str]) -> dict[str, Any]:
    """grimp's graph over a mirror of the package files; a file grimp cannot parse is emptied.

    The mirror holds exactly the files the target tracks, and a package finder pointing at it
    means no ``sys.path`` or ``sys.modules`` change and no clash with an installed namesake.
    """
    from grimp.exceptions import SourceSyntaxError

    unparsed: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="autocoder-grimp-") as mirror:
        origin = mirror_packages(root, packages, modules, mirror)
        while True:
            try:
                graph = _grimp_graph(mirror, sorted(packages))
                break
            except SourceSyntaxError as e:
                broken = os.path.normpath(e.filename)
                if origin.get(broken) in {None, *unparsed}:
                    raise
                unparsed[origin[broken]] = {"line": e.lineno or 0, "message": str(e)}
                Path(broken).unlink()
                Path(broken).write_text("")
    imports = [
        [importer, imported, min((d.get("line_number") or 0 for d in details), default=0)]
        for importer in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        for details in [graph.get_import_details(importer=importer, imported=imported)]
    ]
    cycles = import_cycles(graph)
    return {"imports": imports, "cycles": cycles, "layer_cycles": layer_cycles(graph, cycles),
            "unparsed": unparsed}  # fmt: skip


def _grimp_graph(mirror: str, tops: list[str]) -> Any:
    import grimp
    from grimp.adaptors.packagefinder import ImportLibPackageFinder
    from grimp.application.config import settings

    class MirrorFinder(ImportLibPackageFinder):
        def determine_package_directories(self, package_name: str, file_system: Any) -> set[str]:
            if package_name in tops:
                return {os.path.join(mirror, package_name)}
            return set(super().determine_package_directories(package_name, file_system))

    with _GRIMP_SETTINGS:
        previous = settings.PACKAGE_FINDER
        settings.configure(PACKAGE_FINDER=MirrorFinder())
        try:
            return grimp.build_graph(*tops, cache_dir=None)
        finally:
            settings.configure(PACKAGE_FINDER=previous)


def import_cycles(graph: Any) -> list[dict[str, Any]]:
    """One shortest cycle per group of mutually importing modules, through its first module."""
    cycles: list[dict[str, Any]] = []
    seen: set[str] = set()
    for module in sorted(graph.modules):
        if module in seen:
            continue
        imported = graph.find_modules_directly_imported_by(module)
        if not imported or not graph.find_modules_that_directly_import(module):
            continue
        group = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        seen |= group
        chains = [graph.find_shortest_chain(importer=m, imported=module) for m in imported & group]
        if chains:
            shortest = [module, *min(sorted(chains), key=len)]
            cycles.append({"cycle": shortest, "group": len(group) + 1})
    return cycles


def layer_cycles(graph: Any, cycles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sibling subpackages that depend on each other, where no module cycle already says so."""
    out: list[dict[str, Any]] = []
    for package in sorted(graph.modules):
        children = sorted(graph.find_children(package))
        if len(children) < 2 or not any(graph.find_children(c) for c in children):
            continue
        prefix = package + "."
        reach = {
            c: {prefix + u[len(prefix) :].split(".")[0]
                for u in graph.find_upstream_modules(c, as_package=True) if u.startswith(prefix)}
            for c in children
        }  # fmt: skip
        seen: set[str] = set()
        for c in children:
            group = sorted({c} | {d for d in reach[c] if c in reach[d]})
            if c in seen or len(group) < 2 or _explained(group, cycles):
                continue
            seen.update(group)
            pairs = [(group[0], group[1]), (group[1], group[0])]
            chains = [graph.find_shortest_chain(x, y, as_packages=True) for x, y in pairs]
            if all(chains):
                found = sorted((list(chain) for chain in chains), key=len)
                out.append({"package": package, "members": group, "chains": found})
    return out


def _explained(group: list[str], cycles: list[dict[str, Any]]) -> bool:
    """True when a module cycle already runs through two members of the group."""

    def member(module: str) -> str | None:
        return next((g for g in group if module == g or module.startswith(g + ".")), None)

    return any(len({member(m) for m in c["cycle"]} - {None}) > 1 for c in cycles)


class ArchitectureReview:
    id: ClassVar[str] = "architecture"
    name: ClassVar[str] = "Architecture Review"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        if not ctx.sources.python:
            raise PerspectiveSkipped(f"no Python files in {ctx.root}")
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
        findings = toolkit.stable_fingerprints(graph_findings(ctx, modules, graph))
        metrics = graph_metrics(ctx, packages, modules, graph, findings=findings)
        return PerspectiveResult(
            summary=summarise(metrics), findings=findings, metrics=metrics, tools={"grimp": version}
        )


def graph_findings(
    ctx: RunContext, modules: dict[str, str], graph: dict[str, Any]
) -> list[Finding]:
    line = {(a, b): n for a, b, n in graph["imports"]}

    def at(chain: list[str], rule: str, severity: Severity) -> dict[str, Any]:
        """Where a chain starts: the importing module's file and its import line."""
        where = {"file": modules[chain[0]], "line": line.get((chain[0], chain[1]), 0)}
        return {"tool": "grimp", "rule": rule, "severity": severity, **where}

    out = [
        toolkit.finding(
            ctx.sources, **at(c["cycle"], "import-cycle", "medium"),
            anchor="cycle " + " ".join(sorted(c["cycle"][1:])),
            message=f"import cycle: {' -> '.join(c['cycle'])} ({c['group']} modules import each "
            "other); move what they share into a module of its own",
        )
        for c in graph["cycles"]
    ]  # fmt: skip
    out += [
        toolkit.finding(
            ctx.sources, **at(layer["chains"][0], "layer-cycle", "low"),
            anchor="layers " + " ".join(layer["members"]),
            message=f"{' and '.join(layer['members'])} depend on each other "
            f"({'; '.join(' -> '.join(c) for c in layer['chains'])}): a lower layer imports a "
            "higher one; invert the shorter chain",
        )
        for layer in graph["layer_cycles"]
    ]  # fmt: skip
    fan_out = Counter(a for a, _b in line)
    out += [
        toolkit.finding(
            ctx.sources, **at([m, first_import(line, m)], "high-fan-out", "low"),
            anchor=m, message=f"{m} imports {n} modules of the project (limit {FAN_OUT_LIMIT}): "
            "it knows too much; split it by responsibility",
        )
        for m, n in sorted(fan_out.items()) if n > FAN_OUT_LIMIT
    ]  # fmt: skip
    return out


def first_import(line: dict[tuple[str, str], int], module: str) -> str:
    """The module that ``module`` imports first in its source."""
    return min((n, b) for (a, b), n in line.items() if a == module)[1]


def package_size(ctx: RunContext, modules: dict[str, str], package: str) -> dict[str, Any]:
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
        **base_metrics(ctx, findings),
        "packages": sorted(packages),
        "modules": len(modules),
        "internal_imports": len(graph["imports"]),
        "cycles": len(graph["cycles"]),
        "import_cycles": [" -> ".join(c["cycle"]) for c in graph["cycles"]][:15],
        "modules_in_cycles": sum(c["group"] for c in graph["cycles"]),
        "cycles_per_kloc": toolkit.per_kloc(len(graph["cycles"]), toolkit.kloc(ctx.sources)),
        "highest_fan_in": [{"module": m, "importers": n} for m, n in fan_in.most_common(TOP)],
        "highest_fan_out": [{"module": m, "imports": n} for m, n in fan_out.most_common(TOP)],
        "package_sizes": sizes[:15],
        "unparsed_files": sorted(graph["unparsed"])[:15],
    }


def summarise(m: dict[str, Any]) -> str:
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
    parts.append("In all: " + counts_sentence(m, "findings"))
    if m["unparsed_files"]:
        parts.append(f"{len(m['unparsed_files'])} files do not parse and count as empty modules.")
    return " ".join(parts)
