"""The checks that read the patched copy without running it: the changed files parse, and ruff
finds nothing in them that it did not find before the patch."""

from __future__ import annotations

import ast
import configparser
import json
import tomllib
from collections import Counter
from pathlib import Path

from autocoder.engine import toolkit
from autocoder.errors import ToolError
from autocoder.workers.implementation._verify_steps import Step, Trees, step
from autocoder.workers.implementation.wording import plural

# pyflakes and pycodestyle's errors (ruff's classic defaults: E4, E7, E9, F), named: ruff 0.17's
# own defaults grew to style rules (BLE001, I001) that say nothing about whether a change works.
RUFF_ARGS = ["check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
             "--select", "E4,E7,E9,F"]  # fmt: skip
RuffKey = tuple[str, str, str]  # (file, rule, message): the same wherever the line moves


def check_parses(trees: Trees) -> Step:
    """Every changed file the patched copy has loads with the parser of its kind: Python with
    :func:`ast.parse` (which reads the code, never runs it), TOML, JSON and INI files too."""
    checked: list[str] = []
    for file in trees.patch.files:
        path = trees.patched / file
        if not path.is_file():
            continue  # removed by the patch
        problem = parse_problem(path)
        if problem is not None:
            return step("parses", "failed", f"{file}: {problem}")
        checked.append(file)
    if not checked:
        return step("parses", "passed", "the patch only removes files")
    return step("parses", "passed", f"{', '.join(checked)} parse")


def parse_problem(path: Path) -> str | None:
    """What keeps ``path`` from loading, or None (also for kinds with no parser here)."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".py", ".pyi"):
            ast.parse(text, filename=path.name)
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix in (".cfg", ".ini"):
            configparser.ConfigParser(interpolation=None).read_string(text)
    except SyntaxError as e:
        return f"line {e.lineno}: {e.msg}"
    except (ValueError, configparser.Error, RecursionError, MemoryError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def check_ruff(trees: Trees) -> Step:
    """ruff on the changed Python files of both copies: a diagnostic is new when its file, rule
    and message were not there before, as often as they are now. Not its line, nor its line's
    text: a diagnostic that was there before is not new when the patch moves its line or edits
    that line (removing the first import of an unsorted block changes the line I001 points at),
    while a new unused name is (its message names it)."""
    files = trees.python_files
    if not files:
        return step("ruff", "passed", "no Python file changed")
    try:
        toolkit.require_module("ruff", "ruff")
        after = ruff_keys(trees.patched, files, trees)
        before = ruff_keys(trees.base, [f for f in files if (trees.base / f).is_file()], trees)
    except ToolError as e:
        return step("ruff", "not_run", f"ruff could not run: {e}", "could not run")
    new = after - before
    if new:
        listed = "; ".join(f"{file}: {rule} {message}" for file, rule, message in sorted(new))
        return step(
            "ruff", "failed", f"{plural(sum(new.values()), 'new ruff diagnostic')}: {listed}"
        )
    return step("ruff", "passed", f"no new ruff diagnostic in {', '.join(files)}")


def ruff_keys(tree: Path, files: list[str], trees: Trees) -> Counter[RuffKey]:
    """ruff's diagnostics on ``files`` of ``tree`` as (file, rule, message), counted."""
    found: Counter[RuffKey] = Counter()
    for chunk in toolkit.batched(files):
        done = toolkit.run_tool(
            ["ruff", *RUFF_ARGS, "--", *chunk], cwd=tree, timeout_s=trees.options.tool_timeout_s,
            ok_codes=(0,), memory_mb=trees.options.tool_memory_mb,
        )  # fmt: skip
        try:
            diagnostics = json.loads(done.stdout or "[]")
        except json.JSONDecodeError as e:
            raise ToolError(f"ruff printed no JSON on {tree}: {e}") from None
        for d in diagnostics:
            file = toolkit.relative(tree, d["filename"])
            found[(file, d.get("code") or "invalid-syntax", str(d.get("message", "")))] += 1
    return found
