"""Module-level structure findings: god modules, modules that import too much, and hubs.

Thresholds (the README states them, with why):

* god module: more than ``GOD_LINES`` lines *and* more than ``GOD_NAMES`` public top-level
  names. Size alone is often one cohesive class; many names in a short file are a catalogue.
  Both together mean several responsibilities that change for different reasons. Test
  modules are left out of all three.
* high fan-out: a module that imports more than ``FAN_OUT_LIMIT`` modules of its own project
  knows too much of it. A package's ``__init__`` that re-exports its modules is left out:
  gathering them is its job.
* hub: imported by at least ``HUB_FAN_IN`` modules while importing at least ``HUB_FAN_OUT``:
  a change anywhere below ripples through it to everything above.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from autocoder.engine.modules import is_test_file
from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis import evidence

GOD_LINES = 1000
GOD_NAMES = 40
FAN_OUT_LIMIT = 20
HUB_FAN_IN = 20
HUB_FAN_OUT = 10
TOOL = "grimp"


def _is_package(file: str) -> bool:
    return file.endswith("__init__.py")


def _is_product(file: str) -> bool:
    """Tests are left out: a test module grows by one function per case, by design."""
    return not is_test_file(file)


def god_module_findings(
    src: SourceFiles, modules: dict[str, str], sizes: dict[str, list[int]]
) -> list[Finding]:
    """Modules over both size thresholds; medium at twice both, low otherwise."""
    out = []
    for module, (lines, names) in sorted(sizes.items()):
        if lines <= GOD_LINES or names <= GOD_NAMES or not _is_product(modules[module]):
            continue
        twice = lines > 2 * GOD_LINES and names > 2 * GOD_NAMES
        severity: Severity = "medium" if twice else "low"
        out.append(evidence.finding(
            src, tool=TOOL, rule="god-module", severity=severity, file=modules[module], line=1,
            anchor=module,
            message=f"{module} has {lines} lines and {names} public names (limits {GOD_LINES} "
            f"and {GOD_NAMES}): several responsibilities in one file; split it by what changes "
            "together",
        ))  # fmt: skip
    return out


def fan_out_findings(
    src: SourceFiles, modules: dict[str, str], imports: list[list[Any]]
) -> list[Finding]:
    """Modules, not re-exporting packages, that import more than ``FAN_OUT_LIMIT`` others."""
    first: dict[str, tuple[int, str]] = {}
    for importer, imported, line, _eager in imports:
        first[importer] = min(first.get(importer, (line, imported)), (line, imported))
    fan_out = Counter(importer for importer, *_rest in imports)
    return [
        evidence.finding(
            src, tool=TOOL, rule="high-fan-out", severity="low", file=modules[m],
            line=first[m][0], anchor=m,
            message=f"{m} imports {n} modules of the project (limit {FAN_OUT_LIMIT}): it knows "
            "too much; split it by responsibility",
        )
        for m, n in sorted(fan_out.items())
        if n > FAN_OUT_LIMIT and not _is_package(modules[m]) and _is_product(modules[m])
    ]  # fmt: skip


def hub_findings(
    src: SourceFiles, modules: dict[str, str], imports: list[list[Any]]
) -> list[Finding]:
    """Modules that many import and that import many: both directions of change meet there."""
    fan_in = Counter(imported for _a, imported, *_rest in imports)
    fan_out = Counter(importer for importer, *_rest in imports)
    return [
        evidence.finding(
            src, tool=TOOL, rule="hub-module", severity="low", file=modules[m], line=1,
            anchor=m,
            message=f"{m} is imported by {fan_in[m]} modules and imports {fan_out[m]} (limits "
            f"{HUB_FAN_IN} and {HUB_FAN_OUT}): a change below it ripples to everything above; "
            "move what the importers need into a module that imports little",
        )
        for m in sorted(fan_out)
        if fan_in[m] >= HUB_FAN_IN and fan_out[m] >= HUB_FAN_OUT
        and not _is_package(modules[m]) and _is_product(modules[m])
    ]  # fmt: skip
