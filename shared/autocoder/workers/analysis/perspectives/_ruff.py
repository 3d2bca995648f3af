"""Ruff as an analyser: its diagnostics per Python file, cached by content, and their severity."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from autocoder.engine import toolkit
from autocoder.engine.perspective import RunContext
from autocoder.errors import ToolError
from autocoder.schema import Severity

# First matching prefix wins. High is for code that fails whenever it runs (a syntax error, an
# undefined name, `return` outside a function); pylint's errors (PLE) and redefinitions (F811)
# are often deliberate (a bare `raise` in a helper called from `except`), so medium; style last.
_SEVERITY_BY_PREFIX: tuple[tuple[str, Severity], ...] = (
    ("syntax-error", "high"), ("F821", "high"), ("F822", "high"), ("F823", "high"),
    ("F63", "high"), ("F7", "high"), ("E9", "high"), ("PLE", "medium"), ("F811", "medium"),
    ("F", "medium"), ("B", "medium"), ("PLW", "medium"), ("E7", "medium"),
    ("RUF", "low"), ("SIM", "low"), ("RET", "low"), ("PIE", "low"), ("PLR", "low"),
    ("PLC", "low"), ("ARG", "low"), ("ASYNC2", "high"), ("ASYNC", "medium"), ("PERF", "low"),
)  # fmt: skip

Diagnostics = dict[str, list[dict[str, Any]]]  # file -> [{"code", "line", "message"}]


def ruff_severity(code: str) -> Severity:
    return next((sev for prefix, sev in _SEVERITY_BY_PREFIX if code.startswith(prefix)), "info")


def run_ruff(ctx: RunContext, select: str, ignore: str, cache_name: str) -> tuple[str, Diagnostics]:
    """Ruff's version and its diagnostics per Python file (code, line, message), cached by content.

    The target's own ruff configuration is ignored: ``select`` and ``ignore`` alone decide.
    """
    version = toolkit.require_module("ruff", "ruff")
    args = ["check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
            "--select", select, *(["--ignore", ignore] if ignore else [])]  # fmt: skip
    args_key = hashlib.sha256(" ".join(args).encode()).hexdigest()[:12]
    found = toolkit.cached_per_file(
        ctx.cache, cache_name, f"{version}:{args_key}", ctx.sources, ctx.sources.python,
        lambda files: _diagnostics(ctx, args, files),
    )  # fmt: skip
    return version, found


def _diagnostics(ctx: RunContext, args: list[str], files: list[str]) -> Diagnostics:
    """Run ruff with ``args`` over ``files`` in batches; the diagnostics of the files with any."""
    out: Diagnostics = {}
    for chunk in toolkit.batched(files):
        done = toolkit.run_tool(
            ["ruff", *args, "--", *chunk],
            cwd=ctx.root,
            timeout_s=ctx.options.tool_timeout_s,
            ok_codes=(0,),
            memory_mb=ctx.options.tool_memory_mb,
        )
        try:
            diagnostics = json.loads(done.stdout or "[]")
        except json.JSONDecodeError as e:
            raise ToolError(f"ruff printed no JSON on {ctx.root}: {e}") from None
        for d in diagnostics:
            rel = toolkit.relative(ctx.root, d["filename"])
            code = d.get("code") or "invalid-syntax"
            row = int((d.get("location") or {}).get("row") or 0)
            out.setdefault(rel, []).append({"code": code, "line": row, "message": d["message"]})
    return out
