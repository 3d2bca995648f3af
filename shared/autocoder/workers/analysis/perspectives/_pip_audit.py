"""pip-audit as an analyser: known vulnerabilities of exactly pinned requirements."""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autocoder.engine import toolkit
from autocoder.engine.perspective import RunContext
from autocoder.errors import ToolError
from autocoder.workers.analysis.perspectives._requirements import normalise_name

PIP_AUDIT_TIMEOUT_S = 60.0


def audit_pins(
    ctx: RunContext, version: str, pins: list[str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Vulnerabilities of ``pins`` and the pins pip-audit could not check (pin -> its reason),
    cached per requirement set and UTC day (advisories change)."""
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    key = hashlib.sha256("\n".join(["v2", day, *pins]).encode()).hexdigest()
    if (hit := ctx.cache.get("pip-audit", version, key)) is not None:
        return list(hit["vulns"]), dict(hit["unchecked"])
    deps = _audited_dependencies(ctx, pins)
    vulns = _vulnerabilities(deps)
    unchecked = {
        f"{normalise_name(d['name'])}=={d.get('version', '?')}": str(d["skip_reason"])[:160]
        for d in deps
        if "skip_reason" in d
    }
    ctx.cache.put("pip-audit", version, key, {"vulns": vulns, "unchecked": unchecked})
    return vulns, unchecked


def _audited_dependencies(ctx: RunContext, pins: list[str]) -> list[dict[str, Any]]:
    """pip-audit's report per pinned requirement; ToolError when it could audit none of them."""
    with tempfile.TemporaryDirectory(prefix="autocoder-audit-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(f"{p}\n" for p in pins), encoding="utf-8")
        done = toolkit.run_tool(
            ["pip_audit", "-r", str(req), "--no-deps", "--disable-pip", "--format", "json",
             "--progress-spinner", "off", "--timeout", "10"],
            cwd=ctx.root, timeout_s=min(PIP_AUDIT_TIMEOUT_S, ctx.options.tool_timeout_s),
            memory_mb=ctx.options.tool_memory_mb, pass_env=toolkit.NETWORK_ENV,
        )  # fmt: skip
    try:
        deps: list[dict[str, Any]] = json.loads(done.stdout)["dependencies"]
    except (ValueError, KeyError, TypeError):
        raise ToolError(f"pip-audit printed no JSON report: {done.stdout[-160:]}") from None
    unaudited = [d["skip_reason"] for d in deps if "skip_reason" in d]
    if deps and len(unaudited) == len(deps):  # offline: every package "not found on PyPI"
        raise ToolError(f"no package could be audited: {unaudited[0]}")
    return deps


def _vulnerabilities(deps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each vulnerability as {pin, id, aliases, fix_versions} (the first three of each list)."""
    return [
        {"pin": f"{normalise_name(d['name'])}=={d['version']}", "id": v["id"],
         "aliases": v.get("aliases", [])[:3], "fix_versions": v.get("fix_versions", [])[:3]}
        for d in deps if "vulns" in d for v in d["vulns"]
    ]  # fmt: skip
