"""What the analysis worker makes of its tools' output: findings with fingerprints that survive
unrelated edits, and the metrics and sentences that every analysis perspective's result is made
of (sizes, counts per severity and rule, rates per KLOC, the worst files).

Moved here from ``autocoder.engine.toolkit``: no other worker uses them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding, Severity

TOP = 10  # entries in a metric that lists the worst files, functions or modules


def finding(
    sources: SourceFiles,
    *,
    tool: str,
    rule: str,
    severity: Severity,
    file: str,
    line: int,
    message: str,
    anchor: str | None = None,
) -> Finding:
    """A Finding with a provisional fingerprint; call :func:`stable_fingerprints` on the list.

    The fingerprint hashes the tool, rule, file and the *text* of the flagged line (or ``anchor``,
    e.g. a qualified name), never the line number, so it survives unrelated lines moving.
    """
    text = anchor if anchor is not None else sources.line_text(file, line)
    base = hashlib.sha256(f"{tool}\0{rule}\0{file}\0{text}".encode()).hexdigest()[:16]
    return Finding(
        tool=tool, rule=rule, severity=severity, file=file, line=line, message=message,
        fingerprint=base,
    )  # fmt: skip


def stable_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Sort by file and line, and make repeated fingerprints unique by their order of occurrence."""
    ordered = sorted(findings, key=lambda f: (f.file, f.line, f.rule, f.message))
    seen: Counter[str] = Counter()
    out: list[Finding] = []
    for f in ordered:
        n = seen[f.fingerprint]
        seen[f.fingerprint] += 1
        out.append(f if n == 0 else f.model_copy(update={"fingerprint": f"{f.fingerprint}-{n}"}))
    return out


def count_by(
    findings: Iterable[Finding], attribute: str, most: int | None = None
) -> dict[str, int]:
    """Findings per value of ``attribute``, most frequent first (only the first ``most``)."""
    return dict(Counter(str(getattr(f, attribute)) for f in findings).most_common(most))


def kloc(sources: SourceFiles, files: list[str] | None = None) -> float:
    """Thousands of lines in ``files`` (default: the Python files)."""
    total = sum(len(sources.lines(f)) for f in (files if files is not None else sources.python))
    return total / 1000.0


def per_kloc(count: int, size_kloc: float) -> float:
    return round(count / size_kloc, 2) if size_kloc > 0 else 0.0


def files_with_errors(per_file: dict[str, dict[str, Any]], most: int) -> list[str]:
    """The first ``most`` files, by name, whose per-file result holds an ``error``."""
    return sorted(f for f, result in per_file.items() if result.get("error"))[:most]


def finding_metrics(sources: SourceFiles, findings: list[Finding]) -> dict[str, Any]:
    """What most perspectives report: size, counts, rates, most frequent rules, worst files."""
    size = kloc(sources)
    by_severity = count_by(findings, "severity")
    per_file = Counter(f.file for f in findings)
    return {
        "python_files": len(sources.python),
        "kloc": round(size, 3),
        "findings": len(findings),
        "findings_per_kloc": per_kloc(len(findings), size),
        "by_severity": by_severity,
        "per_kloc_by_severity": {s: per_kloc(n, size) for s, n in by_severity.items()},
        "by_rule": count_by(findings, "rule", most=15),
        "worst_files": [{"file": f, "findings": n} for f, n in per_file.most_common(TOP)],
    }


def counts_phrase(counts: dict[str, int], empty: str = "none") -> str:
    """``{"medium": 1, "low": 4}`` -> "1 medium, 4 low"; ``empty`` when there is nothing."""
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or empty


def counts_sentence(metrics: dict[str, Any], what: str) -> str:
    """E.g. "5 issues (1 medium, 4 low), 34.7 per KLOC, in 7 Python files (0.144 KLOC)." from
    :func:`finding_metrics`."""
    return (
        f"{metrics['findings']} {what} ({counts_phrase(metrics['by_severity'])}), "
        f"{metrics['findings_per_kloc']} per KLOC, "
        f"in {metrics['python_files']} Python files ({metrics['kloc']} KLOC)."
    )


def skipped_sentences(skipped: dict[str, str], *, capitalise: bool = False) -> str:
    """ " part: skipped: why." for each part of a result that was skipped, to end a summary."""
    return "".join(
        f" {part.capitalize() if capitalise else part}: {why}." for part, why in skipped.items()
    )
