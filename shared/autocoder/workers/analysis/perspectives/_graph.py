"""The import graph of a target's packages, built by grimp, with its cycles as plain JSON.

grimp reads a mirror of the package files (symlinks in a temporary folder) through a package
finder of its own, so the target is never imported and ``sys.path`` and ``sys.modules`` stay as
they are.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from autocoder.engine.modules import top_level_packages
from autocoder.engine.sources import SourceFiles
from autocoder.errors import AutocoderError, TargetError, ToolError
from autocoder.workers.analysis.perspectives._layers import layer_breaks
from autocoder.workers.analysis.perspectives._shape import module_shape

GRAPH_FORMAT = "3"  # bump when the cached graph changes shape
_GRIMP_SETTINGS = threading.Lock()  # grimp's package finder is a process-wide setting


def find_packages(sources: SourceFiles) -> dict[str, str]:
    """Top-level packages -> folder, wherever they are (``pkg``, ``src/pkg``,
    ``shared/autocoder``) or as ``pyproject.toml`` declares them (see
    :func:`.modules.top_level_packages`)."""
    pyproject = sources.lines("pyproject.toml") if "pyproject.toml" in sources else None
    return top_level_packages(sources.python, "\n".join(pyproject) if pyproject else None)


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


def build_graph(
    root: Path, packages: dict[str, str], modules: dict[str, str], contracts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The graph as JSON: direct imports with their first line and whether one of them runs at
    import time, the breaks of the declared layers, the cycles that run at import time (and how
    many more only deferred imports close), each module's lines and public names, and the
    files that do not parse."""
    graph, unparsed = _grimp_graph_of_mirror(root, packages, modules)
    texts = _module_texts(root, modules)
    shapes = {m: module_shape(text) for m, text in texts.items()}
    imports = _direct_imports(graph, {m: set(s["deferred"]) for m, s in shapes.items()})
    breaks = layer_breaks(graph, contracts)
    all_cycles = len(import_cycles(graph))
    for importer, imported, _line, eager in imports:
        if not eager:
            graph.remove_import(importer=importer, imported=imported)
    cycles = import_cycles(graph)
    sizes = {m: [len(text.splitlines()), shapes[m]["public"]] for m, text in texts.items()}
    return {"imports": imports, "cycles": cycles, "layer_cycles": layer_cycles(graph, cycles),
            "deferred_cycles": all_cycles - len(cycles), "layer_breaks": breaks,
            "sizes": sizes, "unparsed": unparsed}  # fmt: skip


def removed_while_read(relative: str) -> TargetError:
    """The error of a module that went away between the file listing and the graph: the
    target changed under the iteration (a checkout, a rebuild), which the next one sees whole."""
    return TargetError(
        f"{relative} was removed while the import graph was read: the target changed during "
        "the iteration; the next iteration reads it again"
    )


def _module_texts(root: Path, modules: dict[str, str]) -> dict[str, str]:
    """Each module's text, read once, or the error naming the file that went away."""
    texts: dict[str, str] = {}
    for module, relative in modules.items():
        try:
            texts[module] = (root / relative).read_text(errors="replace")
        except FileNotFoundError:
            raise removed_while_read(relative) from None
    return texts


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


def _grimp_graph_of_mirror(
    root: Path, packages: dict[str, str], modules: dict[str, str]
) -> tuple[Any, dict[str, dict[str, Any]]]:
    """grimp's graph over a mirror of the package files; a file grimp cannot parse is emptied
    and returned with grimp's error (repo file -> line, message)."""
    from grimp.exceptions import SourceSyntaxError

    unparsed: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="autocoder-grimp-") as mirror:
        origin = mirror_packages(root, packages, modules, mirror)
        while True:
            try:
                return _grimp_graph(mirror, sorted(packages)), unparsed
            except FileNotFoundError as e:  # grimp found the mirror's link, not the file behind
                gone = origin.get(os.path.normpath(str(e.filename)), "a module")
                raise removed_while_read(gone) from None
            except SourceSyntaxError as e:
                broken = os.path.normpath(e.filename)
                if origin.get(broken) in {None, *unparsed}:
                    raise
                unparsed[origin[broken]] = {"line": e.lineno or 0, "message": str(e)}
                Path(broken).unlink()
                Path(broken).write_text("")
            except BaseException as e:  # grimp's Rust scanner panics on a file gone under it
                error = _panic_error(e, origin)
                if error is None:
                    raise
                raise error from None


def _panic_error(e: BaseException, origin: dict[str, str]) -> AutocoderError | None:
    """The error a panic of grimp's Rust scanner stands for (pyo3's PanicException, a
    BaseException that would get past the worker's guard), or None for anything else."""
    if type(e).__name__ != "PanicException":
        return None
    missing = [f for link, f in origin.items() if not os.path.exists(link)]
    if missing or "Could not find module" in str(e):
        return removed_while_read(missing[0] if missing else "a module")
    return ToolError(f"grimp failed on the import graph: {str(e)[:200]}")


def _grimp_graph(mirror: str, tops: list[str]) -> Any:
    """grimp's graph of the packages ``tops``, found in ``mirror`` and nowhere else."""
    import grimp
    from grimp.adaptors.packagefinder import ImportLibPackageFinder
    from grimp.application.config import settings

    class MirrorFinder(ImportLibPackageFinder):
        """Finds the packages ``tops`` in the mirror; any other package as grimp would."""

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


def _direct_imports(graph: Any, deferred: dict[str, set[int]]) -> list[list[Any]]:
    """[importer, imported, first line, whether one import runs at import time] for every
    direct import, sorted."""
    out = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            details = graph.get_import_details(importer=importer, imported=imported)
            lines = [d.get("line_number") or 0 for d in details]
            late = deferred.get(importer, set())
            out.append([importer, imported, min(lines, default=0),
                        not lines or any(n not in late for n in lines)])  # fmt: skip
    return out


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
    """Sibling subpackages that depend on each other, where no module cycle already says so;
    groups of one package that share a member are one fact, so one entry."""
    out: list[dict[str, Any]] = []
    for package in sorted(graph.modules):
        out += _merge_overlapping(_sibling_groups(graph, package, cycles))
    return out


def _merge_overlapping(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups with a member in common as one group: all members, the two shortest chains."""
    merged: list[dict[str, Any]] = []
    for group in groups:
        overlapping = [m for m in merged if set(m["members"]) & set(group["members"])]
        for m in overlapping:
            merged.remove(m)
        members = set(group["members"]).union(*(m["members"] for m in overlapping))
        chains = [c for g in [group, *overlapping] for c in g["chains"]]
        merged.append({"package": group["package"], "members": sorted(members),
                       "chains": sorted(chains, key=lambda c: (len(c), c))[:2]})  # fmt: skip
    return sorted(merged, key=lambda g: g["members"])


def _sibling_groups(graph: Any, package: str, cycles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each child of ``package`` with the siblings it depends on that depend on it back."""
    out: list[dict[str, Any]] = []
    children = sorted(graph.find_children(package))
    if len(children) < 2 or not any(graph.find_children(c) for c in children):
        return out
    prefix = package + "."
    reach = {
        c: {prefix + u[len(prefix) :].split(".")[0]
            for u in graph.find_upstream_modules(c, as_package=True) if u.startswith(prefix)}
        for c in children
    }  # fmt: skip
    seen: set[str] = set()
    for c in children:
        group = sorted({c} | {d for d in reach[c] if c in reach[d]})
        if c in seen or len(group) < 2 or _explained_by_cycle(group, cycles):
            continue
        seen.update(group)
        pairs = [(group[0], group[1]), (group[1], group[0])]
        chains = [graph.find_shortest_chain(x, y, as_packages=True) for x, y in pairs]
        if all(chains):
            found = sorted((list(chain) for chain in chains), key=len)
            out.append({"package": package, "members": group, "chains": found})

    return out


def _explained_by_cycle(group: list[str], cycles: list[dict[str, Any]]) -> bool:
    """True when a module cycle already runs through two members of the group."""

    def member(module: str) -> str | None:
        return next((g for g in group if module == g or module.startswith(g + ".")), None)

    return any(len({member(m) for m in c["cycle"]} - {None}) > 1 for c in cycles)
