"""What bench_implementation.py runs and reads: autocoder under a wrapper that measures the peak
RSS of its children, the datasets' rows, git, and the re-check of every verified or checked
label on a fresh clone at the patch's base commit (see the bench's docstring)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

ANALYSIS, IMPLEMENTATION = "autocoder-analysis-results", "autocoder-implementation-results"
SEVERE = ("critical", "high")
# Runs the command in argv[2:], then writes its exit code and the children's peak RSS to argv[1].
WRAPPER = (
    "import json, resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[2:], check=False).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(json.dumps({'rc': rc, 'maxrss_kb': peak}))\n"
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without AUTOCODER_ variables, network off, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCODER_")}
    return {**env, "AUTOCODER_NETWORK": "0", **extra}


def autocoder(args: list[str], *, cwd: Path, timeout_s: float, **env: str) -> dict[str, Any]:
    """``python -m autocoder.cli ARGS`` under the RSS wrapper; its log goes to ``cwd``."""
    usage = cwd / f"usage-{args[1] if len(args) > 1 else args[0]}.json"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(usage), sys.executable, "-m", "autocoder.cli", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    (cwd / f"{'-'.join(args[:2])}.log").write_text(done.stderr)
    measured = json.loads(usage.read_text()) if usage.exists() else {"rc": done.returncode}
    if measured["rc"] != 0:
        print(f"  exit {measured['rc']}: {' '.join(args)}\n{done.stderr[-2000:]}", file=sys.stderr)
    return {
        "rc": measured["rc"],
        "wall_s": round(time.monotonic() - started, 1),
        "peak_rss_mb": round(measured.get("maxrss_kb", 0) / 1024, 1),
    }


def rows(dataset: Path, folder: str, key: str) -> list[dict[str, Any]]:
    """The rows of one config, the newest of each ``key`` kept, in the order first written."""
    newest: dict[str, dict[str, Any]] = {}
    for shard in sorted((dataset / folder).glob("*/*.jsonl")):
        for line in shard.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                newest[str(row.get(key, len(newest)))] = row
    return list(newest.values())


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )


def prepared_target(source: Path, work: Path) -> Path:
    """``work/target``: a clone of a git checkout, else a copy committed once."""
    target = work / "target"
    if (source / ".git").exists():
        subprocess.run(["git", "clone", "-q", str(source), str(target)], check=True)
        return target
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "bench target"]):
        if git(target, *args).returncode != 0:
            raise SystemExit(f"git {' '.join(args)} failed in {target}")
    return target


def patched_clone(target: Path, patch: dict[str, Any], dest: Path) -> str:
    """A fresh clone of ``target`` at the patch's base with the patch applied; "" or why not."""
    subprocess.run(["git", "clone", "-q", str(target), str(dest)], check=True)
    if patch.get("base_commit") and git(dest, "checkout", "-q", patch["base_commit"]).returncode:
        return f"base commit {patch['base_commit']} is not in {target}"
    diff = dest.parent / f"{patch['id']}.diff"
    diff.write_text(patch["diff"], encoding="utf-8")
    applied = git(dest, "apply", str(diff))
    return (applied.stderr.strip() or "git apply failed") if applied.returncode else ""


def unparsable(root: Path, files: list[str]) -> list[str]:
    """The changed Python and TOML files that do not parse (compiled, never run)."""
    bad = []
    for name in files:
        path = root / name
        if not path.is_file():
            continue
        try:
            if path.suffix == ".py":
                compile(path.read_bytes(), name, "exec")
            elif path.suffix == ".toml":
                tomllib.loads(path.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError) as e:
            bad.append(f"{name}: {e}")
    return bad


def pytest_passes(root: Path, timeout_s: float) -> bool:
    """The target's tests in a subprocess (runs the target's code: only with --run-tests)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
            cwd=root,
            env=clean_env(),
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def recheck(
    patch: dict[str, Any],
    target: Path,
    work: Path,
    baseline: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Re-run what a verified or checked label claims; ``contradicted`` lists what failed."""
    folder = work / "recheck" / patch["id"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    clone = folder / "clone"
    why: list[str] = []
    if reason := patched_clone(target, patch, clone):
        return {"id": patch["id"], "label": patch["status"], "contradicted": [f"apply: {reason}"]}
    why += [f"parse: {bad}" for bad in unparsable(clone, patch["files"])]
    rerun = autocoder(
        [
            "once",
            "analysis",
            "--iterations",
            "6",
            "--target",
            str(clone),
            "--data-dir",
            str(folder / "data"),
        ],
        cwd=folder,
        timeout_s=args.timeout_s,
    )
    if rerun["rc"] != 0:
        why.append(f"the analysis re-run failed (exit {rerun['rc']}): see {folder}")
    found = rows(folder / "data" / ANALYSIS, "data/findings", "fingerprint")
    prints = {f["fingerprint"] for f in found}
    why += [f"finding still there: {fp}" for fp in patch["fingerprints"] if fp in prints]
    why += [
        f"new {f['severity']} finding: {f['tool']}/{f['rule']} {f['file']}:{f['line']}"
        for f in found
        if f["severity"] in SEVERE and f["fingerprint"] not in baseline["fingerprints"]
    ]
    tests = args.run_tests and patch["status"] == "verified" and baseline["tests_pass"]
    if tests and not pytest_passes(clone, args.test_timeout_s):
        why.append("the target's tests fail on the patched clone")
    return {"id": patch["id"], "label": patch["status"], "contradicted": why}


def recheck_labels(
    target: Path, data: Path, work: Path, args: argparse.Namespace
) -> dict[str, Any]:
    patches = rows(data / IMPLEMENTATION, "data/patches", "id")
    findings = rows(data / ANALYSIS, "data/findings", "fingerprint")
    baseline = {
        "fingerprints": {f["fingerprint"] for f in findings},
        "tests_pass": args.run_tests and pytest_passes(target, args.test_timeout_s),
    }
    checked = [
        recheck(p, target, work, baseline, args)
        for p in patches
        if p["status"] in ("verified", "checked")
    ]
    contradicted = [c for c in checked if c["contradicted"]]
    return {
        "rechecked": len(checked),
        "contradicted": len(contradicted),
        "not_rechecked": len(patches) - len(checked),
        "tests_rerun": bool(baseline["tests_pass"]),
        "details": contradicted,
    }
