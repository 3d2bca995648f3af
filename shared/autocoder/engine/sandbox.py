"""The one way autocoder starts a process on a target: nothing of the target importable, no
credential in its environment, a HOME of its own, a memory limit, and a timeout that ends the
whole process group.

Analysers run as ``python -I -m tool``: isolated mode puts neither the working folder nor a
script's folder on ``sys.path`` and ignores every ``PYTHON*`` variable and the user site, so a
``ruff.py`` or ``argparse.py`` in the target is never imported. Only the opt-in test runners
import the target, on purpose: they run ``python -P`` (no working folder on the path) with the
folders they need on an explicit ``PYTHONPATH``.

The environment is built, never inherited: PATH and the locale, a HOME, TMPDIR and XDG folders
made for the call and removed after it, the worker's variables named in ``pass_env`` (never one
that looks like a credential) and the extras the caller gives. The memory limit is an
address-space limit (``RLIMIT_AS``) that a tiny launcher sets before it execs the command, so no
``preexec_fn`` runs in the threaded worker.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

from autocoder.errors import ToolError, ToolMissing, ToolTimeout

DEFAULT_MEMORY_MB = 4096  # AUTOCODER_TOOL_MEMORY_MB
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
LOCALE_ENV = ("LANG", "LC_ALL", "LC_CTYPE")
# What a tool that talks to the network may need from the worker: proxies and CA bundles.
NETWORK_ENV = (
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
    "no_proxy", "all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "SSH_AUTH_SOCK",
)  # fmt: skip
TARGET_TEST_ENV = ("DJANGO_SETTINGS_MODULE",)  # what the target's own or generated tests may see
_SECRET_NAME = re.compile(
    r"^(AUTOCODER_|AWS_|HF_|HUGGING|GITHUB_|GH_|GITLAB_|AZURE_|GOOGLE_|GCP_|OPENAI_|ANTHROPIC_)"
    r"|TOKEN|SECRET|PASSW|CREDENTIAL|(^|_)KEY($|_)|APIKEY|COOKIE|SESSION",
    re.IGNORECASE,
)
_OUT_OF_MEMORY = (
    "MemoryError", "memory allocation of", "Out of memory", "out of memory",
    "Cannot allocate memory", "bad_alloc", "failed to allocate",
)  # fmt: skip
# Variables -> sub-folder of the call's temporary folder: no tool reads or writes the real ones.
_OWN_FOLDERS = {
    "HOME": "home", "TMPDIR": "tmp", "XDG_CACHE_HOME": "cache", "XDG_CONFIG_HOME": "config",
    "XDG_DATA_HOME": "data", "XDG_STATE_HOME": "state",
}  # fmt: skip
# git reads no system or global config, asks for nothing, and whatever the repository's own
# config says (a local target's .git/config is the target's), runs no monitor, hook or pager.
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0",
}  # fmt: skip
GIT_SAFE_CONFIG = (
    "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat",
    "-c", "submodule.recurse=false", "-c", "protocol.ext.allow=never",
)  # fmt: skip
# Run by the interpreter before the command: lowers the address-space limit (soft and hard, so
# the command cannot raise it again; never above a hard limit the worker already has), then
# becomes the command.
_LAUNCHER = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "hard = resource.getrlimit(resource.RLIMIT_AS)[1]\n"
    "if hard != resource.RLIM_INFINITY:\n"
    "    limit = min(limit, hard)\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it may hold a credential."""
    return bool(_SECRET_NAME.search(name))


def run_python(
    module: str,
    args: Sequence[str],
    *,
    cwd: Path,
    timeout_s: float,
    memory_mb: int = DEFAULT_MEMORY_MB,
    import_paths: Sequence[Path | str] | None = None,
    env: Mapping[str, str] | None = None,
    pass_env: Iterable[str] = (),
    python: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -I -m module args``; with ``import_paths`` (the opt-in test runners only)
    ``python -P -s -m`` with exactly those folders on ``PYTHONPATH``. ``python`` is the
    interpreter (the test runners' throwaway environment), else the worker's own."""
    extras = dict(env or {})
    if import_paths is None:  # and a Python the tool starts (pip-audit's pip) adds no cwd either
        flags = ["-I"]
        extras.update(PYTHONSAFEPATH="1", PYTHONNOUSERSITE="1")
    else:
        flags = ["-P", "-s"]
        extras["PYTHONPATH"] = os.pathsep.join(str(p) for p in import_paths if str(p))
    return run_isolated(
        [str(python or sys.executable), *flags, "-m", module, *args], cwd=cwd, timeout_s=timeout_s,
        memory_mb=memory_mb, env=extras, pass_env=pass_env, what=module,
    )  # fmt: skip


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None,
    timeout_s: float,
    memory_mb: int = DEFAULT_MEMORY_MB,
    env: Mapping[str, str] | None = None,
    pass_env: Iterable[str] = (),
    stdin_path: Path | None = None,
    stdout_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``git args`` with :data:`GIT_ENV` and :data:`GIT_SAFE_CONFIG`, whatever its exit code."""
    return run_isolated(
        ["git", *GIT_SAFE_CONFIG, *args], cwd=cwd, timeout_s=timeout_s, memory_mb=memory_mb,
        env={**GIT_ENV, **(env or {})}, pass_env=pass_env, what=f"git {args[0]}",
        stdin_path=stdin_path, stdout_path=stdout_path,
    )  # fmt: skip


def run_isolated(
    command: Sequence[str],
    *,
    cwd: Path | None,
    timeout_s: float,
    memory_mb: int = DEFAULT_MEMORY_MB,
    env: Mapping[str, str] | None = None,
    pass_env: Iterable[str] = (),
    what: str | None = None,
    stdin_path: Path | None = None,
    stdout_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the sandbox and return it, whatever its exit code.

    ``env`` is set as given (e.g. an auth header for git); ``pass_env`` names the worker's
    variables to pass on when set, minus any whose name looks like a credential. ``memory_mb``
    0 means no limit. ``stdin_path`` is read as the command's input (else it reads nothing);
    ``stdout_path`` receives its output byte for byte (binary output such as file contents),
    and the returned ``stdout`` is then empty. Raises ToolMissing when the program is not on
    PATH, ToolTimeout after ``timeout_s`` (the process group is killed) and ToolError when the
    memory limit was hit.
    """
    name = what or Path(command[0]).name
    with tempfile.TemporaryDirectory(prefix="autocoder-sandbox-", ignore_cleanup_errors=True) as t:
        child_env = minimal_env(Path(t), pass_env, env or {})
        program = shutil.which(command[0], path=child_env["PATH"])
        if program is None:
            raise ToolMissing(command[0], f"apt-get install {command[0]} (not on PATH)")
        argv = _with_memory_limit([program, *command[1:]], memory_mb)
        done = _run(argv, cwd, child_env, timeout_s, name, (stdin_path, stdout_path))
    if done.returncode != 0 and _ran_out_of_memory(done.stderr):
        raise ToolError(
            f"{name} exceeded the memory limit of {memory_mb} MiB on {cwd}; "
            "raise AUTOCODER_TOOL_MEMORY_MB"
        )
    if done.returncode < 0:  # below the loader's needs a program dies of SIGSEGV, silently
        raise ToolError(
            f"{name} was killed by {_signal_name(-done.returncode)} on {cwd} "
            f"(memory limit {memory_mb} MiB; raise AUTOCODER_TOOL_MEMORY_MB if it needs more)"
        )
    return done


def minimal_env(home: Path, pass_env: Iterable[str], extras: Mapping[str, str]) -> dict[str, str]:
    """PATH, the locale, folders of its own under ``home``, the allowed worker variables, extras."""
    env = {"PATH": os.environ.get("PATH") or DEFAULT_PATH}
    for variable, folder in _OWN_FOLDERS.items():
        (home / folder).mkdir()
        env[variable] = str(home / folder)
    env["TEMP"] = env["TMP"] = env["TMPDIR"]
    env.update({k: os.environ[k] for k in LOCALE_ENV if k in os.environ})
    env.setdefault("LANG", "C.UTF-8")
    env.update({k: os.environ[k] for k in pass_env if k in os.environ and not is_secret_name(k)})
    env.update(extras)
    return env


def _with_memory_limit(argv: list[str], memory_mb: int) -> list[str]:
    if memory_mb <= 0:
        return argv
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(memory_mb * 1024 * 1024), *argv]


def _run(
    argv: list[str],
    cwd: Path | None,
    env: dict[str, str],
    timeout_s: float,
    name: str,
    files: tuple[Path | None, Path | None] = (None, None),
) -> subprocess.CompletedProcess[str]:
    """Run in a session of its own; after a timeout, and after it ends, kill what is left.
    ``files`` are the (stdin, stdout) paths, when not the defaults (nothing in, a pipe out)."""
    with contextlib.ExitStack() as opened:
        stdin: IO[bytes] | int = subprocess.DEVNULL
        stdout: IO[bytes] | int = subprocess.PIPE
        if files[0] is not None:
            stdin = opened.enter_context(files[0].open("rb"))
        if files[1] is not None:
            stdout = opened.enter_context(files[1].open("wb"))
        proc = opened.enter_context(subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
            encoding="utf-8", errors="replace", start_new_session=True,
        ))  # fmt: skip
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            raise ToolTimeout(
                f"{name} ran longer than {timeout_s:.0f}s on {cwd}; raise AUTOCODER_TOOL_TIMEOUT_S"
            ) from None
        finally:
            _kill_group(proc.pid)  # children it left behind
    return subprocess.CompletedProcess(argv, proc.returncode, out or "", err)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _ran_out_of_memory(stderr: str) -> bool:
    tail = stderr[-4000:]
    return any(marker in tail for marker in _OUT_OF_MEMORY)
