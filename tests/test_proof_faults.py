"""Proof under faults (issue 15): kill -9, a failing Hub, a full disk, SIGTERM, on real processes.

Each worker runs as a real process (the ``autocoder`` command forked from
:class:`faultkit.Zygote`, or ``python -m autocoder.cli`` itself for SIGTERM), on a tiny target,
against the Hub test server. Kill points come from ``random.Random(SEED + worker)``: a failure
names its seed and can be replayed. ``AUTOCODER_PROOF=full`` runs 20 kills per worker and minutes
of Hub outage; the short run (CI) 3 kills and a few failed pushes.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faultkit import (
    NOT_STORED,
    STARTED,
    WAIT_S,
    WRITTEN,
    Run,
    Zygote,
    fill,
    health,
    loads,
    lost_and_duplicated,
    pushed_as_local,
    records_of,
    wait_for_text,
)
from faultkit import reported_iterations as reported
from hubfaults import HubFaults
from hubserver import TEST_TOKEN, TEST_USER, HubServer
from proofkit import full_run, proof_row, scaled

SEED = 15
WORKERS = ("analysis", "test-planning", "implementation")
KILL_POINTS = ("iteration", "iteration", "commit-before", "commit-after")
PACKAGE = {
    "calc/__init__.py": '"""A tiny package to analyse."""\n',
    "calc/ops.py": "def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a / b\n",
    "calc/io.py": "import json\n\n\ndef load(path):\n    return json.load(open(path))\n",
    "tests/test_ops.py": "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}
# uvicorn shuts down gracefully on SIGTERM, then raises the signal again: -15 is a clean stop.
STOPPED_BY_SIGTERM = (0, -signal.SIGTERM)


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    with Zygote() as forking:
        yield forking


@pytest.fixture
def target(tmp_path: Path) -> Path:
    root = tmp_path / "target"
    for rel, text in PACKAGE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def faults(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubFaults:
    wrapper = HubFaults(hub)
    monkeypatch.setattr(hub, "handle", wrapper.handle)
    return wrapper


def worker_env(data: Path, target: Path, on_hub: bool = True) -> dict[str, str]:
    env = {"AUTOCODER_TARGET": str(target), "AUTOCODER_DATA_DIR": str(data),
           "AUTOCODER_NETWORK": "0", "AUTOCODER_PUSH_EVERY_S": "0.2",
           "AUTOCODER_INTERVAL_S": "0.05", "AUTOCODER_PORT": "0"}  # fmt: skip
    if on_hub:
        env |= {"HF_TOKEN": TEST_TOKEN, "HF_USERNAME": TEST_USER}
    return env


def dataset_of(worker: str) -> str:
    return f"autocoder-{worker}-results"


def kill_once(run: Run, point: str, rng: random.Random, faults: HubFaults) -> None:
    """SIGKILL ``run`` at ``point``: a random moment of an iteration, or its next commit."""
    if point == "iteration":
        run.wait_for(STARTED, count=rng.randint(1, 4))
        time.sleep(rng.uniform(0.0, 0.4))
        run.kill()
    else:
        faults.arm_kill(run.kill, before=point == "commit-before")
        assert faults.killed.wait(WAIT_S), f"no commit within {WAIT_S}s:\n{run.output()}"
    assert run.wait() == -signal.SIGKILL, run.output()


@pytest.mark.parametrize("worker", WORKERS)
def test_kill_9_during_iterations_and_pushes_loses_and_duplicates_nothing(
    worker: str, zygote: Zygote, target: Path, tmp_path: Path, hub: HubServer,
    faults: HubFaults, record_property: Any,
) -> None:  # fmt: skip
    kills, seed = scaled(short=3, full=20), SEED + WORKERS.index(worker)
    rng, env, log = random.Random(seed), worker_env(tmp_path / "data", target), tmp_path / "log"
    points = Counter[str]()
    logs = []
    for _ in range(kills):
        point = rng.choice(KILL_POINTS)
        run = zygote.start(["once", worker, "--iterations", "100000"], env, log, tmp_path)
        kill_once(run, point, rng, faults)
        points[point] += 1
        logs.append(run.output())
    final = zygote.start(["once", worker, "--iterations", "2"], env, log, tmp_path)
    assert final.wait() == 0, final.output()
    root, repo = tmp_path / "data" / dataset_of(worker), f"{TEST_USER}/{dataset_of(worker)}"
    records = records_of(root)
    lost, duplicated = lost_and_duplicated(records, reported([*logs, final.output()]))
    differ = pushed_as_local(hub, repo, root)
    local_rows, hub_rows = loads(str(root), root), loads(repo, root)
    proof_row(
        record_property, "faults", f"kill -9 x{kills}, {worker} (seed {seed})",
        f"{len(lost)} lost, {len(duplicated)} duplicated, every shard parses, "
        f"load_dataset local {local_rows['default']} and Hub {hub_rows['default']} rows",
        f"{len(records)} iterations; kills at {dict(points)}; {len(differ)} files differ on Hub",
    )  # fmt: skip
    assert (lost, duplicated, differ) == ([], [], [])
    assert TEST_TOKEN not in "".join(logs) + final.output()  # not even in the crash output
    assert local_rows == hub_rows and local_rows["default"] == len(records)


def test_a_failing_hub_loses_nothing_honours_retry_after_and_gets_every_record_afterwards(
    zygote: Zygote, target: Path, tmp_path: Path, hub: HubServer, faults: HubFaults,
    record_property: Any,
) -> None:  # fmt: skip
    if full_run():  # minutes of 500, 429, dropped connections and gateway timeouts, in turn
        faults.cycle, faults.cycle_until = ("500", "429", "drop", "504"), time.monotonic() + 180.0
    else:
        faults.plan.extend(["500", "429", "drop"])
    env, log = worker_env(tmp_path / "data", target), tmp_path / "log"
    run = zygote.start(["serve", "analysis"], env, log, tmp_path)
    give_up_at = time.monotonic() + WAIT_S + 180.0
    while faults.plan or time.monotonic() < faults.cycle_until or not faults.pushed_after_faults():
        assert time.monotonic() < give_up_at and run.status is None, run.output()
        time.sleep(0.1)
    run.signal(signal.SIGTERM)
    assert run.wait() in STOPPED_BY_SIGTERM and "stopped after iteration" in run.output()
    root, repo = tmp_path / "data" / dataset_of("analysis"), f"{TEST_USER}/{dataset_of('analysis')}"
    records = records_of(root)
    lost, duplicated = lost_and_duplicated(records, reported([run.output()]))
    differ = pushed_as_local(hub, repo, root)
    waits = faults.waits()
    short = [(f, w, ra) for f, w, ra in waits if ra is not None and w < ra]
    kinds = Counter(f for f, _w, _ra in waits)
    after_429 = [w for f, w, _ra in waits if f == "429"]
    asked = f"{min(after_429):.1f}-{max(after_429):.1f}s" if after_429 else "none"
    proof_row(
        record_property, "faults", f"Hub failing {sum(kinds.values())} pushes ({dict(kinds)})",
        f"{len(lost)} lost, {len(differ)} files missing on the Hub afterwards, "
        f"{len(short)} Retry-After cut short",
        f"{len(records)} iterations; next push {asked} after a 429 asking "
        f"{faults.retry_after_s:g}s; "
        f"longest wait {max((w for _f, w, _ra in waits), default=0):.1f}s",
    )  # fmt: skip
    assert after_429 and (lost, duplicated, differ, short) == ([], [], [], [])
    assert all(ra == faults.retry_after_s for f, _w, ra in waits if f == "429")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs at ``tmp_path/disk``; skipped, with why, where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        pytest.skip(f"`{' '.join(command)}` cannot run: {e}")
    if done.returncode != 0:
        why = done.stderr.strip() or f"exit status {done.returncode}"
        pytest.skip(f"`{' '.join(command)}` failed (needs root or CAP_SYS_ADMIN): {why}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_reported_loses_nothing_written_and_recovers_when_space_returns(
    zygote: Zygote, target: Path, small_disk: Path, tmp_path: Path, record_property: Any
) -> None:
    env, log = worker_env(small_disk / "data", target, on_hub=False), tmp_path / "log"
    run = zygote.start(["serve", "analysis"], env, log, tmp_path)
    run.wait_for(WRITTEN, count=2)
    root = small_disk / "data" / dataset_of("analysis")
    before = {p: p.read_bytes() for p in (root / "data").rglob("*.jsonl")}
    filler = fill(small_disk)
    run.wait_for(NOT_STORED)
    full = health(run.output())
    written = len(WRITTEN.findall(run.output()))
    filler.unlink()
    run.wait_for(WRITTEN, count=written + 2)
    wait_for_text(lambda: json.dumps(health(run.output())), re.compile('"status": "ok"'))
    run.signal(signal.SIGTERM)
    assert run.wait() in STOPPED_BY_SIGTERM, run.output()
    records = records_of(root)
    lost, duplicated = lost_and_duplicated(records, reported([run.output()]))
    changed = [p for p, data in before.items() if not p.is_file() or p.read_bytes() != data]
    failed = NOT_STORED.findall(run.output())
    proof_row(
        record_property, "faults", "data disk full (4 MiB tmpfs), then space freed",
        f"/health {full['status']}; {len(lost)} lost, {len(changed)} written shards changed; "
        "recovered",
        f"{len(failed)} writes refused ({failed[0][1][:60]}...); {len(records)} iterations kept",
    )  # fmt: skip
    assert full["status"] == "degraded" and "No space left" in full["reason"], full
    assert "free some disk space" in full["reason"], full  # the fix, named
    assert (lost, duplicated, changed) == ([], [], [])


def test_sigterm_mid_iteration_of_the_real_process_stores_a_clean_record_and_pushes_it(
    tmp_path: Path, hub: HubServer, record_property: Any
) -> None:
    target = tmp_path / "target"  # big enough that the first iteration takes a while
    for i in range(120):
        module = target / "pkg" / f"m{i}.py"
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(f"import os\n\n\ndef f{i}(a):\n    return eval(a) or os.sep\n")
    (target / "pkg" / "__init__.py").write_text("")
    env = {**os.environ, **worker_env(tmp_path / "data", target), "AUTOCODER_PUSH_EVERY_S": "3600"}
    log = tmp_path / "log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "autocoder.cli", "serve", "analysis"],
            stdout=out, stderr=out, env=env, cwd=tmp_path,
        )  # fmt: skip
    try:
        wait_for_text(log.read_text, STARTED)
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=WAIT_S)
    finally:
        process.kill()
        process.wait()
    output = log.read_text()
    root, repo = tmp_path / "data" / dataset_of("analysis"), f"{TEST_USER}/{dataset_of('analysis')}"
    records = records_of(root)
    last = records[max(records)][0] if records else {}
    summary = next((line for line in output.splitlines() if "stopped after iteration" in line), "")
    differ = pushed_as_local(hub, repo, root)
    proof_row(
        record_property, "faults", "SIGTERM mid-iteration (python -m autocoder.cli serve)",
        f"exit {status}; last record {last.get('status')}, error {last.get('error')}; "
        f"{len(differ)} files missing on the Hub",
        summary.split(": ", 1)[-1],
    )  # fmt: skip
    assert status in STOPPED_BY_SIGTERM, output
    assert (last["iteration"], last["status"], last["error"]) == (1, "ok", None), output
    assert "1 iteration finished during shutdown, 0 cancelled, pushed" in summary, output
    assert differ == []


def test_sigterm_stops_autocoder_once_as_ctrl_c_does_with_its_final_push(
    zygote: Zygote, target: Path, tmp_path: Path, hub: HubServer
) -> None:
    env = worker_env(tmp_path / "data", target) | {"AUTOCODER_PUSH_EVERY_S": "3600"}
    run = zygote.start(
        ["once", "analysis", "--iterations", "100000"], env, tmp_path / "log", tmp_path
    )
    run.wait_for(WRITTEN, count=2)
    run.signal(signal.SIGTERM)
    run.wait()
    root, repo = tmp_path / "data" / dataset_of("analysis"), f"{TEST_USER}/{dataset_of('analysis')}"
    assert "stopped after iteration" in run.output()
    assert pushed_as_local(hub, repo, root) == []
