"""Real worker processes to kill, and what their data folders hold afterwards (test_proof_faults).

Starting ``python -m autocoder.cli`` costs seconds of imports (openai, gradio, datasets): twenty
kills per worker would spend most of a run importing. :class:`Zygote` pays that once: it is a
Python process that imports the autocoder command, then forks one child per run, and each child
calls the real ``autocoder.cli.main(argv)`` with its own environment, output file and process
group. A child is an ordinary OS process: ``kill -9`` hits it as it would hit a Space.

    with Zygote() as zygote:
        run = zygote.start(["once", "analysis", "--iterations", "1000"], env, log)
        run.wait_for(STARTED)              # bounded: fails the test rather than hanging
        run.kill()                         # SIGKILL to its process group (analysers too)
        assert run.wait() == -9

:func:`records_of` and :func:`reported_iterations` give the two sides of "0 lost, 0 duplicated":
what the folder holds, and what the worker said it had written (its log line after each write).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import yaml

from autocoder.store.integrity import bad_shards, parse_shard
from autocoder.store.layout import iteration_of

from hubserver import TEST_TOKEN, HubServer

# The log line Worker.run_iteration writes once store.append returned: iteration N is on disk.
WRITTEN = re.compile(r"autocoder\.worker: iteration (\d+): (.+?) (ok|skipped|error) in [\d.]+s")
# The line it writes as an iteration begins (the same words without "STATUS in Xs").
STARTED = re.compile(
    r"autocoder\.worker: iteration (\d+): (?![^\n]* (?:ok|skipped|error) in [\d.]+s)[^\n]*$", re.M
)
NOT_STORED = re.compile(r"iteration (\d+) was not stored: ([^\n]+)")  # a write that failed
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")  # what ``serve`` prints for its app
WAIT_S = 120.0  # a bound on every wait: a hung child fails the test, it never hangs the suite

_ZYGOTE = r"""
import json, os, sys
import autocoder.apps.launch, autocoder.apps.worker_app  # gradio, uvicorn: paid once here
from autocoder.cli import main
from autocoder.workers.catalog import worker_names, worker_spec
for name in worker_names():
    worker_spec(name)  # each worker's perspectives and analysers, imported once
print(json.dumps({"ready": os.getpid()}), flush=True)
for line in sys.stdin:
    order = json.loads(line)
    if order["op"] == "wait":
        _, status = os.waitpid(order["pid"], 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), flush=True)
        continue
    pid = os.fork()
    if pid == 0:
        os.setpgrp()
        out = os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ.update(order["env"])
        os.chdir(order["cwd"])
        try:
            code = main(order["argv"])
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
"""


def wait_for_text(text: Callable[[], str], pattern: re.Pattern[str], count: int = 1) -> None:
    """Return once ``pattern`` matched ``count`` times in ``text()``; fail after WAIT_S."""
    give_up_at = time.monotonic() + WAIT_S
    while len(pattern.findall(text())) < count:
        if time.monotonic() > give_up_at:
            raise AssertionError(f"no {pattern.pattern!r} x{count} in:\n{text()}")
        time.sleep(0.02)


class Run:
    """One child of the zygote: the real ``autocoder`` command, its output in ``log``."""

    def __init__(self, zygote: Zygote, pid: int, log: Path) -> None:
        self.zygote, self.pid, self.log = zygote, pid, log
        self._start = log.stat().st_size if log.exists() else 0
        self.status: int | None = None

    def output(self) -> str:
        """What this run wrote (the log file is shared by the runs of one test)."""
        with self.log.open("rb") as fh:
            fh.seek(self._start)
            return fh.read().decode("utf-8", errors="replace")

    def wait_for(self, pattern: re.Pattern[str], count: int = 1) -> None:
        """Return once ``pattern`` matched ``count`` lines of this run's output."""
        wait_for_text(self.output, pattern, count)

    def signal(self, signum: int) -> None:
        os.killpg(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL to the child and everything it started (its process group)."""
        with contextlib.suppress(ProcessLookupError):  # it had already ended
            os.killpg(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        """The exit status (negative: the signal that ended it), once it ended."""
        if self.status is None:
            self.status = int(self.zygote.ask({"op": "wait", "pid": self.pid})["status"])
        return self.status


class Zygote:
    """A Python process holding the imported autocoder command, forking one child per run.

    The environment of the test process is inherited at start (``HF_ENDPOINT`` and ``HF_HOME``
    of the Hub test server: huggingface_hub reads them at import); each run adds its own.
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.ready = self._answer()

    def _answer(self) -> dict[str, Any]:
        out: IO[str] | None = self.process.stdout
        assert out is not None
        line = out.readline()
        if not line:
            raise AssertionError(f"the zygote ended with status {self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, order: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def start(self, argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> Run:
        """Fork a child running ``autocoder ARGV`` with ``env`` added, writing to ``log``."""
        log.touch()
        run = Run(self, 0, log)
        order = {"op": "run", "argv": argv, "env": env, "log": str(log), "cwd": str(cwd)}
        run.pid = int(self.ask(order)["pid"])
        return run

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reported_iterations(logs: Iterable[str]) -> list[tuple[int, str]]:
    """(iteration, perspective) of every "iteration N: NAME STATUS in Xs" line, in log order."""
    return [(int(m[1]), m[2]) for text in logs for m in WRITTEN.finditer(text)]


def records_of(root: Path) -> dict[int, list[dict[str, Any]]]:
    """Each record shard's rows by its iteration (from the file name); asserts every shard of
    every config parses, as ``load_dataset`` needs."""
    assert bad_shards(root) == [], [bad.message() for bad in bad_shards(root)]
    found: dict[int, list[dict[str, Any]]] = {}
    for shard in sorted((root / "data" / "records").rglob("*.jsonl")):
        found[iteration_of(shard.name)] = parse_shard(shard.read_bytes()).rows
    return found


def lost_and_duplicated(
    records: dict[int, list[dict[str, Any]]], reported: list[tuple[int, str]]
) -> tuple[list[int], list[int]]:
    """Lost: iterations reported written but not held, held under another perspective, or a gap
    in 1..newest. Duplicated: an iteration written twice (reported twice, two rows in a shard,
    or a row whose iteration is not its shard's)."""
    newest = max(records, default=0)
    held = {n: rows[0]["perspective_name"] for n, rows in records.items() if rows}
    lost = sorted(
        {n for n, name in reported if held.get(n) != name}
        | {n for n in range(1, newest + 1) if n not in held}
    )
    seen: dict[int, int] = {}
    for n, _name in reported:
        seen[n] = seen.get(n, 0) + 1
    twice = {n for n, times in seen.items() if times > 1}
    bad_rows = {n for n, rows in records.items() if len(rows) != 1 or rows[0]["iteration"] != n}
    return lost, sorted(twice | bad_rows)


def loads(location: str, root: Path) -> dict[str, int]:
    """Rows per config that ``datasets.load_dataset`` reads from ``location`` (a folder or a Hub
    repo), for every config of the card at ``root`` that has shards."""
    import datasets

    card = (root / "README.md").read_text().split("---\n")[1]
    rows = {}
    for config in yaml.safe_load(card)["configs"]:
        if list(root.glob(config["data_files"][0]["path"])):
            name = config["config_name"]
            loaded = datasets.load_dataset(location, name, token=TEST_TOKEN)
            rows[name] = loaded["train"].num_rows
    return rows


def pushed_as_local(hub: HubServer, repo: str, root: Path) -> list[str]:
    """The files of ``root`` (data, card, state) that the Hub repo lacks or holds otherwise."""
    remote = hub.files(repo)
    rels = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    rels = [rel for rel in rels if rel == "README.md" or rel.startswith(("data/", "state/"))]
    return [rel for rel in rels if remote.get(rel) != (root / rel).read_bytes()]


def fill(disk: Path) -> Path:
    """Write ``disk/filler`` until the disk is full; return it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return filler


def health(output: str) -> dict[str, Any]:
    """What ``GET /health`` answers, of the app whose URL ``output`` printed first."""
    port = URL.findall(output)[0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as answer:
        loaded: dict[str, Any] = json.loads(answer.read())
    return loaded
