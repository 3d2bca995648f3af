"""Benchmark the implementation worker (issue 13): items, patches and labels, a re-check of every
label, time per stage and peak memory.

Per target (default: a copy of ``tests/fixtures/planted_repo``, made a git repository with one
commit; a target that is a git checkout is cloned), into one fresh data dir with
``AUTOCODER_NETWORK=0``: ``autocoder once analysis --iterations 6``, ``autocoder once
test-planning --iterations 15``, then ``autocoder once implementation --iterations N`` (default
60: ten items through the six stages). Reported from the datasets: items taken, patches by
label and the share verified / checked / failed, each stage's record count and ``duration_s``,
and the peak RSS of the implementation run (``ru_maxrss`` of the children a wrapper process
waited for: the largest single process, the worker or one of its tools).

**Label re-check**: each patch labelled verified or checked is applied again, by ``git apply``,
to a fresh clone at its base commit; its changed files must parse (``compile``, ``tomllib``),
``autocoder once analysis`` on the patched clone must not report the fingerprints it answers nor
a high or critical finding the unpatched target did not have, and with ``--run-tests`` (it runs
the target's code) a verified patch's clone must pass ``pytest`` when the unpatched one does.
A patch failing any of these, or whose analysis re-run fails, is a label a re-run contradicts.
Failed and unverified labels are counted, not re-checked. Run:
``.venv/bin/python bench/bench_implementation.py [TARGET ...] [--run-tests]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from implementation_checks import IMPLEMENTATION, autocoder, prepared_target, recheck_labels, rows

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
PLANTED = ROOT / "tests" / "fixtures" / "planted_repo"
LABELS = ("verified", "checked", "failed", "unverified")


def stage_times(dataset: Path) -> dict[str, dict[str, Any]]:
    """Per perspective (stage): records, their statuses, total / mean / max ``duration_s``."""
    out: dict[str, dict[str, Any]] = {}
    for record in rows(dataset, "data/records", "iteration"):
        stage = out.setdefault(record["perspective_name"], {"durations": [], "statuses": Counter()})
        stage["durations"].append(record["duration_s"])
        stage["statuses"][record["status"]] += 1
    return {
        name: {
            "records": len(s["durations"]),
            "statuses": dict(s["statuses"]),
            "total_s": round(sum(s["durations"]), 2),
            "mean_s": round(sum(s["durations"]) / len(s["durations"]), 3),
            "max_s": round(max(s["durations"]), 3),
        }
        for name, s in out.items()
    }


def implementation_report(data: Path) -> dict[str, Any]:
    """Items, patches by label and each label's share of the published patches."""
    dataset = data / IMPLEMENTATION
    records = rows(dataset, "data/records", "iteration")
    items = {r["analysis"].get("item_id") for r in records if r["analysis"].get("item_id")}
    patches = rows(dataset, "data/patches", "id")
    labels = Counter(p["status"] for p in patches)
    total = len(patches)
    share = {label: round(labels[label] / total, 3) if total else None for label in LABELS}
    ok = labels["verified"] + labels["checked"]
    return {
        "items_taken": len(items),
        "patches": total,
        "by_label": dict(labels),
        "share": share,
        "verified_or_checked": round(ok / total, 3) if total else None,
        "failed_steps": dict(Counter(p["failed_step"] for p in patches if p["failed_step"])),
        "stages": stage_times(dataset),
    }


def worker_unready() -> str:
    """ "" when this autocoder can build the implementation worker, else why not (its last line)."""
    code = "from autocoder.workers.catalog import worker_spec; worker_spec('implementation')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    return (done.stderr.strip().splitlines() or [""])[-1] if done.returncode else ""


def bench_target(source: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    target, data = prepared_target(source, work), work / "data"
    common = ["--target", str(target), "--data-dir", str(data)]
    result: dict[str, Any] = {"target": str(source), "runs": {}}
    tests = {"AUTOCODER_RUN_TARGET_TESTS": "1"} if args.run_tests else {}
    for worker, iterations in (
        ("analysis", 6),
        ("test-planning", 15),
        ("implementation", args.iterations),
    ):
        print(f"{source.name}: {worker} x {iterations}", file=sys.stderr)
        result["runs"][worker] = autocoder(
            ["once", worker, "--iterations", str(iterations), *common],
            cwd=work,
            timeout_s=args.timeout_s,
            **tests,
        )
        if result["runs"][worker]["rc"] != 0:
            log = work / f"once-{worker}.log"
            raise SystemExit(f"{source.name}: `autocoder once {worker}` failed; see {log}")
    result["implementation"] = implementation_report(data)
    print(f"{source.name}: label re-check", file=sys.stderr)
    result["recheck"] = recheck_labels(target, data, work, args)
    return result


def markdown(report: dict[str, Any]) -> str:
    head = (
        "target",
        "items",
        "patches",
        *LABELS,
        "verified+checked",
        "re-checked",
        "contradicted",
        "impl. wall s",
        "impl. peak RSS MB",
    )
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name, t in report["targets"].items():
        i, r, run = t["implementation"], t["recheck"], t["runs"]["implementation"]
        labels = [i["by_label"].get(label, 0) for label in LABELS]
        share = f"{100 * i['verified_or_checked']:.0f}%" if i["patches"] else "-"
        cells = [
            name,
            i["items_taken"],
            i["patches"],
            *labels,
            share,
            r["rechecked"],
            r["contradicted"],
            run["wall_s"],
            run["peak_rss_mb"],
        ]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += [
        "",
        "| target | stage | records | statuses | total s | mean s | max s |",
        "|---" * 7 + "|",
    ]
    for name, t in report["targets"].items():
        for stage, s in t["implementation"]["stages"].items():
            statuses = ", ".join(f"{k} {v}" for k, v in sorted(s["statuses"].items()))
            lines.append(
                f"| {name} | {stage} | {s['records']} | {statuses} | {s['total_s']} | "
                f"{s['mean_s']} | {s['max_s']} |"
            )
        lines += [
            f"- {name}: {c['id']} ({c['label']}): {'; '.join(c['contradicted'])}"
            for c in t["recheck"]["details"]
        ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "targets", nargs="*", type=Path, help="default: tests/fixtures/planted_repo"
    )
    parser.add_argument("--iterations", type=int, default=60, help="of the implementation worker")
    parser.add_argument(
        "--run-tests",
        action="store_true",
        help="AUTOCODER_RUN_TARGET_TESTS=1; re-run verified patches' tests",
    )
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="per autocoder command")
    parser.add_argument("--test-timeout-s", type=float, default=900.0, help="per pytest run")
    parser.add_argument("--out", type=Path, default=RESULTS / "implementation.json")
    args = parser.parse_args(argv)
    args.targets = args.targets or [PLANTED]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if why := worker_unready():
        print(f"the implementation worker cannot run in this autocoder: {why}", file=sys.stderr)
        return 2
    report: dict[str, Any] = {"updated": time.strftime("%FT%TZ", time.gmtime()), "targets": {}}
    for source in args.targets:
        if not source.is_dir():
            print(f"{source}: not a directory, skipped", file=sys.stderr)
            continue
        work = RESULTS / "implementation-work" / source.name
        report["targets"][source.name] = bench_target(source.resolve(), work, args)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")  # after each target
    print(markdown(report))
    print(f"\nwritten: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
