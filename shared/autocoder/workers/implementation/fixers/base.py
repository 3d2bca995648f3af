"""What a fixer offers for a work item: candidate fixes, each one a change to a tree on disk.

A fixer family (ruff, the security codemods, dependency declarations, generated tests) looks at
an item and the target's checkout (read only) and offers zero or more :class:`Fix` candidates.
``apply`` edits a *scratch copy* of the target (see :mod:`autocoder.engine.scratch`), never the
user's checkout, and returns the repo-relative paths it changed. A fixer never imports or runs
the target's code; tools it calls run in the :mod:`autocoder.engine.sandbox`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autocoder.engine.perspective import RunOptions
from autocoder.workers.implementation.workitem import WorkItem

ApplyFix = Callable[[Path], list[str]]  # edits the tree rooted at the path; changed files back


@dataclass(frozen=True)
class Fix:
    """One candidate change for one item."""

    fixer: str  # "ruff", "libcst:requests-timeout", "deps:pyproject", "tests:write"
    title: str  # what it changes, one line: "add timeout=30 to requests.get(...)"
    safe: bool  # keeps behaviour by construction (ruff's "safe" applicability, a pure addition)
    rationale: str  # why this answers the item, and what it may change for callers
    apply: ApplyFix


FixesFor = Callable[[WorkItem, Path, RunOptions], list[Fix]]  # (item, checkout root, options)
