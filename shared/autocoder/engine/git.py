"""git in the sandbox, with the sandbox's own failures (timeout, no git, cannot start) turned
into one :class:`TargetError` that says which git command, on what, and the fix."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from autocoder.engine import sandbox
from autocoder.errors import TargetError, ToolError, ToolMissing, ToolTimeout


def git(
    args: list[str], *, cwd: Path | None, where: str, timeout_s: float, **options: Any
) -> subprocess.CompletedProcess[str]:
    """``git args`` through :func:`sandbox.run_git`; ``where`` reads "of URL" or "in FOLDER".

    The exit code is the caller's to judge: only git's own words know what a failure means.
    """
    try:
        return sandbox.run_git(args, cwd=cwd, timeout_s=timeout_s, **options)
    except ToolTimeout:
        raise TargetError(f"git {args[0]} {where} took longer than {timeout_s:g}s") from None
    except ToolMissing:
        raise TargetError("git is not installed; install it (apt-get install git)") from None
    except ToolError as exc:
        raise TargetError(f"git {args[0]} {where} failed: {exc}") from None
