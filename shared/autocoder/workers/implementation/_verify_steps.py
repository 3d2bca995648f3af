"""What the verification steps share: a step's outcome, and the two copies they look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import Perspective, RunOptions
from autocoder.redaction import redact_text
from autocoder.schema import Finding
from autocoder.workers.implementation.patching import Patch
from autocoder.workers.implementation.workitem import WorkItem

StepStatus = Literal["passed", "failed", "not_run"]
# Why a step did not run: running the target's code is not allowed; the step means nothing for
# this item (a test-only patch raised by no perspective); it could not (a tool or perspective
# missing); an earlier step failed.
NotRunReason = Literal["", "not allowed", "not applicable", "could not run", "stopped"]
MAX_DETAIL = 1500  # characters of a step's output kept: its end, where the error is
TESTS_OFF = "the target's tests were not run (AUTOCODER_RUN_TARGET_TESTS is off)"


@dataclass(frozen=True)
class Step:
    """One verification step: passed, failed (with its output's tail) or not run (and why)."""

    name: str
    status: StepStatus
    detail: str
    reason: NotRunReason = ""

    def as_json(self) -> dict[str, str]:
        out = {"name": self.name, "status": self.status, "detail": self.detail}
        return {**out, "reason": self.reason} if self.status == "not_run" else out


def step(name: str, status: StepStatus, detail: str, reason: NotRunReason = "") -> Step:
    """A step whose detail is the tail of ``detail`` with any secret in it redacted (the
    target's tests and tools print what they like)."""
    text = detail.strip()
    if len(text) > MAX_DETAIL:
        text = "..." + text[-MAX_DETAIL:]
    return Step(name, status, redact_text(text)[0], reason)


@dataclass
class Trees:
    """The unpatched and the patched copy, what is being verified, and what earlier steps
    learnt that later ones reuse (the perspective's findings on each copy)."""

    base: Path
    patched: Path
    item: WorkItem
    patch: Patch
    recheck: Perspective | None
    cache: ResultCache
    options: RunOptions
    new_tests: tuple[str, ...]
    before_after_test: str | None
    findings_after: list[Finding] | None = None
    before_after: dict[str, Any] | None = field(default=None)

    @property
    def python_files(self) -> list[str]:
        """The patch's Python files that the patched copy still has."""
        return [f for f in self.patch.files if f.endswith(".py") and (self.patched / f).is_file()]

    @property
    def test_cache_dir(self) -> Path | None:
        """Where the target's throwaway test environment is kept: beside the result cache."""
        return self.cache.path.parent if self.cache.path is not None else None
