"""Benchmark the test planning worker on a large real codebase (Django, as the analysis benchmark).

Issue 3: a full 15-perspective round on the same codebase: time per perspective, specs produced,
the share of generated tests that pytest collects (target: 100%) and the share that pass on the
unmodified code when run.

Steps, all with ``AUTOCODER_NETWORK=0``:

1. copy the Django tree (``bench/results/django-src``, never written to) into a temp folder;
   install Django's runtime deps (asgiref, sqlparse) with ``pip --target`` there;
2. planning round: ``autocoder once test-planning --iterations 15`` on a fresh data dir with
   ``AUTOCODER_RUN_TARGET_TESTS`` unset: wall time, each record's ``duration_s``, specs per
   perspective (the rows of ``data/specs``);
3. collection: ``verify.collect_generated_tests`` per perspective, in two environments: ``bare``
   (deps only) and ``settings`` (``DJANGO_SETTINGS_MODULE`` set to a tiny settings module: the
   runner's conftest then calls ``django.setup()``). A spec counts as collected when at least
   one test item of its file is, and as blocked when its test skips itself because the
   environment cannot import its subject;
4. running: ``verify.run_generated_tests`` per perspective (executes Django code in a temp
   folder, 30 s per test), on at most ``--sample`` specs per perspective (a seeded sample) and
   within ``--run-budget-s`` overall.

Writes ``bench/results/test_planning.json`` and prints a markdown table.
Run: ``/work/venv/bin/python bench/bench_test_planning.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PYTHON = sys.executable
AUTOCODER = str(Path(PYTHON).with_name("autocoder"))
ENVS = ("bare", "settings")
RUN_STATUSES = ("passed", "failed", "error", "blocked", "not_run")
SETTINGS = """SECRET_KEY = "bench"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
"""
ITEM = re.compile(r"^test_([0-9a-f]+)\.py::")


def load_avg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


# -- preparation --------------------------------------------------------------------------------
def prepare(work: Path, src: Path) -> dict[str, Path]:
    target = work / "src"
    if not (target / "django" / "__init__.py").is_file():
        shutil.copytree(src, target, symlinks=True)
    deps = work / "deps"
    if not (deps / "asgiref").is_dir() or not (deps / "sqlparse").is_dir():
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "--target", str(deps),
                        "asgiref", "sqlparse"], check=True)  # fmt: skip
    extra = work / "extra"
    extra.mkdir(exist_ok=True)
    (extra / "bench_settings.py").write_text(SETTINGS, encoding="utf-8")
    return {"target": target, "deps": deps, "extra": extra}


def env_for(kind: str, paths: dict[str, Path]) -> dict[str, str]:
    """The environment variables a generated-test run gets for one of ``ENVS``."""
    env = {"PYTHONPATH": os.pathsep.join([str(paths["deps"]), str(paths["extra"])])}
    if kind == "settings":  # the runner's conftest then calls django.setup()
        env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    return env


class patched_env:
    """Set environment variables for the block (the verify helpers read ``os.environ``)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for key in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "PYTEST_PLUGINS", "PYTEST_ADDOPTS"):
            self.saved[key] = os.environ.pop(key, None)
        os.environ.update(self.values)

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


# -- planning round -----------------------------------------------------------------------------
def planning_round(target: Path, data: Path, iterations: int, log: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "AUTOCODER_RUN_TARGET_TESTS"}
    env.update(AUTOCODER_NETWORK="0", AUTOCODER_TOOL_TIMEOUT_S="1800",
               AUTOCODER_ITERATION_TIMEOUT_S="3600")  # fmt: skip
    load_before = load_avg()
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as fh:
        done = subprocess.run(
            [AUTOCODER, "once", "test-planning", "--target", str(target), "--data-dir", str(data),
             "--iterations", str(iterations)],
            env=env, stdout=subprocess.DEVNULL, stderr=fh, check=False,
        )  # fmt: skip
    return {"wall_s": round(time.perf_counter() - start, 1), "returncode": done.returncode,
            "load_avg_before": load_before, "load_avg_after": load_avg()}  # fmt: skip


def dataset(data: Path) -> Path:
    found = sorted(data.glob("*/data/records"))
    if not found:
        raise SystemExit(f"no records under {data}")
    return found[0].parent


def read_jsonl(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(folder.glob("*/*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows


# -- collection and running ---------------------------------------------------------------------
def collect(root: Path, specs: list[Any], timeout_s: float) -> dict[str, Any]:
    from autocoder.errors import ToolError
    from autocoder.workers.test_planning.verify import collect_generated_tests

    start = time.perf_counter()
    try:
        collection = collect_generated_tests(root, specs, timeout_s)
    except ToolError as exc:
        return {"failure": str(exc), "seconds": round(time.perf_counter() - start, 1)}
    seconds = round(time.perf_counter() - start, 1)
    items, output = collection.items, collection.output
    blocked, errors = collection.blocked, collection.errors
    per_spec = Counter(m.group(1) for m in map(ITEM.match, output.splitlines()) if m)
    kinds = Counter(msg.split(":", 1)[0] for msg in errors.values())
    examples: dict[str, list[dict[str, str]]] = {}
    by_id = {s.id: s for s in specs}
    for spec_id, msg in errors.items():
        kind = msg.split(":", 1)[0]
        if len(examples.setdefault(kind, [])) < 3:
            examples[kind].append({"spec": spec_id, "subject": by_id[spec_id].subject
                                   if spec_id in by_id else "?", "error": msg[:300]})  # fmt: skip
    collected = sum(1 for s in specs if per_spec.get(s.id))
    reasons = Counter(re.sub(r"^.*?: (\w+)\(.*$", r"\1", r) for r in blocked.values())
    return {
        "specs": len(specs),
        "items": items,
        "specs_collected": collected,
        "collected_pct": round(100 * collected / len(specs), 1) if specs else None,
        "specs_blocked": len(blocked),
        "blocked_by": dict(reasons.most_common()),
        "blocked_examples": dict(Counter(r[:140] for r in blocked.values()).most_common(8)),
        "collection_errors": len(errors),
        "error_kinds": dict(kinds.most_common()),
        "top_errors": dict(Counter(msg[:110] for msg in errors.values()).most_common(12)),
        "examples": examples,
        "tail": "" if errors or collected == len(specs) else output[-1500:],
        "seconds": seconds,
    }


def run(root: Path, specs: list[Any], timeout_s: float) -> dict[str, Any]:
    from autocoder.errors import ToolError
    from autocoder.workers.test_planning.verify import run_generated_tests

    start = time.perf_counter()
    try:
        done = run_generated_tests(root, specs, timeout_s)
    except ToolError as exc:
        return {"failure": str(exc), "seconds": round(time.perf_counter() - start, 1)}
    counts = Counter(s.status for s in done)
    why = Counter(s.status_detail.split(":")[0][:60] for s in done if s.status == "failed")
    return {"ran": len(specs), "seconds": round(time.perf_counter() - start, 1),
            **{k: counts.get(k, 0) for k in RUN_STATUSES},
            "failed_because": dict(why.most_common(10))}  # fmt: skip


# -- report -------------------------------------------------------------------------------------
def table(result: dict[str, Any]) -> str:
    envs = [e for e in ENVS if any(e in p.get("collect", {}) for p in result["perspectives"])]
    runs = [e for e in ENVS if any(e in p.get("run", {}) for p in result["perspectives"])]
    head = ["#", "perspective", "status", "planning s (cold)", "specs"]
    head += [f"collected + blocked of specs ({e})" for e in envs]
    head += [f"{'/'.join(RUN_STATUSES)} ({e}, ran)" for e in runs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in result["perspectives"]:
        row = [str(p["iteration"]), p["perspective"], p["status"], f"{p['duration_s']:.1f}",
               str(p["specs"])]  # fmt: skip
        for e in envs:
            c = p.get("collect", {}).get(e)
            row.append("-" if c is None else c.get("failure", "")[:40] or
                       f"{c['specs_collected']} + {c.get('specs_blocked', 0)} of {c['specs']} "
                       f"({c['collected_pct']}% collected)")  # fmt: skip
        for e in runs:
            r = p.get("run", {}).get(e)
            row.append(
                "-"
                if r is None
                else r.get("failure", "")[:40]
                or "/".join(str(r.get(k, 0)) for k in RUN_STATUSES) + f" ({r['ran']})"
            )
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> int:  # noqa: C901 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--django-src", type=Path, default=RESULTS / "django-src")
    parser.add_argument("--work", type=Path, help="temp folder (default: a new one)")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="skip the planning round when <work>/data already has records",
    )
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument(
        "--merge", action="store_true", help="keep collect/run figures already in --out"
    )
    parser.add_argument("--collect-envs", default="bare,settings")
    parser.add_argument("--run-envs", default="settings")
    parser.add_argument("--sample", type=int, default=150, help="max specs run per perspective")
    parser.add_argument(
        "--run-budget-s",
        type=float,
        default=900.0,
        help="stop starting runs once this much time went into running",
    )
    parser.add_argument("--collect-timeout-s", type=float, default=600.0)
    parser.add_argument("--run-timeout-s", type=float, default=600.0, help="per perspective")
    parser.add_argument("--out", type=Path, default=RESULTS / "test_planning.json")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-test-planning-"))
    work.mkdir(parents=True, exist_ok=True)
    paths = prepare(work, args.django_src)
    root = paths["target"]
    data = work / "data"
    result: dict[str, Any] = {
        "target": str(args.django_src),
        "work": str(work),
        "python_files": sum(1 for _ in root.rglob("*.py")),
        "cpus": os.cpu_count(),
        "sample_per_perspective": args.sample,
    }
    if args.reuse_data and list(data.glob("*/data/records/*/*.jsonl")):
        saved = work / "planning.json"  # written by an earlier planning round in this folder
        result["planning"] = {"reused": True, **(json.loads(saved.read_text()) if saved.is_file()
                                                 else {})}  # fmt: skip
    else:
        shutil.rmtree(data, ignore_errors=True)
        result["planning"] = planning_round(root, data, args.iterations, work / "planning.log")
        (work / "planning.json").write_text(json.dumps(result["planning"]), encoding="utf-8")
    print(f"planning: {result['planning']}", flush=True)

    from autocoder.schema import TestSpec

    ds = dataset(data)
    records = sorted(read_jsonl(ds / "records"), key=lambda r: r["iteration"])
    by_iteration: dict[int, list[Any]] = {}
    fields = set(TestSpec.model_fields)
    for row in read_jsonl(ds / "specs"):
        spec = TestSpec(**{k: v for k, v in row.items() if k in fields})
        by_iteration.setdefault(row["iteration"], []).append(spec)
    result["perspectives"] = [
        {"iteration": r["iteration"], "perspective": r["perspective_name"],
         "perspective_id": r["perspective_id"], "status": r["status"], "error": r.get("error"),
         "duration_s": r["duration_s"], "specs": len(by_iteration.get(r["iteration"], []))}
        for r in records
    ]  # fmt: skip
    if args.merge and args.out.is_file():  # keep the figures of an earlier run of this script
        earlier = json.loads(args.out.read_text(encoding="utf-8"))
        old = {p["iteration"]: p for p in earlier.get("perspectives", [])}
        for p in result["perspectives"]:
            for part in ("collect", "run"):
                if part in old.get(p["iteration"], {}):
                    p[part] = old[p["iteration"]][part]
        for key in ("collect_wall_s", "collect_load_avg", "run_load_avg", "run_wall_s"):
            if key in earlier:
                result[key] = earlier[key]

    def save() -> None:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    collect_envs = [e for e in args.collect_envs.split(",") if e]
    for env_name in collect_envs:
        start, load_before = time.perf_counter(), load_avg()
        with patched_env(env_for(env_name, paths)):
            for p in result["perspectives"]:
                specs = by_iteration.get(p["iteration"], [])
                if specs:
                    p.setdefault("collect", {})[env_name] = collect(
                        root, specs, args.collect_timeout_s
                    )
                    c = p["collect"][env_name]
                    print(f"collect {env_name} {p['perspective']}: "
                          f"{c.get('collected_pct', c.get('failure'))} in {c['seconds']}s",
                          flush=True)  # fmt: skip
        result.setdefault("collect_wall_s", {})[env_name] = round(time.perf_counter() - start, 1)
        result.setdefault("collect_load_avg", {})[env_name] = [load_before, load_avg()]
        save()

    spent = 0.0
    rng = random.Random(0)
    for env_name in [e for e in args.run_envs.split(",") if e]:
        load_before = load_avg()
        with patched_env(env_for(env_name, paths)):
            for p in result["perspectives"]:
                specs = sorted(by_iteration.get(p["iteration"], []), key=lambda s: s.id)
                if not specs:
                    continue
                if spent >= args.run_budget_s:  # keep a figure merged from an earlier run
                    p.setdefault("run", {}).setdefault(
                        env_name, {"failure": "skipped: run budget spent"}
                    )
                    continue
                sample = rng.sample(specs, args.sample) if len(specs) > args.sample else specs
                r = run(root, sample, args.run_timeout_s)
                spent += r["seconds"]
                p.setdefault("run", {})[env_name] = r
                print(f"run {env_name} {p['perspective']}: {r}", flush=True)
                save()
        result.setdefault("run_load_avg", {})[env_name] = [load_before, load_avg()]
    result["run_wall_s"] = round(result.get("run_wall_s", 0.0) + spent, 1)

    ok = [p for p in result["perspectives"] if p["status"] == "ok"]
    result["totals"] = {
        "perspectives_ok": len(ok), "perspectives": len(result["perspectives"]),
        "planning_s_sum": round(sum(p["duration_s"] for p in result["perspectives"]), 1),
        "specs": sum(p["specs"] for p in result["perspectives"]),
    }  # fmt: skip
    all_collect_envs = [
        e for e in ENVS if any(e in p.get("collect", {}) for p in result["perspectives"])
    ]
    for env_name in all_collect_envs:
        cs = [
            p["collect"][env_name]
            for p in result["perspectives"]
            if env_name in p.get("collect", {}) and "failure" not in p["collect"][env_name]
        ]
        n, got = sum(c["specs"] for c in cs), sum(c["specs_collected"] for c in cs)
        blocked = sum(c.get("specs_blocked", 0) for c in cs)
        result["totals"][f"collected_pct_{env_name}"] = round(100 * got / n, 1) if n else None
        result["totals"][f"blocked_pct_{env_name}"] = round(100 * blocked / n, 1) if n else None
        result["totals"][f"collection_errors_{env_name}"] = sum(c["collection_errors"] for c in cs)
    for env_name in ENVS:
        rs = [
            p["run"][env_name]
            for p in result["perspectives"]
            if "ran" in p.get("run", {}).get(env_name, {})
        ]
        if rs:
            keys = ("ran", *RUN_STATUSES)
            result["totals"][f"run_{env_name}"] = {k: sum(r.get(k, 0) for r in rs) for k in keys}
    result["table"] = table(result)
    save()
    print(result["table"])
    print(json.dumps(result["totals"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
