"""Ruff findings fixed by ruff's own edits, for the one diagnostic the item names.

Ruff's JSON output carries, with each diagnostic, the exact edits of its fix and their
applicability. ``ruff check --fix`` would apply *every* diagnostic of the rule in the file,
changing lines no finding of this item points at, so instead the edits of the item's own
diagnostic are applied (ruff's edits, not hand-written ones). A fix that ruff marks ``unsafe``
is offered with ``safe=False`` and ruff's reason (the rule's "Fix safety" section); a
``display-only`` fix, or none, is not offered.

Ruff runs ``--isolated`` (the target's ruff configuration ignored), as the analysis worker's
Code Quality perspective ran it when it raised the finding: the same diagnostic is found at
the same place, whatever the target's config selects, ignores or excludes. One setting is
taken from the target all the same: the Python version, from ``requires-python`` in its
``pyproject.toml`` (py37, the oldest ruff knows, when it names none), passed as
``--target-version``. Ruff's default is newer, and its pyupgrade fixes would then write syntax
(``X | None``) that the Pythons the target supports cannot run.

Refused: the fixes of RUF100 and RUF102, which drop ``# noqa`` codes that ruff, run isolated,
does not use or know. The target's own linters may use them (flask's ``# noqa: B950`` is for
flake8-bugbear), so removing them is not a fix.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from autocoder.engine import toolkit
from autocoder.engine.perspective import RunOptions
from autocoder.errors import FixerError, ToolError
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.workitem import WorkItem

OFFERED = {"safe": True, "unsafe": False}  # ruff's applicability -> Fix.safe; others: no fix
_LINE_END = re.compile(r"\r\n|\r|\n")  # ruff's line ends (not str.splitlines' others)
_LOWER_BOUND = re.compile(r"(?:>=|~=|==|>)\s*3\.(\d+)")  # requires-python's 3.X bounds
OLDEST_MINOR, NEWEST_MINOR = 7, 14  # the Python 3 versions ruff's --target-version takes
# rules whose fix depends on the linters and rules the target really uses -> why refused
REFUSED = {
    "RUF100": "an unused `# noqa` code here may be used by the target's own ruff or flake8 rules",
    "RUF102": "a `# noqa` code ruff does not know may belong to another linter of the target",
}
_FIX_SAFETY = re.compile(r"^## Fix safety\s*\n+(.*?)(?:\n\s*\n|\Z)", re.MULTILINE | re.DOTALL)


def fixes(item: WorkItem, root: Path, options: RunOptions) -> list[Fix]:
    """Ruff's fix of the item's diagnostic at ``item.file:item.line`` ([] when there is none,
    or it is display-only); FixerError when ruff cannot run or the file is not Python."""
    if item.tool != "ruff" or not item.rule:
        return []
    if item.rule in REFUSED:
        raise FixerError(f"ruff {item.rule} at {item.file}:{item.line} is not fixed: "
                         f"{REFUSED[item.rule]}")  # fmt: skip
    if not item.file.endswith((".py", ".pyi")) or item.line < 1:
        raise FixerError(f"ruff {item.rule} at {item.file}:{item.line}: no Python line")
    if not (root / item.file).is_file():
        raise FixerError(f"ruff {item.rule}: {item.file} is not a file of {root}")
    diagnostic = item_diagnostic(item, diagnostics(item, root, options))
    fix = (diagnostic or {}).get("fix") or {}
    applicability = fix.get("applicability")
    if applicability not in OFFERED or not fix.get("edits"):
        return []
    safe = OFFERED[applicability]
    said = str(fix.get("message") or f"ruff's fix for {item.rule}")
    title = f"{said} ({item.file}:{item.line}, ruff {item.rule})"
    rationale = (
        f"ruff's own edits for the {item.rule} diagnostic at {item.file}:{item.line} "
        f"('{diagnostic.get('message', '') if diagnostic else ''}'), applied to that diagnostic "
        f"only (other lines of the file are left alone), with --target-version "
        f"{target_version(root)} (from the target's requires-python; py37 when it has none)."
    )
    if not safe:
        title = f"unsafe: {title}"
        rationale += f" Ruff marks this fix unsafe: {_fix_safety(item.rule, root, options)}"
    return [Fix("ruff", title, safe, rationale, lambda tree: apply_edits(item, tree, options))]


def apply_edits(item: WorkItem, tree: Path, options: RunOptions) -> list[str]:
    """Ask ruff again in ``tree`` (the edits are for the file as it is there) and apply the
    edits of the item's diagnostic; ``[item.file]``, or FixerError when nothing changed."""
    diagnostic = item_diagnostic(item, diagnostics(item, tree, options))
    fix = (diagnostic or {}).get("fix") or {}
    if fix.get("applicability") not in OFFERED or not fix.get("edits"):
        raise FixerError(f"ruff has no fix for {item.rule} at {item.file}:{item.line} in {tree}")
    path = tree / item.file
    before = path.read_bytes().decode("utf-8")  # as it is: newlines untranslated, like ruff
    after = edited(before, fix["edits"])
    if after == before:
        raise FixerError(f"ruff's fix for {item.rule} at {item.file}:{item.line} changes nothing")
    path.write_bytes(after.encode("utf-8"))
    return [item.file]


def diagnostics(item: WorkItem, root: Path, options: RunOptions) -> list[dict[str, Any]]:
    """Ruff's JSON diagnostics of ``item.rule`` in ``item.file`` under ``root``."""
    toolkit.require_module("ruff", "ruff")
    args = ["ruff", "check", "--isolated", "--no-cache", "--exit-zero", "--output-format",
            "json", "--target-version", target_version(root), "--select", item.rule,
            "--", item.file]  # fmt: skip
    try:
        done = toolkit.run_tool(args, cwd=root, timeout_s=options.tool_timeout_s, ok_codes=(0,),
                                memory_mb=options.tool_memory_mb)  # fmt: skip
        found = json.loads(done.stdout or "[]")
    except ToolError as e:
        raise FixerError(f"ruff could not check {item.file} for {item.rule}: {e}") from e
    except json.JSONDecodeError as e:
        raise FixerError(f"ruff printed no JSON for {item.file}: {e}") from None
    return [d for d in found if isinstance(d, dict) and d.get("code") == item.rule]


def target_version(root: Path) -> str:
    """``py3X`` for the oldest Python 3.X the target's ``requires-python`` allows; py37 when
    it names none, so that a fix never needs a newer Python than the target may run on."""
    try:
        with (root / "pyproject.toml").open("rb") as f:
            requires = tomllib.load(f).get("project", {}).get("requires-python", "")
    except (OSError, ValueError):
        requires = ""
    minors = [int(m) for m in _LOWER_BOUND.findall(str(requires))]
    minor = min(minors, default=OLDEST_MINOR)
    return f"py3{max(OLDEST_MINOR, min(minor, NEWEST_MINOR))}"


def item_diagnostic(item: WorkItem, found: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The diagnostic on the item's line; of several there, the one whose message the item's
    message quotes (None when that leaves more than one, or none)."""
    on_line = [d for d in found if (d.get("location") or {}).get("row") == item.line]
    if len(on_line) > 1:
        on_line = [d for d in on_line if str(d.get("message", "")) in item.message]
    return on_line[0] if len(on_line) == 1 else None


def edited(text: str, edits: list[dict[str, Any]]) -> str:
    """``text`` with ruff's edits applied. Their locations are 1-based rows and columns counted
    in characters; they do not overlap, so they are applied from the last one back."""
    starts = [0] + [m.end() for m in _LINE_END.finditer(text)]

    def offset(location: dict[str, Any]) -> int:
        row, column = int(location["row"]), int(location["column"])
        if not 1 <= row <= len(starts):
            raise FixerError(f"ruff's edit points at row {row}, past the file's end")
        return min(starts[row - 1] + column - 1, len(text))

    spans = sorted(
        ((offset(e["location"]), offset(e["end_location"]), str(e.get("content") or ""))
         for e in edits),
        reverse=True,
    )  # fmt: skip
    for start, end, content in spans:
        text = text[:start] + content + text[end:]
    return text


def _fix_safety(rule: str, root: Path, options: RunOptions) -> str:
    """The first paragraph of the rule's "Fix safety" section in ruff's own documentation."""
    try:
        done = toolkit.run_tool(["ruff", "rule", rule, "--output-format", "json"], cwd=root,
                                timeout_s=options.tool_timeout_s, ok_codes=(0,),
                                memory_mb=options.tool_memory_mb)  # fmt: skip
        explanation = str(json.loads(done.stdout).get("explanation", ""))
    except (ToolError, json.JSONDecodeError, AttributeError) as e:
        return f"its reason could not be read (ruff rule {rule}: {e})."
    found = _FIX_SAFETY.search(explanation)
    if found is None:
        return f"ruff's documentation of {rule} gives no reason; it may change behaviour."
    return " ".join(found.group(1).split())
