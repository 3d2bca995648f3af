"""Benchmark the quality of what the workers emit on real projects (issue 11), before and after.

Per target: ``autocoder once analysis --iterations 6`` and ``autocoder once test-planning
--iterations 15`` on a fresh data dir (``AUTOCODER_NETWORK=0``), then ``autocoder tests --write``;
the datasets are read back as files (JSON lines under ``data/findings``, ``data/specs``,
``data/records``). Reported: findings per perspective x severity, high+critical findings, each
planted vulnerability of ``tests/fixtures/vulnweb`` (lines marked ``# planted: RULE``) found or
not and its rank by severity, specs and test files written, the share of generated tests that are
structural (:mod:`quality_checks`), and with ``--run-tests`` collected / passing / failing.

The library is whatever ``python -m autocoder.cli`` imports: ``PYTHONPATH=/tmp/before/shared``
selects the old copy. Targets run one after another (the machine is shared). Results are merged
into ``bench/results/quality-<label>.json``; the markdown tables of every target in it go to
stdout. Run: ``.venv/bin/python bench/bench_quality.py --label before [TARGET ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_checks import run_written_tests, structural_summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
VULNWEB = ROOT / "tests" / "fixtures" / "vulnweb"
DEFAULT_TARGETS = ("/tmp/real/click-8.1.8", "/tmp/real/attrs-25.3.0", "/tmp/real/flask-3.1.0")
SEVERITIES = ("critical", "high", "medium", "low", "info")
ANALYSIS, PLANNING = "autocoder-analysis-results", "autocoder-test-planning-results"
MARK = re.compile(r"\b(planted|safe):\s*([\w.:/-]+)")
PLANTED_PERSPECTIVES = ("Security Audit", "Dependency Analysis")  # who must find a planted vuln


def autocoder(args: list[str], *, cwd: Path, timeout_s: float) -> dict[str, Any]:
    """``python -m autocoder.cli ARGS`` with no AUTOCODER_ variable but AUTOCODER_NETWORK=0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCODER_")}
    env["AUTOCODER_NETWORK"] = "0"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autocoder.cli", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=timeout_s, check=False,
    )  # fmt: skip
    (cwd / f"{args[0]}-{args[1] if len(args) > 1 else ''}.log").write_text(done.stderr)
    if done.returncode != 0:
        print(f"  exit {done.returncode}: {' '.join(args)}\n{done.stderr[-2000:]}", file=sys.stderr)
    return {"rc": done.returncode, "wall_s": round(time.monotonic() - started, 1),
            "stdout": done.stdout}  # fmt: skip


def rows(dataset: Path, folder: str, key: str) -> list[dict[str, Any]]:
    """The rows of one config, the newest of each ``key`` (fingerprint, spec id) kept."""
    newest: dict[str, dict[str, Any]] = {}
    for shard in sorted((dataset / folder).glob("*/*.jsonl")):
        for line in shard.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                newest[str(row.get(key, len(newest)))] = row
    return list(newest.values())


def record_statuses(dataset: Path) -> dict[str, int]:
    return dict(Counter(r["status"] for r in rows(dataset, "data/records", "iteration")))


def findings_summary(findings: list[dict[str, Any]]) -> dict[str, Any]:
    table: dict[str, Counter[str]] = {}
    for f in findings:
        table.setdefault(f["perspective_name"], Counter())[f["severity"]] += 1
    return {
        "total": len(findings),
        "high_or_critical": sum(f["severity"] in ("critical", "high") for f in findings),
        "by_perspective": {p: dict(c) for p, c in sorted(table.items())},
    }


def marked_lines(fixture: Path) -> list[dict[str, Any]]:
    """Every ``planted: RULE`` and ``safe: RULE`` mark: the line it is on, or the next code line
    when the mark is a comment line of its own (``# planted: x`` above the code); a mark after
    commented-out code (``# "csrf.Middleware",  # planted: x``) is about that line."""
    marks = []
    files = (p for p in fixture.rglob("*") if p.is_file() and p.suffix != ".md")  # not the README
    for path in sorted(p for p in files if p.stat().st_size < 10**6):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        for number, text in enumerate(lines, 1):
            for match in MARK.finditer(text):
                line = number
                before = text[: match.start()].rstrip().rstrip("#").rstrip()
                commented_code = before.lstrip("# ").startswith(("'", '"'))  # # "x",  # planted
                if text.lstrip().startswith(("#", "{#", "<!--", "//")) and not commented_code:
                    line = next((n for n in range(number + 1, len(lines) + 1)
                                 if lines[n - 1].strip()), number)  # fmt: skip
                rel = path.relative_to(fixture).as_posix()
                marks.append({"kind": match[1], "rule": match[2], "file": rel, "line": line})
    return marks


def planted_results(findings: list[dict[str, Any]], fixture: Path) -> dict[str, Any]:
    """Each planted mark with the most severe security/dependency finding on its line (marks sit
    on adjacent lines, so no window), that finding's rank among all the target's findings by
    severity (``rank_best``-``rank_worst``: the band of its severity), and the safe look-alikes
    that got a finding anyway (false positives)."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    ranks = sorted(order[f["severity"]] for f in findings)
    planted, false_positives = [], []
    for mark in marked_lines(fixture):
        on_line = [f for f in findings if f["perspective_name"] in PLANTED_PERSPECTIVES
                   and f["file"] == mark["file"] and f["line"] == mark["line"]]  # fmt: skip
        best = min(on_line, key=lambda f: order[f["severity"]], default=None)
        if mark["kind"] == "safe":
            false_positives += [{**mark, "by": f"{f['tool']}:{f['rule']}"} for f in on_line]
            continue
        found: dict[str, Any] = {"found": best is not None}
        if best is not None:
            level = order[best["severity"]]
            found.update(severity=best["severity"], by=f"{best['tool']}:{best['rule']}",
                         rank_best=sum(r < level for r in ranks) + 1,
                         rank_worst=sum(r <= level for r in ranks), of=len(findings))  # fmt: skip
        planted.append({"rule": mark["rule"], "file": mark["file"], "line": mark["line"], **found})
    safe = sum(m["kind"] == "safe" for m in marked_lines(fixture))
    return {"marks": planted, "safe_marks": safe, "safe_with_findings": false_positives}


def bench_target(target: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data = work / "data"
    common = ["--target", str(target), "--data-dir", str(data)]
    result: dict[str, Any] = {"target": str(target)}
    print(f"{target.name}: analysis", file=sys.stderr)
    run = autocoder(["once", "analysis", "--iterations", "6", *common], cwd=work,
                    timeout_s=args.timeout_s)  # fmt: skip
    findings = rows(data / ANALYSIS, "data/findings", "fingerprint")
    result["analysis"] = {"rc": run["rc"], "wall_s": run["wall_s"],
                          "records": record_statuses(data / ANALYSIS),
                          **findings_summary(findings)}  # fmt: skip
    if target.resolve() == VULNWEB.resolve():
        result["planted"] = planted_results(findings, target)
    if args.analysis_only:
        return result
    print(f"{target.name}: test planning", file=sys.stderr)
    run = autocoder(["once", "test-planning", "--iterations", "15", *common], cwd=work,
                    timeout_s=args.timeout_s)  # fmt: skip
    specs = rows(data / PLANNING, "data/specs", "id")
    tests_dir = work / "tests"
    wrote = autocoder(["tests", "--write", str(tests_dir), "--data-dir", str(data)], cwd=work,
                      timeout_s=600)  # fmt: skip
    result["planning"] = {
        "rc": run["rc"], "wall_s": run["wall_s"], "records": record_statuses(data / PLANNING),
        "specs": len(specs), "specs_by_perspective": dict(Counter(s["perspective"] for s in specs)),
        "not_written": wrote["stdout"].count("not written:"),
        **structural_summary(tests_dir),
    }  # fmt: skip
    if args.run_tests and "django" not in target.name and target != VULNWEB.resolve():
        print(f"{target.name}: running the written tests", file=sys.stderr)
        deps = RESULTS / "quality-deps" / target.name
        result["run"] = run_written_tests(tests_dir, target, work, deps=deps,
                                          timeout_s=args.test_timeout_s)  # fmt: skip
    return result


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def markdown(report: dict[str, Any]) -> str:
    lines = [f"### Quality, {report['label']} ({report['library']})", "",
             "| target | findings | high+crit | specs | files | not compiling | tests | structural"
             " | collected | passed | failed | errors | skipped |", "|---" * 13 + "|"]  # fmt: skip
    for name, t in report["targets"].items():
        a, p, r = t["analysis"], t.get("planning", {}), t.get("run", {})
        cells = [
            name,
            a["total"],
            a["high_or_critical"],
            p.get("specs", "-"),
            p.get("files", "-"),
            p.get("files_not_compiling", "-"),
            p.get("tests", "-"),
            f"{p['structural']} ({pct(p['structural'], p['tests'])})" if p else "-",
            *(r.get(k, "-") for k in ("collected", "passed", "failed", "errors", "skipped")),
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "| target | perspective | " + " | ".join(SEVERITIES) + " | total |",
              "|---" * (len(SEVERITIES) + 3) + "|"]  # fmt: skip
    for name, t in report["targets"].items():
        for perspective, counts in t["analysis"]["by_perspective"].items():
            cells = [counts.get(s, 0) for s in SEVERITIES]
            lines.append(f"| {name} | {perspective} | "
                         + " | ".join(map(str, cells)) + f" | {sum(cells)} |")  # fmt: skip
    for name, t in report["targets"].items():
        if "planted" not in t:
            continue
        marks, wrong = t["planted"]["marks"], t["planted"]["safe_with_findings"]
        hit = len({(w["file"], w["line"]) for w in wrong})
        lines += ["", f"Planted in {name}: {sum(m['found'] for m in marks)} of {len(marks)} found;"
                  f" {hit} of {t['planted']['safe_marks']} safe look-alikes with a finding", "",
                  "| rule | where | found | severity | rank | by |", "|---" * 6 + "|"]  # fmt: skip
        for m in marks:
            rank = f"{m['rank_best']}-{m['rank_worst']} of {m['of']}" if m["found"] else "-"
            cells = [m["rule"], f"{m['file']}:{m['line']}", "yes" if m["found"] else "no",
                     m.get("severity", "-"), rank, m.get("by", "-")]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
        lines += [f"- finding on a safe look-alike: {w['rule']} {w['file']}:{w['line']} {w['by']}"
                  for w in wrong]  # fmt: skip
    return "\n".join(lines)


def library() -> str:
    """Which autocoder ``python -m autocoder.cli`` imports (PYTHONPATH decides)."""
    code = "import autocoder, pathlib; print(pathlib.Path(autocoder.__file__).parent)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "targets", nargs="*", type=Path, help="default: click, attrs, flask, vulnweb"
    )
    parser.add_argument("--label", required=True, help="before, after, ...: names the JSON file")
    parser.add_argument("--analysis-only", action="store_true", help="skip test planning (django)")
    parser.add_argument("--run-tests", action="store_true",
                        help="run the written tests under pytest (never for django)")  # fmt: skip
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="per autocoder command")
    parser.add_argument("--test-timeout-s", type=float, default=900.0, help="per pytest run")
    parser.add_argument("--fresh", action="store_true", help="replace the JSON, do not merge")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[\w.-]+", args.label):
        parser.error(f"--label {args.label!r}: letters, digits, '.', '-' and '_' only")
    if not args.targets:
        args.targets = [Path(t) for t in DEFAULT_TARGETS] + ([VULNWEB] if VULNWEB.is_dir() else [])
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = RESULTS / f"quality-{args.label}.json"
    report: dict[str, Any] = {"targets": {}}
    if out.exists() and not args.fresh:
        report = json.loads(out.read_text())
    report.update(
        label=args.label, library=library(), updated=time.strftime("%FT%TZ", time.gmtime())
    )
    for target in args.targets:
        if not target.is_dir():
            print(f"{target}: not a directory, skipped", file=sys.stderr)
            continue
        work = RESULTS / "quality-work" / args.label / target.name
        report["targets"][target.name] = bench_target(target.resolve(), work, args)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")  # after each target: a crash keeps some
    print(markdown(report))
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
