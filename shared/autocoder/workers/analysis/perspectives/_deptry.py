"""deptry as an analyser: declared requirements against what the code imports."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from autocoder.engine import toolkit
from autocoder.engine.perspective import RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import ToolError
from autocoder.workers.analysis.perspectives._dep_names import KNOWN_MODULES, module_name_map
from autocoder.workers.analysis.perspectives._requirements import Requirement, normalise_name

# [tool.deptry] options of the target kept in the synthetic config (the dependency sources are
# ours: every declaring file of the tree, read by :mod:`._requirements`)
_KEPT_OPTIONS = frozenset({
    "exclude", "extend_exclude", "ignore", "per_rule_ignores", "known_first_party",
    "experimental_namespace_package",
})  # fmt: skip
# deptry's answer depends on the known module map too: a cached answer is for one map only
MAP_DIGEST = hashlib.sha256(json.dumps(KNOWN_MODULES, sort_keys=True).encode()).hexdigest()[:12]
_RELATIVE_IMPORT_MODULE = re.compile(r"""import_module\(\s*['"]\.""")


def deptry_inputs(src: SourceFiles, declaring_files: list[str]) -> list[str]:
    """What deptry's answer depends on: the Python files, the declarations and pyproject.toml
    (its [tool.deptry] options)."""
    config = [f for f in ("pyproject.toml",) if f in src]
    return sorted({*src.python, *declaring_files, *config})


def run_deptry(ctx: RunContext, reqs: list[Requirement]) -> Any:
    """deptry's issues (its JSON report), with the direct ``reqs`` handed to it by name.

    deptry reads a synthetic config: the target's [tool.deptry] options and, for every declared
    distribution, the modules it provides (:mod:`._dep_names`), so no answer depends on what the
    worker's own environment has installed.
    """
    direct = [r for r in reqs if not r.transitive]
    with tempfile.TemporaryDirectory(prefix="autocoder-deptry-") as tmp:
        out, main, dev, config = (
            Path(tmp) / n for n in ("deptry.json", "req.txt", "req-dev.txt", "pyproject.toml")
        )
        main.write_text("".join(f"{n}\n" for n in sorted({r.name for r in direct if not r.dev})))
        dev.write_text("".join(f"{n}\n" for n in sorted({r.name for r in direct if r.dev})))
        config.write_text(_config_toml(ctx.sources, {r.name for r in reqs}), encoding="utf-8")
        tree = Path(tmp, "tree")  # only the listed files: no link out, nothing skipped
        tree.mkdir()
        ctx.sources.mirror(tree, sorted(ctx.sources.python))
        done = toolkit.run_tool(
            ["deptry", ".", "--no-ansi", "--json-output", str(out), "--config", str(config),
             "--requirements-files", str(main), "--requirements-files-dev", str(dev),
             *_first_party_args(ctx.sources), *_crashing_files_args(ctx.sources)],
            cwd=tree, timeout_s=ctx.options.tool_timeout_s, ok_codes=(0, 1),
            memory_mb=ctx.options.tool_memory_mb,
        )  # fmt: skip
        if not out.exists():
            said = (done.stderr or done.stdout).strip().splitlines()
            raise ToolError(
                f"deptry wrote no report for {ctx.root}: {said[-1] if said else 'no output'}"
            )
        return json.loads(out.read_text(encoding="utf-8"))


def _config_toml(src: SourceFiles, distributions: set[str]) -> str:
    """A [tool.deptry] table: the target's own options that still apply, and the module map
    (the target's entries win over the known map)."""
    try:
        own = (
            tomllib.loads("\n".join(src.lines("pyproject.toml"))) if "pyproject.toml" in src else {}
        )
    except ValueError:  # unreadable-declaration reports it; deptry would crash on it
        own = {}
    options = own.get("tool", {}).get("deptry", {})
    kept = {k: v for k, v in options.items() if k in _KEPT_OPTIONS}
    names: dict[str, Any] = {k: list(v) for k, v in module_name_map(distributions).items()}
    own_names = options.get("package_module_name_map", {})
    names.update({normalise_name(k): v for k, v in own_names.items()})
    plain = [f"{k} = {json.dumps(v)}" for k, v in kept.items() if not isinstance(v, dict)]
    tables = [_table(k, v) for k, v in kept.items() if isinstance(v, dict)]
    return "\n".join(["[tool.deptry]", *plain, *tables, _table("package_module_name_map", names)])


def _table(key: str, table: dict[str, Any]) -> str:
    """A [tool.deptry.key] TOML table; JSON strings and string lists are valid TOML values."""
    rows = (f"{json.dumps(k)} = {json.dumps(v)}" for k, v in table.items())
    return "\n".join([f"[tool.deptry.{key}]", *rows]) + "\n"


def _crashing_files_args(src: SourceFiles) -> list[str]:
    """--extend-exclude for files with ``import_module(".name", package)``: deptry 0.25 reads
    the relative name as the empty module and crashes on it (Django has two)."""
    crashing = [f for f in src.python if _RELATIVE_IMPORT_MODULE.search("\n".join(src.lines(f)))]
    return [arg for f in crashing for arg in ("--extend-exclude", re.escape(f))]


def _first_party_args(src: SourceFiles) -> list[str]:
    """The top-level packages below the root (shared/pkg, src/pkg) as first-party modules."""
    packages = src.packages - {""}
    tops = {p.rpartition("/")[2] for p in packages if p.rpartition("/")[0] not in packages}
    return [arg for top in sorted(tops) for arg in ("--known-first-party", top)]
