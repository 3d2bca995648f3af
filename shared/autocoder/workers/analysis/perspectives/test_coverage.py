"""Test Coverage Analysis: the modules and public names tests reach, plus optional line coverage.

The static test-to-code map is :mod:`._testmap`'s; line coverage (:mod:`._coverage`) runs the
target's test suite under coverage.py, only when ``run_target_tests`` is on, because that executes
the target's code.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._coverage import add_line_coverage
from autocoder.workers.analysis.perspectives._testmap import (
    SCAN_VERSION,
    CodeModule,
    Reached,
    code_modules,
    scan_module,
)

TOOL = "test-map"
TOP = evidence.TOP


class TestCoverageAnalysis:
    """Static test-to-code mapping plus, when allowed, line coverage of the target's test suite."""

    __test__ = False
    id: ClassVar[str] = "test_coverage"
    name: ClassVar[str] = "Test Coverage Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        src = ctx.sources
        toolkit.require_python(ctx)
        scans = toolkit.cached_per_file(
            ctx.cache, TOOL, SCAN_VERSION, src, src.python,
            lambda files: {f: scan_module(src.path(f)) for f in files},
        )  # fmt: skip
        tests = [f for f in src.python if is_test_file(f)]
        modules, reached = code_modules(src, scans), Reached.of(src, scans, tests)
        untested = [m for m in modules if not reached.imports_module(m.name)]
        findings = _untested_findings(src, untested) + _unreferenced_findings(
            src, modules, untested, reached
        )
        metrics = _static_metrics(src, modules, untested, reached)
        result = PerspectiveResult(summary="", metrics=metrics, tools={"python-ast": SCAN_VERSION})
        metrics["test_files"] = len(tests)
        metrics["unparsed_files"] = evidence.files_with_errors(scans, TOP)
        add_line_coverage(ctx, result)
        result.findings = evidence.stable_fingerprints(findings)
        metrics["by_severity"] = evidence.count_by(result.findings, "severity")
        metrics["by_rule"] = evidence.count_by(result.findings, "rule")
        result.summary = _summary(result)
        return result


def _untested_findings(src: SourceFiles, untested: list[CodeModule]) -> list[Finding]:
    """A module no test imports: medium when it has public names, else low."""
    return [
        evidence.finding(
            src, tool=TOOL, rule="untested-module", severity="medium" if m.defs else "low",
            file=m.file, line=1, anchor=m.name,
            message=f"module {m.name} ({m.lines} lines, {len(m.defs)} public names) is imported "
                    "by no test",
        )
        for m in untested
    ]  # fmt: skip


def _unreferenced_findings(
    src: SourceFiles, modules: list[CodeModule], untested: list[CodeModule], reached: Reached
) -> list[Finding]:
    """A public name no test references: info when its module is untested (already reported)."""
    untested_names = {m.name for m in untested}
    return [
        evidence.finding(
            src, tool=TOOL, rule="unreferenced-public", file=m.file, line=line,
            severity="info" if m.name in untested_names else "low", anchor=f"{m.name}.{name}",
            message=f"public {kind} {m.name}.{name} is referenced by no test",
        )
        for m in modules for name, line, kind in m.defs
        if not reached.references(m.name, name)
    ]  # fmt: skip


def _static_metrics(
    src: SourceFiles, modules: list[CodeModule], untested: list[CodeModule], reached: Reached
) -> dict[str, Any]:
    public = [(m, d) for m in modules for d in m.defs]
    referenced = sum(1 for m, d in public if reached.references(m.name, d[0]))
    largest = sorted(untested, key=lambda m: (-m.lines, m.file))[:TOP]
    return {
        "modules_total": len(modules),
        "modules_tested": len(modules) - len(untested),
        "modules_tested_ratio": _ratio(len(modules) - len(untested), len(modules)),
        "public_total": len(public),
        "public_referenced": referenced,
        "public_referenced_ratio": _ratio(referenced, len(public)),
        "untested_modules_per_kloc": evidence.per_kloc(len(untested), evidence.kloc(src)),
        "largest_untested_modules": [{"module": m.name, "file": m.file, "lines": m.lines}
                                     for m in largest],
    }  # fmt: skip


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def _summary(result: PerspectiveResult) -> str:
    m = result.metrics
    text = (
        f"{m['modules_tested']} of {m['modules_total']} modules are imported by at least one of "
        f"{m['test_files']} test files ({m['modules_tested_ratio']:.0%}), and "
        f"{m['public_referenced']} of {m['public_total']} public functions and classes are "
        f"referenced directly by a test ({m['public_referenced_ratio']:.0%})."
    )
    if m["largest_untested_modules"]:
        worst = ", ".join(e["module"] for e in m["largest_untested_modules"][:3])
        text += f" Largest untested modules: {worst}."
    if m["unparsed_files"]:
        text += f" {len(m['unparsed_files'])} file(s) did not parse and were left out."
    if cov := m.get("line_coverage"):
        text += (
            f" The test suite ({cov['pytest_outcome'] or 'no outcome line'}) covered "
            f"{cov['percent']}% of {cov['statements']} statements in {cov['files_measured']} files."
        )
    return text + evidence.skipped_sentences(result.skipped, capitalise=True)
