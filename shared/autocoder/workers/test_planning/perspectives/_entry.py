"""The console scripts a target declares in ``pyproject.toml`` (``[project.scripts]``).

Shared by What Are We Testing, Test Pyramid and User Experience.
"""

from __future__ import annotations

import tomllib

from autocoder.engine.perspective import RunContext


def entry_points(ctx: RunContext) -> dict[str, str]:
    if "pyproject.toml" not in ctx.sources:  # absent, or a link out of the target
        return {}
    try:
        data = tomllib.loads("\n".join(ctx.sources.lines("pyproject.toml")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    scripts = data.get("project", {}).get("scripts", {})
    return {str(k): str(v) for k, v in scripts.items()}
