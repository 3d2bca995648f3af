"""Boot a staged Space folder the way a Space does: its own clean venv, ``python app.py``, a port.

A Space installs ``requirements.txt`` into an empty environment and runs ``python app.py`` from the
folder ``autocoder deploy`` uploaded; nothing of the checkout is there. This kit does the same on
127.0.0.1 so a missing requirement or a path that only works in the repo fails a test, with the
child's stderr in the message.

Venvs are made with ``uv`` (a dev dependency) from a wheel cache under
``~/.cache/autocoder-tests/uv`` (``AUTOCODER_TEST_CACHE`` moves it) and kept, compiled, under
``.../venvs/<hash of requirements.txt>``: a first run downloads from the package index, later
runs reuse the venv. The interpreter is the one the test venv was made
from, so the Space venv has the same Python minor. A failed install fails with uv's own error.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CACHE = Path(os.environ.get("AUTOCODER_TEST_CACHE", Path.home() / ".cache" / "autocoder-tests"))
BOOT_TIMEOUT_S = 180.0  # importing gradio on a loaded 2-core machine
STOP_TIMEOUT_S = 60.0
INSTALL_TIMEOUT_S = 600.0
ADMIN_TOKEN = "boot-" + "admin-" + "x" * 24  # built at run time: no token-looking literal
NOWHERE = "http://127.0.0.1:9"  # the discard port: any Hub call fails at once


class SpaceBootFailed(AssertionError):
    """A Space folder did not install, start, answer or stop; the message carries the output."""


def uv_binary() -> str:
    """The ``uv`` executable of the test venv; a clear failure naming the install when absent."""
    try:
        import uv
    except ImportError:
        raise SpaceBootFailed(
            "the Space boot tests need uv in the test venv: .venv/bin/pip install uv"
        ) from None
    return str(uv.find_uv_bin())


def base_python() -> str:
    """The interpreter the test venv was made from (same minor as the repo venv, not the venv)."""
    return str(getattr(sys, "_base_executable", sys.executable))


def requirements_key(requirements: Path) -> str:
    """Venvs are shared by requirements that are byte-identical, for the same Python."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()[:16]


def _uv_env() -> dict[str, str]:
    """The caller's environment (its CA bundle, proxy, uv index settings) plus the cache."""
    return {
        **os.environ,
        "UV_CACHE_DIR": str(CACHE / "uv"),
        "UV_PYTHON_DOWNLOADS": "never",  # the interpreter is given; never fetch one
        "UV_NO_PROGRESS": "1",
    }


def _run_uv(*args: str) -> None:
    done = subprocess.run(
        [uv_binary(), *args],
        capture_output=True, text=True, env=_uv_env(), timeout=INSTALL_TIMEOUT_S, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SpaceBootFailed(f"uv {' '.join(args)} failed:\n{done.stderr}{done.stdout}")


def make_venv(requirements: Path, dest: Path, compile_bytecode: bool = True) -> Path:
    """A clean venv at ``dest`` with ``requirements`` only; its python executable."""
    _run_uv("venv", "--quiet", "--relocatable", "--python", base_python(), str(dest))
    python = dest / "bin" / "python"
    compiling = ["--compile-bytecode"] if compile_bytecode else []
    _run_uv("pip", "install", "--quiet", *compiling, "--python", str(python),
            "-r", str(requirements))  # fmt: skip
    return python


def cached_venv(
    requirements: Path, root: Path = CACHE / "venvs", compile_bytecode: bool = True
) -> Path:
    """The python of a venv made from ``requirements`` only, kept under ``root`` by its content.

    Why kept: compiling the bytecode of gradio, datasets and pandas costs a first boot as much
    as the import itself; a kept venv skips it. Nothing installs into it after it is made (the
    apps run from their staged folder), so it stays what the requirements make; delete
    ``~/.cache/autocoder-tests/venvs`` to pick up newer releases. It is built beside its final
    place and renamed into it, so an interrupted or concurrent build never leaves a half venv in
    use. ``compile_bytecode=False`` suits a venv that is only meant to fail its imports.
    """
    final = root / requirements_key(requirements)
    python = final / "bin" / "python"
    if (final / "complete").is_file():
        return python
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{final.name}-", dir=root))
    try:
        make_venv(requirements, building / "venv", compile_bytecode)
        (building / "venv" / "complete").write_text(requirements.read_text())
        if final.exists() and not (final / "complete").is_file():
            shutil.rmtree(final, ignore_errors=True)  # left by a build killed mid-rename
        try:
            (building / "venv").rename(final)
        except OSError:  # another session finished first: use its venv
            if not (final / "complete").is_file():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return python


def tiny_target(folder: Path) -> Path:
    """A git repository with one small Python module: something quick to analyse."""
    folder.mkdir(parents=True)
    (folder / "calc.py").write_text(
        '"""A tiny module."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n'
    )
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.x", "HOME": str(folder), "PATH": "/usr/bin:/bin"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)
    return folder


def space_env(app: str, work: Path, port: int, target: Path) -> dict[str, str]:
    """What a Space gives its process, in local mode: no HF token, the Hub out of reach.

    Built from nothing, not from ``os.environ``: the test's own tokens and paths never leak in.
    """
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "SPACE_ID": f"test-user/autocoder-{app}",
        "SPACE_HOST": f"test-user-autocoder-{app}.hf.space",
        "SPACE_AUTHOR_NAME": "test-user",
        "AUTOCODER_DATA_DIR": str(work / "data"),
        "AUTOCODER_TARGET": str(target),
        "AUTOCODER_ADMIN_TOKEN": ADMIN_TOKEN,
        "AUTOCODER_HOST": "127.0.0.1",  # a Space binds 0.0.0.0; a test stays on loopback
        "GRADIO_SERVER_PORT": str(port),
        "AUTOCODER_PORT": str(port),
        "HF_ENDPOINT": NOWHERE,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(work / "gradio"),
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class BootedSpace:
    """A running ``python app.py``: its URL and what it printed so far."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def failure(self, what: str) -> SpaceBootFailed:
        code = self.process.poll()
        state = "still running" if code is None else f"exit status {code}"
        return SpaceBootFailed(f"{what} ({state}); its stdout and stderr:\n{self.output()}")


def _wait_for_health(space: BootedSpace, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if space.process.poll() is not None:
            raise space.failure("python app.py exited before GET /health answered")
        try:
            if httpx.get(f"{space.url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise space.failure(f"GET /health did not answer 200 within {timeout_s:.0f} s")


def stop(space: BootedSpace) -> int:
    """SIGTERM, as a Space restart sends; the exit status. Killed and failed if it hangs."""
    if space.process.poll() is None:
        space.process.send_signal(signal.SIGTERM)
    try:
        return space.process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        space.process.kill()
        space.process.wait()
        raise space.failure(
            f"python app.py did not exit within {STOP_TIMEOUT_S:.0f} s of SIGTERM"
        ) from None


@contextmanager
def booted(folder: Path, python: Path, env: dict[str, str]) -> Iterator[BootedSpace]:
    """``python app.py`` in ``folder``, yielded once GET /health answers 200.

    Call :func:`stop` inside the block to check the clean exit; a child still running when the
    block ends (a failed test) is killed.
    """
    log = folder.parent / f"{folder.name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(python), "app.py"], cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    space = BootedSpace(f"http://127.0.0.1:{env['AUTOCODER_PORT']}", process, log)
    try:
        _wait_for_health(space, BOOT_TIMEOUT_S)
        yield space
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def stage_space(app: str, dest: Path) -> list[str]:
    """Exactly what ``autocoder deploy`` uploads for ``app``, written into ``dest``."""
    from autocoder.deploy.bundle import stage

    return list(stage(app, dest))
