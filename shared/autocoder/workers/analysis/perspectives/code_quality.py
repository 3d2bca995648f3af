"""Code Quality Analysis: ruff's broad rule set, radon's complexity and maintainability index."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.errors import PerspectiveSkipped, ToolError
from autocoder.schema import Finding, Severity

# Complexity (C90) is radon's job here; the line length depends on the target's own style.
QUALITY_SELECT = "E,F,W,B,SIM,UP,PL,RUF,N,ARG,PIE,RET,ERA"
QUALITY_IGNORE = "E501,PLR2004"
RADON_FORMAT = "2"  # bump when the cached radon result changes shape
TOP = 10

# First matching prefix wins: errors that break at run time first, style last.
_SEVERITY_BY_PREFIX: tuple[tuple[str, Severity], ...] = (
    ("syntax-error", "high"), ("F821", "high"), ("F822", "high"), ("F823", "high"),
    ("F811", "high"), ("F63", "high"), ("F7", "high"), ("E9", "high"), ("PLE", "high"),
    ("F", "medium"), ("B", "medium"), ("PLW", "medium"), ("E7", "medium"),
    ("RUF", "low"), ("SIM", "low"), ("RET", "low"), ("PIE", "low"), ("PLR", "low"),
    ("PLC", "low"), ("ARG", "low"), ("ASYNC2", "high"), ("ASYNC", "medium"), ("PERF", "low"),
)  # fmt: skip


def ruff_severity(code: str) -> Severity:
    return next((sev for prefix, sev in _SEVERITY_BY_PREFIX if code.startswith(prefix)), "info")


def run_ruff(
    ctx: RunContext, select: str, ignore: str, cache_name: str
) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """Ruff's diagnostics per Python file (code, line, message), cached by content."""
    version = toolkit.require_module("ruff", "ruff")
    args = ["check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
            "--select", select, *(["--ignore", ignore] if ignore else [])]  # fmt: skip
    args_key = hashlib.sha256(" ".join(args).encode()).hexdigest()[:12]

    def analyse(files: list[str]) -> dict[str, Any]:
        out: dict[str, list[dict[str, Any]]] = {f: [] for f in files}
        for chunk in toolkit.batched(files):
            done = toolkit.run_tool(
                ["ruff", *args, "--", *chunk],
                cwd=ctx.root,
                timeout_s=ctx.options.tool_timeout_s,
                ok_codes=(0,),
            )
            try:
                diagnostics = json.loads(done.stdout or "[]")
            except json.JSONDecodeError as e:
                raise ToolError(f"ruff printed no JSON on {ctx.root}: {e}") from None
            for d in diagnostics:
                rel = toolkit.relative(ctx.root, d["filename"])
                code = d.get("code") or "invalid-syntax"
                row = int((d.get("location") or {}).get("row") or 0)
                out.setdefault(rel, []).append({"code": code, "line": row, "message": d["message"]})
        return out

    files = ctx.sources.python
    found = toolkit.cached_per_file(
        ctx.cache, cache_name, f"{version}:{args_key}", ctx.sources, files, analyse
    )
    return version, found


def radon_file(text: str) -> dict[str, Any]:
    """Complexity of each function (qualified names, closures included) and the module's MI."""
    from radon.complexity import cc_visit
    from radon.metrics import mi_visit

    try:
        blocks = cc_visit(text)
        mi = float(mi_visit(text, multi=True))
    except (SyntaxError, ValueError, RecursionError) as e:
        return {"functions": [], "mi": None, "error": str(e)}
    functions: list[dict[str, Any]] = []
    pending = [(b, b.fullname) for b in blocks if hasattr(b, "closures")]
    while pending:
        block, name = pending.pop()
        functions.append({"name": name, "line": block.lineno, "cc": block.complexity})
        pending.extend((c, f"{name}.{c.name}") for c in block.closures)
    functions.sort(key=lambda f: (f["line"], f["name"]))
    return {"functions": functions, "mi": round(mi, 2), "error": None}


def run_radon(ctx: RunContext) -> tuple[str, dict[str, dict[str, Any]]]:
    version = toolkit.require_module("radon", "radon")

    def analyse(files: list[str]) -> dict[str, Any]:
        return {f: radon_file("\n".join(ctx.sources.lines(f)) + "\n") for f in files}

    files = ctx.sources.python
    found = toolkit.cached_per_file(
        ctx.cache, "radon/code_quality", f"{version}:{RADON_FORMAT}", ctx.sources, files, analyse
    )
    return version, found


def base_metrics(ctx: RunContext, findings: list[Finding]) -> dict[str, Any]:
    """What every perspective of this worker reports: size, counts, rates, worst files."""
    size = toolkit.kloc(ctx.sources)
    by_severity = toolkit.count_by(findings, "severity")
    per_file = Counter(f.file for f in findings)
    return {
        "python_files": len(ctx.sources.python),
        "kloc": round(size, 3),
        "findings": len(findings),
        "findings_per_kloc": toolkit.per_kloc(len(findings), size),
        "by_severity": by_severity,
        "per_kloc_by_severity": {s: toolkit.per_kloc(n, size) for s, n in by_severity.items()},
        "by_rule": dict(Counter(f.rule for f in findings).most_common(15)),
        "worst_files": [{"file": f, "findings": n} for f, n in per_file.most_common(TOP)],
    }


def counts_sentence(metrics: dict[str, Any], what: str) -> str:
    """E.g. "5 issues (1 medium, 4 low), 34.7 per KLOC in 7 Python files (0.144 KLOC)."."""
    severities = ", ".join(f"{n} {sev}" for sev, n in metrics["by_severity"].items()) or "none"
    return (
        f"{metrics['findings']} {what} ({severities}), {metrics['findings_per_kloc']} per KLOC, "
        f"in {metrics['python_files']} Python files ({metrics['kloc']} KLOC)."
    )


def collapse_syntax_errors(diagnostics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``syntax-error`` per unparseable file: the rest is the parser's follow-on noise."""
    syntax = [d for d in diagnostics if d["code"] == "invalid-syntax"]
    if not syntax:
        return diagnostics
    return [{**min(syntax, key=lambda d: int(d["line"])), "code": "syntax-error"}]


def complexity_severity(cc: int) -> Severity:
    return "high" if cc > 20 else "medium" if cc > 10 else "low"


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


class CodeQualityAnalysis:
    id: ClassVar[str] = "code_quality"
    name: ClassVar[str] = "Code Quality Analysis"

    def __init__(self, cc_threshold: int = 10) -> None:
        self.cc_threshold = cc_threshold

    def run(self, ctx: RunContext) -> PerspectiveResult:
        if not ctx.sources.python:
            raise PerspectiveSkipped(f"no Python files in {ctx.root}")
        ruff_version, lint = run_ruff(ctx, QUALITY_SELECT, QUALITY_IGNORE, "ruff/code_quality")
        radon_version, radon = run_radon(ctx)
        findings = self._lint_findings(ctx, lint) + self._complexity_findings(ctx, radon)
        findings = toolkit.stable_fingerprints(findings)
        metrics = self._metrics(ctx, findings, radon)
        return PerspectiveResult(
            summary=self._summary(findings, metrics),
            findings=findings,
            metrics=metrics,
            tools={"ruff": ruff_version, "radon": radon_version},
        )

    def _lint_findings(self, ctx: RunContext, lint: dict[str, Any]) -> list[Finding]:
        return [
            toolkit.finding(
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

    def _complexity_findings(self, ctx: RunContext, radon: dict[str, Any]) -> list[Finding]:
        out: list[Finding] = []
        for file, result in radon.items():
            for fn in result["functions"]:
                if fn["cc"] > self.cc_threshold:
                    out.append(toolkit.finding(
                        ctx.sources, tool="radon", rule="cyclomatic-complexity", file=file,
                        line=fn["line"], severity=complexity_severity(fn["cc"]), anchor=fn["name"],
                        message=f"{fn['name']} has cyclomatic complexity {fn['cc']} "
                        f"(threshold {self.cc_threshold}); split it into smaller functions",
                    ))  # fmt: skip
        return out

    def _metrics(
        self, ctx: RunContext, findings: list[Finding], radon: dict[str, Any]
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
            **base_metrics(ctx, findings),
            "functions": len(functions),
            "complex_functions": sum(1 for fn in functions if fn["cc"] > self.cc_threshold),
            "mean_complexity": mean([fn["cc"] for fn in functions]),
            "most_complex_functions": sorted(functions, key=lambda fn: -fn["cc"])[:TOP],
            "mean_maintainability": mean([m["mi"] for m in modules]),
            "least_maintainable_modules": sorted(modules, key=lambda m: m["mi"])[:TOP],
            "unparsed_files": sorted(f for f, r in radon.items() if r["error"])[:15],
        }

    def _summary(self, findings: list[Finding], metrics: dict[str, Any]) -> str:
        parts = ["Ruff and radon found " + counts_sentence(metrics, "issues")]
        if findings:
            rules = ", ".join(f"{r} ({n})" for r, n in list(metrics["by_rule"].items())[:3])
            worst = metrics["worst_files"][0]
            parts.append(
                f"Most frequent rules: {rules}; most issues in {worst['file']} "
                f"({worst['findings']})."
            )
        complex_fns = [
            f"{fn['function']} in {fn['file']} ({fn['cc']})"
            for fn in metrics["most_complex_functions"][:3]
            if fn["cc"] > self.cc_threshold
        ]
        parts.append(
            f"{metrics['complex_functions']} of {metrics['functions']} functions exceed "
            f"cyclomatic complexity {self.cc_threshold}"
            + (": " + ", ".join(complex_fns) + "." if complex_fns else ".")
        )
        if metrics["least_maintainable_modules"]:
            low = metrics["least_maintainable_modules"][0]
            parts.append(
                f"Lowest maintainability index: {low['file']} ({low['mi']}, {low['rank']})."
            )
        if metrics["unparsed_files"]:
            parts.append(f"{len(metrics['unparsed_files'])} files do not parse for radon.")
        return " ".join(parts)
