"""Code Quality Analysis: ruff's broad rule set, radon's complexity and maintainability index."""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._ruff import Diagnostics, ruff_severity, run_ruff

# Complexity (C90) is radon's job here; the line length depends on the target's own style.
QUALITY_SELECT = "E,F,W,B,SIM,UP,PL,RUF,N,ARG,PIE,RET,ERA"
QUALITY_IGNORE = "E501,PLR2004"
RADON_FORMAT = "2"  # bump when the cached radon result changes shape
TOP = evidence.TOP

RadonResults = dict[str, dict[str, Any]]  # file -> {"functions", "mi", "error"}


def radon_file(text: str) -> dict[str, Any]:
    """Complexity of each function (qualified names, closures included) and the module's MI."""
    from radon.complexity import cc_visit
    from radon.metrics import mi_visit

    try:
        blocks = cc_visit(text)
        mi = float(mi_visit(text, multi=True))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return {"functions": [], "mi": None, "error": str(e) or type(e).__name__}
    return {"functions": _function_complexities(blocks), "mi": round(mi, 2), "error": None}


def _function_complexities(blocks: list[Any]) -> list[dict[str, Any]]:
    """Name, line and complexity of radon's functions and methods and of their closures."""
    functions: list[dict[str, Any]] = []
    pending = [(b, b.fullname) for b in blocks if hasattr(b, "closures")]
    while pending:
        block, name = pending.pop()
        functions.append({"name": name, "line": block.lineno, "cc": block.complexity})
        pending.extend((c, f"{name}.{c.name}") for c in block.closures)
    functions.sort(key=lambda f: (f["line"], f["name"]))
    return functions


def run_radon(ctx: RunContext) -> tuple[str, RadonResults]:
    """Radon's version and its result per Python file, cached by content."""
    version = toolkit.require_module("radon", "radon")

    def analyse(files: list[str]) -> dict[str, Any]:
        return {f: radon_file("\n".join(ctx.sources.lines(f)) + "\n") for f in files}

    files = ctx.sources.python
    found = toolkit.cached_per_file(
        ctx.cache, "radon/code_quality", f"{version}:{RADON_FORMAT}", ctx.sources, files, analyse
    )
    return version, found


def collapse_syntax_errors(diagnostics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``syntax-error`` per unparseable file: the rest is the parser's follow-on noise."""
    syntax = [d for d in diagnostics if d["code"] == "invalid-syntax"]
    if not syntax:
        return diagnostics
    return [{**min(syntax, key=lambda d: int(d["line"])), "code": "syntax-error"}]


def complexity_severity(cc: int) -> Severity:
    """Complexity is a cost of change, not a defect: never high, medium above 20."""
    return "medium" if cc > 20 else "low"


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


class CodeQualityAnalysis:
    """Lint findings (ruff), overly complex functions (radon) and each module's maintainability."""

    id: ClassVar[str] = "code_quality"
    name: ClassVar[str] = "Code Quality Analysis"

    def __init__(self, cc_threshold: int = 10) -> None:
        self.cc_threshold = cc_threshold

    def run(self, ctx: RunContext) -> PerspectiveResult:
        toolkit.require_python(ctx)
        ruff_version, lint = run_ruff(ctx, QUALITY_SELECT, QUALITY_IGNORE, "ruff/code_quality")
        radon_version, radon = run_radon(ctx)
        findings = self._lint_findings(ctx, lint) + self._complexity_findings(ctx, radon)
        findings = evidence.stable_fingerprints(findings)
        metrics = self._metrics(ctx, findings, radon)
        return PerspectiveResult(
            summary=self._summary(findings, metrics),
            findings=findings,
            metrics=metrics,
            tools={"ruff": ruff_version, "radon": radon_version},
        )

    def _lint_findings(self, ctx: RunContext, lint: Diagnostics) -> list[Finding]:
        return [
            evidence.finding(
                ctx.sources,
                tool="ruff",
                rule=d["code"],
                severity=ruff_severity(d["code"]),
                file=file,
                line=d["line"],
                message=f"{d['code']}: {d['message']}",
            )
            for file, diagnostics in lint.items()
            for d in collapse_syntax_errors(diagnostics)
        ]

    def _complexity_findings(self, ctx: RunContext, radon: RadonResults) -> list[Finding]:
        out: list[Finding] = []
        for file, result in radon.items():
            for fn in result["functions"]:
                if fn["cc"] > self.cc_threshold:
                    out.append(evidence.finding(
                        ctx.sources, tool="radon", rule="cyclomatic-complexity", file=file,
                        line=fn["line"], severity=complexity_severity(fn["cc"]), anchor=fn["name"],
                        message=f"{fn['name']} has cyclomatic complexity {fn['cc']} "
                        f"(threshold {self.cc_threshold}); split it into smaller functions",
                    ))  # fmt: skip
        return out

    def _metrics(
        self, ctx: RunContext, findings: list[Finding], radon: RadonResults
    ) -> dict[str, Any]:
        from radon.metrics import mi_rank

        functions = [
            {"file": file, "function": fn["name"], "cc": fn["cc"]}
            for file, result in radon.items()
            for fn in result["functions"]
        ]
        modules = [
            {"file": f, "mi": r["mi"], "rank": mi_rank(r["mi"])}
            for f, r in radon.items()
            if r["mi"] is not None
        ]
        return {
            **evidence.finding_metrics(ctx.sources, findings),
            "functions": len(functions),
            "complex_functions": sum(1 for fn in functions if fn["cc"] > self.cc_threshold),
            "mean_complexity": mean([fn["cc"] for fn in functions]),
            "most_complex_functions": sorted(functions, key=lambda fn: -fn["cc"])[:TOP],
            "mean_maintainability": mean([m["mi"] for m in modules]),
            "least_maintainable_modules": sorted(modules, key=lambda m: m["mi"])[:TOP],
            "unparsed_files": evidence.files_with_errors(radon, 15),
        }

    def _summary(self, findings: list[Finding], metrics: dict[str, Any]) -> str:
        parts = ["Ruff and radon found " + evidence.counts_sentence(metrics, "issues")]
        if findings:
            rules = ", ".join(f"{r} ({n})" for r, n in list(metrics["by_rule"].items())[:3])
            worst = metrics["worst_files"][0]
            parts.append(
                f"Most frequent rules: {rules}; most issues in {worst['file']} "
                f"({worst['findings']})."
            )
        parts.append(self._complexity_sentence(metrics))
        if metrics["least_maintainable_modules"]:
            low = metrics["least_maintainable_modules"][0]
            parts.append(
                f"Lowest maintainability index: {low['file']} ({low['mi']}, {low['rank']})."
            )
        if metrics["unparsed_files"]:
            parts.append(f"{len(metrics['unparsed_files'])} files do not parse for radon.")
        return " ".join(parts)

    def _complexity_sentence(self, metrics: dict[str, Any]) -> str:
        """How many functions exceed the threshold, naming the three most complex of them."""
        complex_fns = [
            f"{fn['function']} in {fn['file']} ({fn['cc']})"
            for fn in metrics["most_complex_functions"][:3]
            if fn["cc"] > self.cc_threshold
        ]
        return (
            f"{metrics['complex_functions']} of {metrics['functions']} functions exceed "
            f"cyclomatic complexity {self.cc_threshold}"
            + (": " + ", ".join(complex_fns) + "." if complex_fns else ".")
        )
