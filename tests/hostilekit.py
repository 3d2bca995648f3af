"""What the hostile-target proof (``tests/test_proof_hostile.py``) builds and reads back.

Each builder writes one hostile target into a folder of the test's own (a file too big, a link
loop, a name with a newline, code that writes a marker file when imported, ...). The runners
drive the workers the way a user does, through ``autocoder once``; the readers parse every
record back through the store's reader and scan every file the workers wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from autocoder.apps.service import WorkerService
from autocoder.cli import main
from autocoder.engine.parsing import TOO_DEEP
from autocoder.engine.sources import LOOP, too_large
from autocoder.schema import RECORDS
from autocoder.settings import load_settings
from autocoder.store.reader import LocalReader, read_shard
from autocoder.workers.catalog import worker_spec

from perspectivekit import write_files

FIXES = ("give a directory or a git URL", "not a directory or a git URL", "check the URL")
WORKERS = ("analysis", "test-planning", "implementation")
PERSPECTIVES = {"analysis": 6, "test-planning": 15, "implementation": 6}
# A module that, if it is ever imported or run, leaves a file named after it in ``folder``.
MARKER_CODE = (
    "import os as _os\n"
    "open(_os.path.join({folder!r}, {name!r} + '-' + str(_os.getpid())), 'w').close()\n"
)
# yaml.load (bandit B506) in a function with a caller and a test: an item the fixers take, so
# the implementation stages after Deep Understanding have work and run on this target too.
PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/config.py": (
        '"""Settings read from YAML."""\n\nimport yaml\n\n\n'
        "def load_config(text):\n    data = yaml.load(text)\n    return dict(data or {})\n"
    ),
    "tests/test_config.py": (
        "from pkg.config import load_config\n\n\n"
        "def test_load_config_reads_a_mapping():\n"
        "    assert load_config('retries: 3') == {'retries': 3}\n"
    ),
    "pyproject.toml": '[project]\nname = "pkg"\nversion = "0.1"\ndependencies = ["pyyaml"]\n',
}


def once(
    capsys: pytest.CaptureFixture[str], worker: str, target: str | Path, data: Path,
    iterations: int = 2,
) -> tuple[int, str]:  # fmt: skip
    """``autocoder once WORKER --target T --data-dir D --iterations N``: exit status, stderr."""
    capsys.readouterr()
    args = ["once", worker, "--target", str(target), "--data-dir", str(data)]
    code = main([*args, "--iterations", str(iterations)])
    return code, capsys.readouterr().err


def dataset(data: Path, worker: str) -> Path:
    return data / f"autocoder-{worker}-results"


def rows(data: Path, worker: str, config: str = RECORDS.folder) -> list[dict[str, Any]]:
    """Every row of one config of the worker's dataset, each shard parsed by the store's reader."""
    reader = LocalReader(dataset(data, worker))
    return [row for path in reader.list_files(config) for row in read_shard(reader, path)]


def written_files(data: Path) -> list[Path]:
    """Every regular file the workers wrote under ``data`` (records, state, caches, cards)."""
    return [p for p in data.rglob("*") if p.is_file() and not p.is_symlink()]


def files_holding(data: Path, needle: str) -> list[str]:
    """The files under ``data`` whose bytes contain ``needle`` (the answer should be [])."""
    return [str(p) for p in written_files(data) if needle.encode() in p.read_bytes()]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def marker_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def importing_target(root: Path, markers: Path) -> Path:
    """The package above plus a module, a ``conftest.py`` and a ``setup.py`` that each write a
    marker into ``markers`` when imported or run."""
    markers.mkdir(parents=True, exist_ok=True)
    code = {name: MARKER_CODE.format(folder=str(markers), name=name)
            for name in ("module", "conftest", "setup")}  # fmt: skip
    return write_files(root, {
        **PACKAGE,
        "pkg/module.py": code["module"] + "\n\ndef helper(x):\n    return x + 1\n",
        "conftest.py": code["conftest"],
        "tests/conftest.py": code["conftest"],
        "setup.py": code["setup"] + "from setuptools import setup\n\nsetup(name='pkg')\n",
    })  # fmt: skip


def many_files(root: Path, count: int) -> Path:
    """``count`` one-line modules in folders of 500 (the Hub's limit is 10k per folder)."""
    for number in range(count):
        folder = root / f"pkg{number // 500:03d}"
        if number % 500 == 0:
            folder.mkdir(parents=True)
            (folder / "__init__.py").write_text("")
        (folder / f"m{number:05d}.py").write_text(f"VALUE_{number} = {number}\n")
    return root


def sparse_file(path: Path, size: int) -> Path:
    """A ``size``-byte file made in an instant: a hole the file system does not store."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def outside_link_target(root: Path, outside: Path, secret: str) -> Path:
    """A small package plus links from inside it to a module and a folder outside, which hold
    ``secret``."""
    (outside / "lib").mkdir(parents=True)
    (outside / "creds.py").write_text(f'PASSWORD = "{secret}"\n\n\ndef f():\n    return 1\n')
    (outside / "lib" / "more.py").write_text(f"TOKEN = '{secret}'\n")
    write_files(root, {"app/__init__.py": "", "app/core.py": "def g(x):\n    return x\n"})
    os.symlink(outside / "creds.py", root / "app" / "creds.py")
    os.symlink(outside / "lib", root / "app" / "lib")
    os.symlink(outside / "creds.py", root / "notes.txt")
    return root


def went_on(data: Path, worker: str, iterations: int) -> list[dict[str, Any]]:
    """The worker's records, after checking there is one per iteration, in order, each ``ok``
    or ``skipped`` with the reason, and that the dataset folder loads with ``datasets``."""
    records = rows(data, worker)
    assert [r["iteration"] for r in records] == list(range(1, iterations + 1))
    assert {r["status"] for r in records} <= {"ok", "skipped"}, [r["error"] for r in records]
    assert all(r["error"] for r in records if r["status"] == "skipped")
    return records


def loads(data: Path, worker: str) -> int:
    """Rows ``datasets.load_dataset`` reads from the worker's local dataset folder."""
    import datasets

    cache = data.parent / "datasets-cache"
    loaded = datasets.load_dataset(str(dataset(data, worker)), split="train", cache_dir=str(cache))
    return len(loaded)


def skipped_files(records: list[dict[str, Any]]) -> dict[str, str]:
    """What the ``ok`` records say they could not read: file -> reason."""
    found: dict[str, str] = {}
    for record in records:
        if record["status"] == "ok":
            found.update(record["analysis"]["metrics"].get("skipped_files", {}).get("first", {}))
    return found


FLAGGED = {"pkg/flagged.py": "import os\n"}  # F401: what Code Quality must still report


BAD_FILES = {  # the file a target adds, what it holds (None: made below), the reason given
    "invalid UTF-8": ("pkg/latin.py", b"N = 'caf\xe9 \xff'\n", "not valid UTF-8"),
    "binary .py": ("pkg/blob.py", b"\x7fELF\x02\x00" + bytes(256), "binary (NUL bytes)"),
    "50 MB file": ("pkg/huge.py", None, too_large(1_000_000)),
    "2,000-level nested expression": (
        "pkg/deep.py", b"x = " + b"(" * 2000 + b"1" + b")" * 2000 + b"\n", TOO_DEEP),
    "symlink loop": ("pkg/loop.py", None, LOOP),
}  # fmt: skip


def bad_file(kind: str, path: Path) -> None:
    """The file of ``kind`` at ``path``: the 50 MB one sparse, the loop a link to itself."""
    content = BAD_FILES[kind][1]
    if content is not None:
        path.write_bytes(content)
    elif kind == "50 MB file":
        sparse_file(path, 50_000_000)
    else:
        path.symlink_to(path.name)


class Rewriter(threading.Thread):
    """Rewrites, deletes and recreates the target's files until told to stop."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.stop, self.rounds = root, threading.Event(), 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.rounds += 1
            if self.rounds % 10 == 0:  # the whole package gone for a moment, then back
                shutil.rmtree(self.root / "pkg", ignore_errors=True)
                write_files(self.root, PACKAGE)
            extra = self.root / "pkg" / f"churn{self.rounds % 7}.py"
            extra.write_text(f"def f{self.rounds}(x):\n    return x\n")
            (self.root / "pkg" / "config.py").write_text(PACKAGE["pkg/config.py"] * (
                1 + self.rounds % 3))  # fmt: skip
            for old in list((self.root / "pkg").glob("churn*.py"))[:2]:
                old.unlink(missing_ok=True)


@contextlib.contextmanager
def rewriting(root: Path) -> Iterator[Rewriter]:
    """A :class:`Rewriter` at work on ``root`` for the duration of the block."""
    rewriter = Rewriter(root)
    rewriter.start()
    try:
        yield rewriter
    finally:
        rewriter.stop.set()
        rewriter.join()


async def iterations_with_the_target_gone_for_the_second(target: Path, data: Path) -> None:
    """Three analysis iterations of a running worker service; the target is away for the
    second."""
    settings = load_settings(target=str(target), data_dir=data, interval_s=0.0)
    service = WorkerService(worker_spec("analysis"), settings)
    away = target.with_name("away")
    try:
        await service.run(1)
        await asyncio.to_thread(target.rename, away)
        await service.run(1)
        await asyncio.to_thread(away.rename, target)
        await service.run(1)
    finally:
        await service.shutdown()


def every_worker(
    target: Path, data: Path, iterations: Callable[[str], int]
) -> dict[str, tuple[int, int]]:
    """``autocoder once`` of each worker in turn on ``target``: worker -> (exit status,
    iterations asked)."""
    runs = {}
    for worker in WORKERS:
        args = ["once", worker, "--target", str(target), "--data-dir", str(data)]
        runs[worker] = (main([*args, "--iterations", str(iterations(worker))]), iterations(worker))
    return runs


def refused(code: int, err: str, value: str) -> None:
    """Exit 2 and one line naming ``value`` and the fix, no traceback."""
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("autocoder: error: ") and value in lines[0], err
    assert any(fix in lines[0] for fix in FIXES), err
    assert "Traceback" not in err
