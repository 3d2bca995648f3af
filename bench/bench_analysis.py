"""Benchmark the analysis worker on a large real codebase (Django's sdist by default).

Measures, with ``AUTOCODER_NETWORK=0``:

* a cold pass: ``autocoder once analysis --iterations 6`` on a fresh data dir (all six
  perspectives, empty cache): wall time, each perspective's ``duration_s`` and peak memory;
* a warm pass: the same six iterations again on the same data dir (cache kept, tree unchanged);
* the raw tools: the same analysers with the same flags run directly on the command line over
  the same files, each timed, and the ratio worker-cold / raw per perspective;
* the record sizes: median and max bytes of the record lines in ``data/records``.

Memory: a thread polls ``/proc`` every 50 ms for the worker process and all its descendants.
"worker" is the ``autocoder`` Python process itself (VmHWM, the kernel's own high-water mark);
"largest child" is the biggest analyser subprocess (VmHWM of each child, sampled while it
lives); "tree" is the largest sum of RSS over the whole process tree at one instant.
The ``ru_maxrss`` that ``wait4`` returns for the worker is reported too: the kernel's figure for
the largest single process among the worker and every tool it waited for.

CPU seconds (user + system of the worker and the tools it waited for, per perspective, from
``/proc``) are reported beside wall seconds: on a shared machine they are the steadier measure.

Run: ``/work/venv/bin/python bench/bench_analysis.py`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PYTHON = sys.executable
AUTOCODER = str(Path(PYTHON).with_name("autocoder"))
PERSPECTIVES = [
    "code_quality", "architecture", "performance", "security", "dependencies", "test_coverage",
]  # fmt: skip
TARGETS = {
    "overhead_max": 1.25,  # worker cold / raw tools, per perspective
    "warm_over_cold_max": 0.05,
    "worker_rss_mb_max": 400.0,
    "median_record_kb_max": 10.0,
}
POLL_S = 0.05
START_LINE = re.compile(r"autocoder\.worker: iteration (\d+): ([A-Za-z ]+)$")
END_LINE = re.compile(r"autocoder\.worker: iteration (\d+): ([A-Za-z ]+?) (ok|error|skipped) in ")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and of its children it has waited for (the tools)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / TICK  # utime stime cutime cstime


# -- the target ---------------------------------------------------------------------------------
def fetch_django(dest: Path) -> Path:
    """Download Django's sdist with pip and extract it into ``dest`` (once)."""
    if (dest / "django" / "__init__.py").is_file():
        return dest
    with tempfile.TemporaryDirectory(prefix="bench-django-") as tmp:
        subprocess.run(
            [PYTHON, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "django",
             "-d", tmp, "--quiet"],
            check=True,
        )  # fmt: skip
        (sdist,) = Path(tmp).glob("*.tar.gz")
        extracted = Path(tmp, "x")
        with tarfile.open(sdist) as tar:
            tar.extractall(extracted, filter="data")
        (top,) = extracted.iterdir()
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.move(str(top), dest)
    return dest


# -- the library under test -----------------------------------------------------------------------
def snapshot_library(dest: Path) -> dict[str, Any]:
    """Copy the working tree's ``shared/autocoder`` to ``dest`` and put it first on the path.

    The library may be edited while the benchmark runs (it takes minutes); the cold pass, the
    warm pass and this script then all run one and the same code. Returns what was frozen.
    """
    source = HERE.parent / "shared" / "autocoder"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest / "autocoder", ignore=shutil.ignore_patterns("__pycache__"))
    digest = hashlib.sha256()
    for path in sorted((dest / "autocoder").rglob("*.py")):
        digest.update(path.relative_to(dest).as_posix().encode() + b"\0" + path.read_bytes())
    sys.path.insert(0, str(dest))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(dest), os.environ.get("PYTHONPATH")])
    )

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "snapshot": str(dest),
        "sha256_of_py_files": digest.hexdigest()[:16],
        "git_head": git("rev-parse", "HEAD"),
        "uncommitted_in_library": git("status", "--short", "--", "shared/autocoder").splitlines(),
    }


# -- memory: poll /proc ---------------------------------------------------------------------------
def _status_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line[:5]] = int(line.split()[1])
    except OSError:
        pass
    return out


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            parts = fh.read().split(b"\0")
    except OSError:
        return "?"
    words = [p.decode(errors="replace") for p in parts if p]
    if "-m" in words:  # python -m tool ...: name the tool
        return words[words.index("-m") + 1]
    return Path(words[0]).name if words else "?"


@dataclass
class MemoryMonitor:
    """Peak memory of a process and its descendants, attributed to the running perspective."""

    pid: int
    perspective: str = "start-up"
    worker_hwm_kb: int = 0
    tree_peak_kb: int = 0
    children: dict[int, dict[str, Any]] = field(default_factory=dict)
    worker_rss_by_perspective: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _own: str = ""

    def start(self) -> threading.Thread:
        self._own = _cmdline(self.pid)
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(POLL_S)

    def sample(self) -> None:
        with self._lock:
            self._sample()

    def _sample(self) -> None:
        me = _status_kb(self.pid)
        if not me:
            return
        self.worker_hwm_kb = max(self.worker_hwm_kb, me.get("VmHWM", 0))
        rss = me.get("VmRSS", 0)
        key = self.perspective
        self.worker_rss_by_perspective[key] = max(self.worker_rss_by_perspective.get(key, 0), rss)
        kids = _children_map()
        total, stack = rss, list(kids.get(self.pid, []))
        while stack:
            pid = stack.pop()
            stack.extend(kids.get(pid, []))
            status = _status_kb(pid)
            if not status or _cmdline(pid) == self._own:
                continue  # gone, or forked and not yet exec'd: it still shows the worker's memory
            total += status.get("VmRSS", 0)
            seen = self.children.setdefault(
                pid, {"tool": _cmdline(pid), "perspective": self.perspective, "hwm_kb": 0}
            )
            seen["hwm_kb"] = max(seen["hwm_kb"], status.get("VmHWM", 0))
        self.tree_peak_kb = max(self.tree_peak_kb, total)

    def summary(self) -> dict[str, Any]:
        tools: dict[str, dict[str, Any]] = {}
        for child in self.children.values():
            name = f"{child['tool']} ({child['perspective']})"
            entry = tools.setdefault(name, {"processes": 0, "peak_mb": 0.0})
            entry["processes"] += 1
            entry["peak_mb"] = max(entry["peak_mb"], round(child["hwm_kb"] / 1024, 1))
        largest = max(tools.items(), key=lambda kv: kv[1]["peak_mb"], default=("none", {}))
        return {
            "worker_process_peak_mb": round(self.worker_hwm_kb / 1024, 1),
            "worker_process_peak_rss_mb_by_perspective": {
                k: round(v / 1024, 1) for k, v in self.worker_rss_by_perspective.items()
            },
            "largest_child": largest[0],
            "largest_child_peak_mb": largest[1].get("peak_mb", 0.0),
            "children": dict(sorted(tools.items(), key=lambda kv: -kv[1]["peak_mb"])),
            "tree_peak_mb": round(self.tree_peak_kb / 1024, 1),
        }


# -- one pass of the worker -----------------------------------------------------------------------
def run_pass(target: Path, data_dir: Path, env: dict[str, str], log_path: Path) -> dict[str, Any]:
    """``autocoder once analysis --iterations 6``: wall time, memory, the records it wrote."""
    before = highest_iteration(data_dir)
    command = [AUTOCODER, "once", "analysis", "--target", str(target), "--data-dir",
               str(data_dir), "--iterations", "6"]  # fmt: skip
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        monitor = MemoryMonitor(proc.pid)
        thread = monitor.start()
        assert proc.stderr is not None
        cpu_at: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for line in proc.stderr:
            log.write(line)
            if match := START_LINE.search(line.rstrip()):
                monitor.sample()  # close the previous perspective's window
                monitor.perspective = match.group(2).strip()
                cpu_at[monitor.perspective] = cpu_seconds(proc.pid)
            elif (match := END_LINE.search(line)) and match.group(2) in cpu_at:
                cpu[match.group(2)] = round(cpu_seconds(proc.pid) - cpu_at[match.group(2)], 2)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    monitor.stop()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"autocoder exited with {proc.returncode}; see {log_path}")
    records = [r for r in read_records(data_dir) if r["iteration"] > before]
    rows = {r["perspective_id"]: record_row(r) for r in records}
    for r in records:
        rows[r["perspective_id"]]["cpu_s"] = cpu.get(r["perspective_name"])
    return {
        "wall_s": round(wall, 2),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "memory": {**monitor.summary(), "wait4_ru_maxrss_mb": round(usage.ru_maxrss / 1024, 1)},
        "perspectives": rows,
    }


def record_row(record: dict[str, Any]) -> dict[str, Any]:
    analysis = record.get("analysis") or {}
    return {
        "iteration": record["iteration"],
        "status": record["status"],
        "error": record["error"],
        "duration_s": record["duration_s"],
        "findings_total": analysis.get("findings_total"),
        "findings_by_severity": analysis.get("findings_by_severity"),
        "skipped": analysis.get("skipped"),
        "tools": analysis.get("tools"),
        "summary": analysis.get("summary"),
    }


def record_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "autocoder-analysis-results" / "data" / "records").rglob("*.jsonl"))


def read_records(data_dir: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in record_files(data_dir)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def highest_iteration(data_dir: Path) -> int:
    return max((r["iteration"] for r in read_records(data_dir)), default=0)


def record_sizes(data_dir: Path) -> dict[str, Any]:
    sizes = [
        len(line)
        for path in record_files(data_dir)
        for line in path.read_bytes().splitlines()
        if line.strip()
    ]
    by_perspective = {
        r["perspective_id"]: len(json.dumps(r, ensure_ascii=False).encode())
        for r in read_records(data_dir)
    }
    findings = sorted((data_dir / "autocoder-analysis-results" / "data" / "findings").rglob("*"))
    return {
        "records": len(sizes),
        "median_bytes": int(statistics.median(sizes)) if sizes else 0,
        "max_bytes": max(sizes, default=0),
        "bytes_by_perspective_latest": by_perspective,
        "findings_shard_bytes_total": sum(p.stat().st_size for p in findings if p.is_file()),
    }


# -- the raw tools --------------------------------------------------------------------------------
def timed(command: list[str], cwd: Path, ok: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
    """Run ``command`` once, output to a file (the worker parses it too); wall time and max RSS."""
    with tempfile.TemporaryFile() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.PIPE, check=False)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        size = out.tell()
    if done.returncode not in ok:
        tail = done.stderr.decode(errors="replace")[-400:]
        raise SystemExit(f"{command[:4]} exited {done.returncode}: {tail}")
    return {
        "command": " ".join(command[:12]) + (" ..." if len(command) > 12 else ""),
        "wall_s": round(wall, 2),
        "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
        "output_bytes": size,
    }


GRIMP_SNIPPET = """
import sys, grimp
sys.path.insert(0, sys.argv[1])
graph = grimp.build_graph(*sys.argv[2:], cache_dir=None)
print(len(graph.modules))
"""

AST_SNIPPET = """
import sys, ast, warnings
warnings.simplefilter("ignore")
n = 0
for path in sys.stdin.read().split("\\0"):
    if path:
        try:
            n += len(list(ast.walk(ast.parse(open(path, "rb").read()))))
        except (SyntaxError, ValueError, RecursionError):
            pass
print(n)
"""


def find_packages(python: list[str]) -> list[str]:
    """Top-level packages as the Architecture Review finds them (root or src/, with __init__)."""
    known, found = set(python), set()
    for f in python:
        parts = f.split("/")
        base = parts[:2] if parts[0] == "src" and len(parts) > 2 else parts[:1]
        if len(parts) > len(base) and "/".join([*base, "__init__.py"]) in known:
            found.add(base[-1])
    return sorted(p for p in found if p.isidentifier())


def scannable(path: Path) -> bool:
    """What the Security Audit hands detect-secrets: text files up to 2 MB (no NUL in 8 KiB)."""
    try:
        if path.stat().st_size > 2_000_000:
            return False
        with path.open("rb") as fh:
            return b"\0" not in fh.read(8192)
    except OSError:
        return False


def deptry_args(target: Path, python: list[str]) -> list[str]:
    """The Dependency Analysis' deptry options: its config, dev extras, first-party packages.

    The worker also passes ``--requirements-files`` written from the declarations it read; deptry
    ignores those when pyproject.toml has a [project] table, as Django's has.
    """
    try:
        data = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))
        args = ["--config", "pyproject.toml"]
    except (OSError, ValueError):
        data, args = {}, []
    extras = data.get("project", {}).get("optional-dependencies", {})
    dev = [g for g in extras if any(w in g.lower() for w in ("dev", "test", "lint", "doc"))]
    if dev:
        args += ["--optional-dependencies-dev-groups", ",".join(dev)]
    packages = {f.rpartition("/")[0] for f in python if f.endswith("/__init__.py")}
    tops = {p.rpartition("/")[2] for p in packages if p.rpartition("/")[0] not in packages}
    return args + [a for top in sorted(tops) for a in ("--known-first-party", top)]


def raw_tools(target: Path, workdir: Path) -> dict[str, dict[str, Any]]:
    """Each perspective's analysers with the worker's flags, straight on the command line."""
    from autocoder.engine.sources import SourceFiles
    from autocoder.workers.analysis.perspectives import code_quality

    src = SourceFiles.discover(target)  # the very files the worker sees
    py = src.python
    ruff = [PYTHON, "-m", "ruff", "check", "--isolated", "--no-cache", "--exit-zero",
            "--output-format", "json"]  # fmt: skip
    quality = ["--select", code_quality.QUALITY_SELECT, "--ignore", code_quality.QUALITY_IGNORE]
    secrets = [f"./{f}" for f in src.files if scannable(src.path(f))]
    workdir.mkdir(parents=True, exist_ok=True)
    ast_list = workdir / "python-files.txt"
    ast_list.write_text("\0".join(str(src.path(f)) for f in py), encoding="utf-8")
    ast_baseline = ["sh", "-c", f'{PYTHON} -c "$1" < "$2"', "sh", AST_SNIPPET, str(ast_list)]
    deptry_out = str(workdir / "deptry.json")
    commands: dict[str, dict[str, list[str]]] = {
        "code_quality": {
            "ruff": [*ruff, *quality, "--", *py],
            "radon cc": [PYTHON, "-m", "radon", "cc", "-j", *py],
            "radon mi": [PYTHON, "-m", "radon", "mi", "-j", *py],
        },
        "architecture": {
            "grimp build_graph": [PYTHON, "-c", GRIMP_SNIPPET, str(target), *find_packages(py)]
        },
        "performance": {
            "ruff ASYNC,PERF": [*ruff, "--select", "ASYNC,PERF", "--", *py],
            "ast.parse+walk (baseline for the AST scanner)": ast_baseline,
        },
        "security": {
            "bandit -r": [PYTHON, "-m", "bandit", "-r", "-f", "json", "-q", "."],
            "detect-secrets scan --all-files": [
                PYTHON, "-m", "detect_secrets", "scan", "--all-files", *secrets
            ],
        },
        "dependencies": {
            "deptry": [
                PYTHON, "-m", "deptry", ".", "--no-ansi", "--json-output", deptry_out,
                *deptry_args(target, py),
            ],
        },
        "test_coverage": {"ast.parse+walk (baseline; no external tool)": ast_baseline},
    }  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    for perspective, tools in commands.items():
        runs = {name: timed(cmd, target) for name, cmd in tools.items()}
        for name, run in runs.items():
            print(f"  raw {perspective:13} {name:45} {run['wall_s']:8.2f}s", flush=True)
        out[perspective] = {
            "tools": runs,
            "wall_s": round(sum(r["wall_s"] for r in runs.values()), 2),
            "cpu_s": round(sum(r["cpu_s"] for r in runs.values()), 2),
        }
    out["_load_average_after"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[assignment]
    out["_files"] = {"python": len(py), "all": len(src.files), "secret_scan": len(secrets)}  # type: ignore[assignment]
    return out


# -- the report -----------------------------------------------------------------------------------
def _ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def compare(cold: dict[str, Any], warm: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Per perspective: seconds (wall and CPU) cold, warm and raw, and the ratios."""
    rows: dict[str, Any] = {}
    for p in PERSPECTIVES:
        c, w, r = cold["perspectives"].get(p, {}), warm["perspectives"].get(p, {}), raw.get(p, {})
        rows[p] = {
            "cold_s": c.get("duration_s"), "warm_s": w.get("duration_s"), "raw_s": r.get("wall_s"),
            "cold_cpu_s": c.get("cpu_s"), "warm_cpu_s": w.get("cpu_s"), "raw_cpu_s": r.get("cpu_s"),
            "status": f"{c.get('status')}/{w.get('status')}",
            "findings": f"{c.get('findings_total')}/{w.get('findings_total')}",
        }  # fmt: skip
    keys = ["cold_s", "warm_s", "raw_s", "cold_cpu_s", "warm_cpu_s", "raw_cpu_s"]
    rows["total"] = {k: round(sum(v[k] or 0 for v in rows.values()), 2) for k in keys}
    rows["total"].update(status="", findings="")
    for v in rows.values():
        v["overhead"] = _ratio(v["cold_s"], v["raw_s"])
        v["overhead_cpu"] = _ratio(v["cold_cpu_s"], v["raw_cpu_s"])
        v["warm_over_cold"] = _ratio(v["warm_s"], v["cold_s"], 3)
    return rows


def verdicts(rows: dict[str, Any], cold: dict[str, Any], sizes: dict[str, Any]) -> dict[str, Any]:
    worst = max((v["overhead"] or 0 for k, v in rows.items() if k != "total"), default=0)
    worst_cpu = max((v["overhead_cpu"] or 0 for k, v in rows.items() if k != "total"), default=0)
    warm = rows["total"]["warm_over_cold"] or 0
    rss = cold["memory"]["worker_process_peak_mb"]
    median_kb = sizes["median_bytes"] / 1024
    return {
        "overhead_worst_perspective": {"value": worst, "target": TARGETS["overhead_max"],
                                       "met": worst <= TARGETS["overhead_max"]},
        "overhead_worst_perspective_cpu": {
            "value": worst_cpu, "target": TARGETS["overhead_max"],
            "met": worst_cpu <= TARGETS["overhead_max"]},
        "overhead_total": {"value": rows["total"]["overhead"], "target": TARGETS["overhead_max"],
                           "met": (rows["total"]["overhead"] or 0) <= TARGETS["overhead_max"]},
        "warm_over_cold": {"value": warm, "target": TARGETS["warm_over_cold_max"],
                           "met": warm <= TARGETS["warm_over_cold_max"]},
        "worker_rss_mb": {"value": rss, "target": TARGETS["worker_rss_mb_max"],
                          "met": rss < TARGETS["worker_rss_mb_max"]},
        "median_record_kb": {"value": round(median_kb, 2),
                             "target": TARGETS["median_record_kb_max"],
                             "met": median_kb < TARGETS["median_record_kb_max"]},
    }  # fmt: skip


def notes(cold: dict[str, Any], warm: dict[str, Any]) -> list[str]:
    """What looks wrong in the records: errors, skipped parts, cold/warm disagreements, timeouts."""
    timeout = float(os.environ.get("AUTOCODER_ITERATION_TIMEOUT_S") or 900.0)
    out: list[str] = []
    for p in PERSPECTIVES:
        c, w = cold["perspectives"].get(p), warm["perspectives"].get(p)
        if c is None or w is None:
            out.append(f"{p}: no record in the {'cold' if c is None else 'warm'} pass")
            continue
        for name, row in (("cold", c), ("warm", w)):
            if row["status"] != "ok":
                out.append(f"{p} ({name}): status {row['status']}: {row['error']}")
        for part, why in (c.get("skipped") or {}).items():
            out.append(f"{p}: {part} {why}")
        if c["findings_total"] != w["findings_total"]:
            out.append(
                f"{p}: {c['findings_total']} findings cold but {w['findings_total']} warm on the "
                "same tree (a cached result differs from a fresh one)"
            )
        if c["duration_s"] > 0.5 * timeout:
            out.append(
                f"{p}: the cold iteration took {c['duration_s']:.0f} s, "
                f"{c['duration_s'] / timeout:.0%} of the iteration timeout ({timeout:g} s)"
            )
    return out


def _num(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(report: dict[str, Any]) -> str:
    rows, mem, sizes = report["comparison"], report["cold"]["memory"], report["record_sizes"]
    lines = [
        f"Target: {report['target']} ({report['files']['python']} Python files, "
        f"{report['files']['all']} files); AUTOCODER_NETWORK=0; {os.cpu_count()} cores",
        "",
        "| perspective | cold s | warm s | raw s | cold/raw | warm/cold | cold CPU s "
        "| raw CPU s | cold/raw CPU | status c/w | findings c/w |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, v in rows.items():
        lines.append(
            f"| {name} | {_num(v['cold_s'])} | {_num(v['warm_s'])} | {_num(v['raw_s'])} | "
            f"{_num(v['overhead'])} | {_num(v['warm_over_cold'], 3)} | {_num(v['cold_cpu_s'])} | "
            f"{_num(v['raw_cpu_s'])} | {_num(v['overhead_cpu'])} | {v['status']} | "
            f"{v['findings']} |"
        )
    lines += [
        "",
        f"Wall time of `autocoder once`: cold {report['cold']['wall_s']} s, "
        f"warm {report['warm']['wall_s']} s (includes start-up and store writes). "
        f"Load average after raw/cold/warm: {report['raw'].get('_load_average_after')} / "
        f"{report['cold']['load_average_after']} / {report['warm']['load_average_after']}.",
        "",
        "Worker process peak RSS by perspective (cold, MB): "
        + ", ".join(
            f"{k} {v}" for k, v in mem["worker_process_peak_rss_mb_by_perspective"].items()
        ),
        "",
        "| memory (cold pass) | MB |",
        "|---|---:|",
        f"| worker process itself, peak (VmHWM) | {mem['worker_process_peak_mb']} |",
        f"| largest child tool: {mem['largest_child']} | {mem['largest_child_peak_mb']} |",
        f"| whole tree, peak sum of RSS | {mem['tree_peak_mb']} |",
        f"| wait4 ru_maxrss (largest single process) | {mem['wait4_ru_maxrss_mb']} |",
        f"| warm pass: worker process itself | "
        f"{report['warm']['memory']['worker_process_peak_mb']} |",
        "",
        f"Records: {sizes['records']}, median {sizes['median_bytes']} B, "
        f"max {sizes['max_bytes']} B.",
        "",
        "| target | value | limit | met |",
        "|---|---:|---:|---|",
    ]
    for name, v in report["verdicts"].items():
        lines.append(f"| {name} | {v['value']} | {v['target']} | {'yes' if v['met'] else 'NO'} |")
    if report["notes"]:
        lines += ["", "Notes from the records:", *(f"- {n}" for n in report["notes"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, help="default: Django's sdist in bench/results")
    parser.add_argument("--out", type=Path, default=RESULTS / "analysis.json")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "analysis-data")
    parser.add_argument("--skip-raw", action="store_true", help="only the worker's passes")
    parser.add_argument(
        "--live-library", action="store_true",
        help="run the working tree's library as it is instead of a frozen copy of it",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.out, args.data_dir = args.out.resolve(), args.data_dir.resolve()
    library = {"snapshot": None}
    if not args.live_library:
        library = snapshot_library(args.out.parent / "library-snapshot")
    target = (args.target or fetch_django(RESULTS / "django-src")).resolve()
    env = {**os.environ, "AUTOCODER_NETWORK": "0", "PYTHONUNBUFFERED": "1"}  # after the snapshot
    env.pop("AUTOCODER_CACHE_DIR", None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    raw: dict[str, Any] = {}
    if not args.skip_raw:  # first, so that the OS page cache is equally warm for everyone
        print("raw tools ...", flush=True)
        raw = raw_tools(target, args.out.parent / "raw-work")
    shutil.rmtree(args.data_dir, ignore_errors=True)
    print("cold pass ...", flush=True)
    cold = run_pass(target, args.data_dir, env, args.out.parent / "cold.log")
    print(f"  {cold['wall_s']} s", flush=True)
    print("warm pass ...", flush=True)
    warm = run_pass(target, args.data_dir, env, args.out.parent / "warm.log")
    print(f"  {warm['wall_s']} s", flush=True)
    from autocoder.engine.sources import SourceFiles

    src = SourceFiles.discover(target)
    sizes = record_sizes(args.data_dir)
    rows = compare(cold, warm, raw)
    report = {
        "target": str(target),
        "files": {"python": len(src.python), "all": len(src.files)},
        "environment": {
            "AUTOCODER_NETWORK": "0",
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "library": library,
        "targets": TARGETS,
        "cold": cold,
        "warm": warm,
        "raw": raw,
        "comparison": rows,
        "record_sizes": sizes,
        "verdicts": verdicts(rows, cold, sizes),
        "notes": notes(cold, warm),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = markdown(report)
    args.out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    print(table)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
