"""Where a target's tests run: a throwaway virtual environment of their own, and a check that
they left the worker's own environment as it was.

The environment is made once per target and worker interpreter (``python -m venv
--without-pip``, kept under the worker's cache, keyed by the target's dependency files) and
reaches the worker's packages (pytest and its plugins, Hypothesis, coverage) through a ``.pth``
file that runs ``site.addsitedir`` on each worker site folder. So the tests' ``sys.prefix`` is
the throwaway one: ``python -m pip uninstall`` in a test refuses packages "outside environment"
and ``pip install`` lands in the throwaway folder, which is then discarded. The target's own
folders come first on ``PYTHONPATH``, ahead of every site folder, so the target's source
shadows an installed copy of the same library. ``pip``, ``uv``, ``poetry`` and the like on the
tests' PATH are stubs that refuse to run. None of this is a jail: see the README's "Running
generated tests" for what a process of the same user can still do.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import site
import sys
import tempfile
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autocoder.engine.sandbox import DEFAULT_PATH

VERSION = "1"  # bump when what a test environment holds changes
KEEP = 8  # test environments kept in the cache; older ones are removed
DEPENDENCY_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "requirements.txt",
                    "requirements-dev.txt", "Pipfile.lock", "poetry.lock", "uv.lock")  # fmt: skip
REFUSED_TOOLS = ("pip", "pip3", f"pip{sys.version_info[0]}.{sys.version_info[1]}", "uv", "pipx",
                 "poetry", "pipenv", "conda", "mamba", "easy_install")  # fmt: skip
_STUB = '#!/bin/sh\necho "autocoder\'s test sandbox: $0 does not run while tests run" >&2\nexit 1\n'


@dataclass(frozen=True)
class TestEnv:
    """A throwaway environment: its interpreter and the PATH its tests get."""

    __test__ = False  # not a pytest test class

    folder: Path

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"

    @property
    def path_variable(self) -> str:
        """Its own ``bin`` (the interpreter and the refusing stubs) ahead of the system's."""
        return f"{self.folder / 'bin'}{os.pathsep}{DEFAULT_PATH}"

    @property
    def site_packages(self) -> Path:
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        return self.folder / "lib" / version / "site-packages"


def worker_site_dirs() -> list[str]:
    """The worker's own site folders (its venv's, and the user site when it is on)."""
    found = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        found.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(found) if Path(d).is_dir()]


def fingerprint(folders: list[str]) -> dict[str, str]:
    """Each top-level entry of ``folders`` -> a stamp: size and mtime of a file (a module, a
    ``.pth``), of a ``.dist-info``'s RECORD; nothing for a package folder (its mtime changes when
    the worker itself writes bytecode into it). An install, an uninstall or an edited ``.pth``
    changes it."""
    stamps: dict[str, str] = {}
    for folder in folders:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                stamps[os.path.join(folder, entry.name)] = _stamp(Path(entry.path))
    return stamps


def _stamp(path: Path) -> str:
    target = path / "RECORD" if path.name.endswith(".dist-info") else path
    try:
        if target.is_dir():
            return ""
        stat = target.stat()
    except OSError:
        return "unreadable"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What differs between two fingerprints: ``removed X``, ``added X``, ``changed X``."""
    return [
        *(f"removed {k}" for k in sorted(before.keys() - after.keys())),
        *(f"added {k}" for k in sorted(after.keys() - before.keys())),
        *(f"changed {k}" for k in sorted(before.keys() & after.keys()) if before[k] != after[k]),
    ]


def environment_key(root: Path) -> str:
    """The worker interpreter, its site folders and the target's dependency files."""
    digest = hashlib.sha256(
        f"{VERSION}\0{sys.version}\0{os.path.realpath(sys.executable)}".encode()
    )
    for folder in worker_site_dirs():
        digest.update(f"\0{folder}".encode())
    for name in DEPENDENCY_FILES:
        with contextlib.suppress(OSError):
            digest.update(f"\0{name}\0".encode() + (root / name).read_bytes())
    return digest.hexdigest()[:20]


def create(folder: Path) -> TestEnv:
    """A new environment at ``folder``: no pip of its own, the worker's site folders reachable,
    the package managers stubbed out."""
    venv.EnvBuilder(with_pip=False, symlinks=True, clear=True).create(folder)
    env = TestEnv(folder)
    lines = [f"import site; site.addsitedir({d!r})" for d in worker_site_dirs()]
    (env.site_packages / "autocoder-worker-site.pth").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    for tool in REFUSED_TOOLS:
        stub = folder / "bin" / tool
        stub.write_text(_STUB, encoding="utf-8")
        stub.chmod(0o755)
    return env


@contextlib.contextmanager
def test_environment(cache_dir: Path | None, root: Path) -> Iterator[TestEnv]:
    """The target's test environment: from ``cache_dir`` (made there when missing), else a
    temporary one. One that its tests changed (a package installed into it) is removed after
    the run, so the next run starts from a clean one."""
    if cache_dir is None:
        with tempfile.TemporaryDirectory(prefix="autocoder-testenv-") as tmp:
            yield create(Path(tmp) / "env")
        return
    folder = (cache_dir / "testenvs" / environment_key(root)).resolve()  # tests run elsewhere
    env = TestEnv(folder) if folder.is_dir() else _create_cached(folder)
    own = fingerprint([str(env.site_packages), str(folder / "bin")])
    try:
        yield env
    finally:
        if changes(own, fingerprint([str(env.site_packages), str(folder / "bin")])):
            shutil.rmtree(folder, ignore_errors=True)


def _create_cached(folder: Path) -> TestEnv:
    """Made next to its place and renamed into it, so a half-made one is never used; the
    oldest beyond :data:`KEEP` are removed."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    create(building)
    try:
        building.rename(folder)
    except OSError:  # another run made it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    kept = sorted(
        (p for p in folder.parent.iterdir() if not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in kept[KEEP:]:
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    return TestEnv(folder)
