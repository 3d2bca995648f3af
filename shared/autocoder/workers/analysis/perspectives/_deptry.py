"""deptry as an analyser: declared requirements against what the code imports."""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from autocoder.engine import toolkit
from autocoder.engine.perspective import RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import ToolError
from autocoder.workers.analysis.perspectives._requirements import Requirement, is_dev_group


def deptry_inputs(src: SourceFiles, declaring_files: list[str]) -> list[str]:
    """What deptry reads: the Python files, the declarations and its [tool.deptry] config."""
    config = [f for f in ("pyproject.toml", "setup.cfg") if f in src]
    return sorted({*src.python, *declaring_files, *config})


def run_deptry(ctx: RunContext, reqs: list[Requirement]) -> Any:
    """deptry's issues (its JSON report), with ``reqs`` handed to it as requirements files."""
    with tempfile.TemporaryDirectory(prefix="autocoder-deptry-") as tmp:
        # deptry ignores these two when pyproject.toml has a [project] (or Poetry/PDM) table
        out, main, dev = (Path(tmp) / n for n in ("deptry.json", "req.txt", "req-dev.txt"))
        main.write_text("".join(f"{r.spec}\n" for r in reqs if not r.dev), encoding="utf-8")
        dev.write_text("".join(f"{r.spec}\n" for r in reqs if r.dev), encoding="utf-8")
        tree = Path(tmp, "tree")  # only the listed files: no link out, nothing skipped
        tree.mkdir()
        ctx.sources.mirror(tree, deptry_inputs(ctx.sources, []))
        done = toolkit.run_tool(
            ["deptry", ".", "--no-ansi", "--json-output", str(out), "--requirements-files",
             str(main), "--requirements-files-dev", str(dev), *_config_args(ctx, tmp),
             *_first_party_args(ctx.sources)],
            cwd=tree, timeout_s=ctx.options.tool_timeout_s, ok_codes=(0, 1),
            memory_mb=ctx.options.tool_memory_mb,
        )  # fmt: skip
        if not out.exists():
            said = (done.stderr or done.stdout).strip().splitlines()
            raise ToolError(
                f"deptry wrote no report for {ctx.root}: {said[-1] if said else 'no output'}"
            )
        return json.loads(out.read_text(encoding="utf-8"))


def _config_args(ctx: RunContext, tmp: str) -> list[str]:
    """--config (an empty one in ``tmp`` when pyproject.toml does not parse: deptry would crash)
    and the development extras of pyproject.toml."""
    try:
        data = tomllib.loads("\n".join(ctx.sources.lines("pyproject.toml")))
        args = ["--config", "pyproject.toml"]
    except ValueError:
        (Path(tmp) / "empty.toml").write_text("", encoding="utf-8")
        data, args = {}, ["--config", str(Path(tmp) / "empty.toml")]
    extras = data.get("project", {}).get("optional-dependencies", {})
    if dev := [group for group in extras if is_dev_group(group)]:
        args += ["--optional-dependencies-dev-groups", ",".join(dev)]
    return args


def _first_party_args(src: SourceFiles) -> list[str]:
    """The top-level packages below the root (shared/pkg, src/pkg) as first-party modules."""
    packages = src.packages - {""}
    tops = {p.rpartition("/")[2] for p in packages if p.rpartition("/")[0] not in packages}
    return [arg for top in sorted(tops) for arg in ("--known-first-party", top)]
