"""Test Coverage Analysis: the modules and public names tests reach, plus optional line coverage.

Which untested code is worth a finding, and how serious it is, is :mod:`._untested`'s.

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
    importers,
    scan_module,
)
from autocoder.workers.analysis.perspectives._untested import (
    TOOL,
    Exposure,
    exposures,
    no_tests_finding,
    unreferenced_findings,
    untested_findings,
)

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
        ranked = exposures(modules, importers(src, scans, modules))
        untested = [e for e in ranked if not reached.reaches(e.module)]
        metrics = _static_metrics(src, modules, untested, reached)
        result = PerspectiveResult(summary="", metrics=metrics, tools={"python-ast": SCAN_VERSION})
        metrics["test_files"] = len(tests)
        metrics["unparsed_files"] = evidence.files_with_errors(scans, TOP)
        add_line_coverage(ctx, result)
        result.findings = evidence.stable_fingerprints(_findings(src, ranked, untested, reached))
        metrics["by_severity"] = evidence.count_by(result.findings, "severity")
        metrics["by_rule"] = evidence.count_by(result.findings, "rule")
        result.summary = _summary(result)
        return result


def _findings(
    src: SourceFiles, ranked: list[Exposure], untested: list[Exposure], reached: Reached
) -> list[Finding]:
    """One "no tests" finding when no test reaches anything, else one per untested module and
    one per tested module with public names no test names."""
    if ranked and len(untested) == len(ranked):
        return [no_tests_finding(src, ranked)]
    tested = [e for e in ranked if e not in untested]
    names = {e.module.name for e in tested}
    return untested_findings(src, untested, names) + unreferenced_findings(src, tested, reached)


def _static_metrics(
    src: SourceFiles, modules: list[CodeModule], untested: list[Exposure], reached: Reached
) -> dict[str, Any]:
    public = [(m, d) for m in modules for d in m.defs]
    referenced = sum(1 for m, d in public if reached.references(m.name, d[0]))
    largest = sorted((e.module for e in untested), key=lambda m: (-m.lines, m.file))[:TOP]
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
        "most_exposed_untested": [
            {"module": e.module.name, "file": e.module.file, "lines": e.module.lines,
             "public_names": len(e.module.defs), "fan_in": e.fan_in, "public": e.public}
            for e in untested[:TOP]
        ],
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
    if m["most_exposed_untested"]:
        worst = ", ".join(e["module"] for e in m["most_exposed_untested"][:3])
        text += f" Most exposed untested modules: {worst}."
    if m["unparsed_files"]:
        text += f" {len(m['unparsed_files'])} file(s) did not parse and were left out."
    if cov := m.get("line_coverage"):
        text += (
            f" The test suite ({cov['pytest_outcome'] or 'no outcome line'}) covered "
            f"{cov['percent']}% of {cov['statements']} statements in {cov['files_measured']} files."
        )
    return text + evidence.skipped_sentences(result.skipped, capitalise=True)
