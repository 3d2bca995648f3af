"""Where the implementation worker makes its scratch copies: beside the system's temporary files,
never inside the target (see :func:`autocoder.engine.scratch.scratch_copy`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from autocoder.engine.perspective import RunContext


def scratch_dir(ctx: RunContext) -> Path:
    base = Path(tempfile.gettempdir()).resolve()
    if base == ctx.root.resolve() or ctx.root.resolve() in base.parents:
        return ctx.root.resolve().parent  # a target that holds the temporary folder itself
    return base
