"""Which untested code matters: one finding per fact, graded by the size and exposure of the code.

A repository without tests gets one finding for that, not one per module. Otherwise each module
no test reaches gets one, graded by how much depends on it: its public names, its lines, and how
many modules of the project import it (its fan-in). A module that tests reach but most of whose
public names no test names gets one finding for the module, never one per name.
"""

from __future__ import annotations

from dataclasses import dataclass

from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._testmap import CodeModule, Reached

TOOL = "test-map"
EXPOSED_LINES = 150  # an exposed untested module this long is medium
EXPOSED_FAN_IN = 3  # ... and so is one that this many modules of the project import
NO_TESTS_HIGH_LINES = 1000  # a project without tests and this much code is high
NAMES_SHOWN = 5
MIN_PLAIN_LINES = 30  # a shorter module without functions or classes has nothing to test


@dataclass(frozen=True)
class Exposure:
    """How much of the project leans on a module: what a missing test there puts at risk."""

    module: CodeModule
    fan_in: int  # modules of the project that import it
    public: bool  # importable under a public name, or re-exported by an ancestor package
    importers: tuple[str, ...]  # the modules that import it, its ancestor packages included

    @property
    def score(self) -> int:
        """Lines, doubled when public, plus a weight per importer; the order findings rank by."""
        return self.module.lines * (2 if self.public else 1) + 40 * self.fan_in

    def worth_reporting(self) -> bool:
        """Not a ``__main__`` shim nor a short module without functions or classes."""
        m = self.module
        return not m.name.endswith("__main__") and (bool(m.defs) or m.lines >= MIN_PLAIN_LINES)

    def untested_severity(self, through: list[str]) -> Severity:
        """Medium for exposed code of size or in demand that no tested module imports either;
        low for the rest with functions or classes; info for constants and settings only, and
        for a private helper that a tested module imports (its tests run it)."""
        m = self.module
        if not m.defs or (through and not self.public):
            return "info"
        exposed = m.lines >= EXPOSED_LINES or self.fan_in >= EXPOSED_FAN_IN
        return "medium" if self.public and exposed and not through else "low"

    def describe(self) -> str:
        m = self.module
        importers = f"imported by {self.fan_in} module{'' if self.fan_in == 1 else 's'}"
        return (
            f"{m.lines} lines, {len(m.defs)} public functions and classes, {importers}"
            f"{'' if self.public else ', private'}"
        )


def exposures(modules: list[CodeModule], importers: dict[str, set[str]]) -> list[Exposure]:
    """Each module's exposure, most exposed first."""
    out = []
    for m in modules:
        ancestors = {".".join(m.name.split(".")[:i]) for i in range(1, m.name.count(".") + 1)}
        public = not any(p.startswith("_") for p in m.name.split(".")) or bool(
            importers[m.name] & ancestors
        )
        users = tuple(sorted(importers[m.name]))
        out.append(Exposure(m, len(importers[m.name] - ancestors), public, users))
    return sorted(out, key=lambda e: (-e.score, e.module.name))


def no_tests_finding(src: SourceFiles, ranked: list[Exposure]) -> Finding:
    """The one finding for a repository with code and no test file."""
    lines = sum(e.module.lines for e in ranked)
    names = sum(len(e.module.defs) for e in ranked)
    top = ranked[0].module
    largest = ", ".join(e.module.name for e in ranked[:3])
    return evidence.finding(
        src, tool=TOOL, rule="no-tests", file=top.file, line=1, anchor="no tests",
        severity="high" if lines >= NO_TESTS_HIGH_LINES else "medium",
        message=f"the project has no tests (no test_*.py, *_test.py or tests/ file): "
        f"{len(ranked)} modules, {lines} lines and {names} public functions and classes are "
        f"untested; most exposed: {largest}",
    )  # fmt: skip


def untested_findings(
    src: SourceFiles, untested: list[Exposure], tested: set[str]
) -> list[Finding]:
    """One finding per module no test imports or names, unless there is nothing in it to test;
    a module that a tested module (one of ``tested``) imports is run by those tests, so it rates
    lower."""
    out = []
    for e in (e for e in untested if e.worth_reporting()):
        through = [u for u in e.importers if u in tested]
        via = f"; tests reach it only through {', '.join(through[:3])}" if through else ""
        out.append(evidence.finding(
            src, tool=TOOL, rule="untested-module", severity=e.untested_severity(through),
            file=e.module.file, line=1, anchor=e.module.name,
            message=f"module {e.module.name} ({e.describe()}) is reached by no test: no test "
            f"imports it or names one of its functions or classes{via}",
        ))  # fmt: skip
    return out


def unreferenced_findings(
    src: SourceFiles, tested: list[Exposure], reached: Reached
) -> list[Finding]:
    """One finding per tested public module of which most public names (three or more) no test
    names. Fewer missed names are likely run through the named ones: counted in the metrics
    (``public_referenced``), not reported."""
    out = []
    for e in tested:
        m = e.module
        missed = [
            (name, line) for name, line, _kind in m.defs if not reached.references(m.name, name)
        ]
        if not (e.public and len(missed) >= 3 and 2 * len(missed) >= len(m.defs)):
            continue
        shown = ", ".join(n for n, _line in missed[:NAMES_SHOWN])
        more = f" and {len(missed) - NAMES_SHOWN} more" if len(missed) > NAMES_SHOWN else ""
        out.append(evidence.finding(
            src, tool=TOOL, rule="unreferenced-public", severity="low",
            file=m.file, line=missed[0][1], anchor=m.name,
            message=f"module {m.name}: {len(missed)} of {len(m.defs)} public functions and "
            f"classes are named by no test ({shown}{more})",
        ))  # fmt: skip
    return out
