"""Verifying a patch on a fresh scratch copy of the target at its base commit, and labelling it
honestly: ``verified`` only when the target's tests ran and passed too.

The steps, in order, stop at the first that fails (those after it say so):

1. ``applies``: ``git apply`` on a fresh copy (:func:`.patching.applied_copy`);
2. ``parses``: each changed Python file parses, each TOML, JSON or INI file loads;
3. ``ruff``: no ruff diagnostic on the changed Python files that was not there before;
4. ``finding gone``: the perspective that raised the finding, run again on the patched copy, no
   longer reports its fingerprint (a spec's test: the file is there and pytest collects it);
5. ``no new high``: that perspective reports no critical or high finding the unpatched copy did
   not have;
6. ``tests``: with ``AUTOCODER_RUN_TARGET_TESTS=1``, the target's tests and the new ones, before
   and after the patch: no test that passed before fails after, every new test passes;
7. ``before/after`` (when a test for the same subject comes with the fix): it fails on the
   unpatched copy and passes on the patched one, and both outcomes are kept.

A step is ``not_run`` for a reason: the user did not allow running the target's code (the
patch is then ``checked``), it does not apply to this item, or it could not run (no perspective
to run again, a missing tool: the patch is then ``unverified``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import Perspective, RunOptions
from autocoder.engine.scratch import scratch_copy
from autocoder.errors import PatchError, TargetError
from autocoder.redaction.scrub import scrub
from autocoder.workers.implementation import _verify_recheck, _verify_static, _verify_tests
from autocoder.workers.implementation._verify_steps import NotRunReason, Step, Trees, step
from autocoder.workers.implementation.patching import Patch, applied_copy
from autocoder.workers.implementation.workitem import WorkItem

__all__ = ["STATIC_STEPS", "NotRunReason", "Step", "Verification", "verify_patch"]

VerificationStatus = Literal["verified", "checked", "failed", "unverified"]
STATIC_STEPS = ("applies", "parses", "ruff", "finding gone", "no new high")


@dataclass(frozen=True)
class Verification:
    """What verifying one patch found, step by step, and the label that follows from it."""

    status: VerificationStatus
    steps: tuple[Step, ...]
    failed_step: str | None
    before_after: dict[str, Any] | None

    def as_evidence(self) -> dict[str, Any]:
        """Plain JSON for ``PatchRow.evidence``."""
        return {
            "status": self.status,
            "failed_step": self.failed_step,
            "steps": [s.as_json() for s in self.steps],
            "before_after": self.before_after,
        }

    def summary(self) -> str:
        """One sentence: what ran and passed, what failed, what did not run and why."""
        passed = [s.name for s in self.steps if s.status == "passed"]
        parts = [f"passed {', '.join(passed)}" if passed else "passed no step"]
        if self.failed_step is not None:
            failed = next(s for s in self.steps if s.name == self.failed_step)
            parts.append(f"failed {failed.name} ({_first_line(failed.detail)})")
        skipped = [s for s in self.steps if s.status == "not_run" and s.reason != "stopped"]
        if skipped:
            parts.append("not run: " + "; ".join(f"{s.name}, because {s.detail}" for s in skipped))
        return f"{self.status}: " + "; ".join(parts) + "."


def verify_patch(
    root: Path,
    commit: str | None,
    item: WorkItem,
    patch: Patch,
    *,
    recheck: Perspective | None,
    cache: ResultCache,
    options: RunOptions,
    scratch_dir: Path,
    new_tests: Sequence[str] = (),
    before_after_test: str | None = None,
) -> Verification:
    """Verify ``patch`` (made for ``item``) on fresh scratch copies of ``root`` at ``commit``.

    ``recheck`` is the perspective that raised the item (None: no worker has it), ``new_tests``
    the test files the patch adds, ``before_after_test`` the one of them to run before and after
    the fix. The target's code runs only with ``options.run_target_tests``."""
    names = [*STATIC_STEPS, "tests", *(["before/after"] if before_after_test else [])]
    steps: list[Step] = []
    trees: Trees | None = None
    with contextlib.ExitStack() as stack:
        try:
            _publishable(patch)
            patched = stack.enter_context(applied_copy(root, commit, patch, options, scratch_dir))
        except (PatchError, TargetError) as e:
            steps.append(step("applies", "failed", str(e)))
        else:
            steps.append(step("applies", "passed", _applied(patch, commit)))
            base = stack.enter_context(scratch_copy(
                root, commit, scratch_dir, max_file_bytes=options.max_file_bytes,
                timeout_s=options.tool_timeout_s, memory_mb=options.tool_memory_mb,
            ))  # fmt: skip
            trees = Trees(base, patched, item, patch, recheck, cache, options,
                          tuple(new_tests), before_after_test)  # fmt: skip
            for name in names[1:]:
                steps.append(_CHECKS[name](trees))
                if steps[-1].status == "failed":
                    break
    failed = next((s.name for s in steps if s.status == "failed"), None)
    steps += [
        step(n, "not_run", f"stopped: the {failed} step failed", "stopped")
        for n in names[len(steps) :]
    ]
    before_after = trees.before_after if trees is not None else None
    return Verification(label(steps), tuple(steps), failed, before_after)


def label(steps: Sequence[Step]) -> VerificationStatus:
    """``failed`` when a step failed; ``unverified`` when a static step could not run;
    ``verified`` when every step ran (or did not apply) and the tests passed; ``checked`` when
    the rest did not run only because the target's code may not run; else ``unverified``."""
    if any(s.status == "failed" for s in steps):
        return "failed"
    if any(s.status == "not_run" and s.reason == "could not run" for s in steps
           if s.name in STATIC_STEPS):  # fmt: skip
        return "unverified"
    tests = next((s for s in steps if s.name == "tests"), None)
    if tests is None or tests.status != "passed":
        not_allowed = tests is not None and tests.reason == "not allowed"
        return "checked" if not_allowed else "unverified"
    if all(s.status == "passed" or s.reason == "not applicable" for s in steps):
        return "verified"
    return "unverified"


def _publishable(patch: Patch) -> None:
    """PatchError when the store would keep another diff than this one: every row is scrubbed of
    secrets when written, so a diff holding a value that looks like one (on a changed line or
    a context line) would be published altered, and would not apply as it was verified."""
    _clean, redacted = scrub(patch.diff)
    if redacted:
        raise PatchError(
            f"the diff holds {redacted} value(s) that look like secrets and are redacted when "
            "stored, so the published patch would not be the one verified and would not apply; "
            "make this change by hand"
        )


def _applied(patch: Patch, commit: str | None) -> str:
    where = f"commit {commit[:12]}" if commit else "the folder as it is"
    return f"git apply changed {', '.join(patch.files)} on a fresh copy at {where}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "no output"


_CHECKS = {
    "parses": _verify_static.check_parses,
    "ruff": _verify_static.check_ruff,
    "finding gone": _verify_recheck.check_finding_gone,
    "no new high": _verify_recheck.check_no_new_high,
    "tests": _verify_tests.check_tests,
    "before/after": _verify_tests.check_before_after,
}
