"""Performance Analysis: blocking calls in async code, nested loops, quadratic list idioms.

The AST scanner (:mod:`._hotspots`) finds most of them; ruff's ASYNC and PERF rules add theirs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.schema import Finding
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._hotspots import (
    SCANNER,
    SCANNER_VERSION,
    scan_hot_spots,
)
from autocoder.workers.analysis.perspectives._ruff import Diagnostics, ruff_severity, run_ruff

TOP = evidence.TOP

Hit = tuple[str, dict[str, Any]]  # (file, {"rule", "line", "function", "severity", "message"})


def enclosing_function(functions: list[list[Any]], line: int) -> str:
    """The innermost function whose span holds ``line``."""
    spans = [(end - start, name) for name, start, end in functions if start <= line <= end]
    return min(spans)[1] if spans else "<module>"


def ruff_hits(scans: dict[str, Any], lint: Diagnostics) -> dict[str, list[dict[str, Any]]]:
    """Ruff's ASYNC/PERF diagnostics as hits, minus blocking calls the scanner already has."""
    out: dict[str, list[dict[str, Any]]] = {}
    for file, diagnostics in lint.items():
        scanned = scans.get(file) or {"hits": [], "functions": []}
        seen = {h["line"] for h in scanned["hits"] if h["rule"] == "blocking-call-in-async"}
        for d in diagnostics:
            if d["code"].startswith(("ASYNC", "PERF")) and not (
                d["code"].startswith("ASYNC2") and d["line"] in seen
            ):
                fn = enclosing_function(scanned["functions"], d["line"])
                out.setdefault(file, []).append({
                    "rule": d["code"], "line": d["line"], "function": fn, "tool": "ruff",
                    "severity": ruff_severity(d["code"]),
                    "message": f"{d['code']}: {d['message']} (in {fn})",
                })  # fmt: skip
    return out


class PerformanceAnalysis:
    """Hot spots from the AST scanner and from ruff, each named by its enclosing function."""

    id: ClassVar[str] = "performance"
    name: ClassVar[str] = "Performance Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        toolkit.require_python(ctx)
        scans = toolkit.cached_per_file(
            ctx.cache, SCANNER, SCANNER_VERSION, ctx.sources, ctx.sources.python,
            lambda files: {f: scan_hot_spots("\n".join(ctx.sources.lines(f)) + "\n")
                           for f in files},
        )  # fmt: skip
        ruff_version, lint = run_ruff(ctx, "ASYNC,PERF", "", "ruff/performance")
        hits = [(f, h) for f, r in scans.items() for h in r["hits"]]
        hits += [(f, h) for f, found in ruff_hits(scans, lint).items() for h in found]
        findings = evidence.stable_fingerprints([hit_finding(ctx, hit) for hit in hits])
        metrics = hot_spot_metrics(ctx, scans, hits, findings)
        return PerspectiveResult(
            summary=summarise(metrics), findings=findings, metrics=metrics,
            tools={SCANNER: SCANNER_VERSION, "ruff": ruff_version},
        )  # fmt: skip


def hit_finding(ctx: RunContext, hit: Hit) -> Finding:
    """A hit as a finding, anchored on its function and the text of its line."""
    file, h = hit
    return evidence.finding(
        ctx.sources, tool=h.get("tool", SCANNER), rule=h["rule"], severity=h["severity"],
        file=file, line=h["line"], message=h["message"],
        anchor=f"{h['function']} {ctx.sources.line_text(file, h['line'])}",
    )  # fmt: skip


def hot_spot_metrics(
    ctx: RunContext, scans: dict[str, Any], hits: list[Hit], findings: list[Finding]
) -> dict[str, Any]:
    hot = Counter(f"{f}:{h['function']}" for f, h in hits).most_common(TOP)
    return {
        **evidence.finding_metrics(ctx.sources, findings),
        "async_functions": sum(r["async_functions"] for r in scans.values()),
        "hot_functions": [{"function": k, "findings": n} for k, n in hot],
        "unparsed_files": evidence.files_with_errors(scans, 15),
    }


def summarise(metrics: dict[str, Any]) -> str:
    parts = [
        f"{metrics['async_functions']} async functions scanned; "
        + evidence.counts_sentence(metrics, "hot spots")
    ]
    if metrics["by_rule"]:
        rules = ", ".join(f"{r} ({n})" for r, n in metrics["by_rule"].items())
        parts.append(f"By rule: {rules}.")
    if metrics["hot_functions"]:
        hottest = [f"{h['function']} ({h['findings']})" for h in metrics["hot_functions"][:3]]
        parts.append("Hottest functions: " + ", ".join(hottest) + ".")
    if metrics["unparsed_files"]:
        parts.append(f"{len(metrics['unparsed_files'])} files do not parse and were not scanned.")
    return " ".join(parts)
