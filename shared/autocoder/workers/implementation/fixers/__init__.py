"""The fixer families, asked in this order: each offers candidate fixes for an item it handles.

| family | items | made by |
|---|---|---|
| :mod:`.ruff_fixes` | ruff findings | ruff's own fix edits (safe; unsafe ones labelled so) |
| :mod:`.security` | bandit and web-rule findings | codemods on libcst |
| :mod:`.dependencies` | deptry findings | ``pyproject.toml`` / requirements edits with tomlkit |
| :mod:`.test_files` | test specs | the spec's pytest module written into the target's tests |
| :mod:`.model_fixes` | tasks no finding serves | the optional language model's new file text |

A ruff finding below medium (style, mostly) gets only the fixes ruff calls safe: an unsafe one
may change behaviour, which a style rule is not worth. A family that raises while *offering* (a
tool missing, a file that does not parse) offers nothing for that item, and the reason is kept:
Deep Understanding and Approach Evaluation show it.
"""

from __future__ import annotations

from pathlib import Path

from autocoder.engine.perspective import RunContext, RunOptions
from autocoder.errors import AutocoderError, LLMError
from autocoder.schema import severity_rank
from autocoder.workers.implementation.fixers import (
    dependencies,
    model_fixes,
    ruff_fixes,
    security,
    test_files,
)
from autocoder.workers.implementation.fixers.base import Fix, FixesFor
from autocoder.workers.implementation.workitem import WorkItem

DEPENDENCY_RULES = frozenset({"DEP001", "DEP002", "DEP003", "DEP004"})
SECURITY_TOOLS = frozenset({"bandit", "autocoder-web"})
UNSAFE_STYLE_FROM = "medium"  # a ruff finding below this gets only fixes ruff calls safe


def _family(item: WorkItem) -> FixesFor | None:
    if item.kind == "spec":
        return test_files.fixes
    if item.tool == "ruff":
        return ruff_fixes.fixes
    if item.tool == "deptry" and item.rule in DEPENDENCY_RULES:
        return dependencies.fixes
    if item.tool in SECURITY_TOOLS and item.rule in security.RULES:
        return security.fixes
    return None


def _task_fixes(item: WorkItem, ctx: RunContext | None) -> tuple[list[Fix], str]:
    if ctx is None or ctx.ask_model is None:
        return [], "a task no finding serves needs a language model"
    try:
        return model_fixes.fixes(item, ctx), ""
    except LLMError:  # the model could not answer now: the caller decides (it may retry)
        raise
    except AutocoderError as e:
        return [], f"model_fixes: {e}"


def handles(item: WorkItem) -> bool:
    """Whether a family may have a fix for this item (cheap: no file is read)."""
    return _family(item) is not None


def fixes_for(
    item: WorkItem, root: Path, options: RunOptions, ctx: RunContext | None = None
) -> tuple[list[Fix], str]:
    """The candidate fixes for ``item`` in the checkout at ``root``, and why there are none
    when there are none ("" otherwise). A task no finding serves needs the language model of
    ``ctx`` (:mod:`.model_fixes`)."""
    if item.kind == "task":
        return _task_fixes(item, ctx)
    family = _family(item)
    if family is None:
        return [], f"no fixer handles {item.tool} {item.rule}"
    try:
        offered = family(item, root, options)
    except AutocoderError as e:
        return [], f"{family.__module__.rsplit('.', 1)[-1]}: {e}"
    if not offered:
        return [], f"no fixer could change {item.tool} {item.rule} at {item.file}:{item.line}"
    return _worth_it(item, offered)


def _worth_it(item: WorkItem, offered: list[Fix]) -> tuple[list[Fix], str]:
    """A style finding below medium keeps only its safe fixes (see the module's docstring)."""
    if item.tool != "ruff" or severity_rank(item.severity) <= severity_rank(UNSAFE_STYLE_FROM):
        return offered, ""
    kept = [fix for fix in offered if fix.safe]
    if not kept:
        return [], (
            f"only an unsafe fix for {item.rule}, a {item.severity} finding: a change that "
            "may alter behaviour is not worth a style rule"
        )
    return kept, ""
