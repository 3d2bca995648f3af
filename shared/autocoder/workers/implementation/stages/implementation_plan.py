"""Implementation Plan: the change itself, made again with the fix Approach Evaluation chose
(plus the spec's test Testing Strategy picked, when there is one), then verified on a fresh
scratch copy at the base commit (see :mod:`..verify`). Its record has ``code_changes`` (the
changed file's new text and the unified diff), ``test_code`` and ``verification``; the patch goes
to the ``patches`` config with the same label, whatever it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import Perspective, PerspectiveResult, RunContext
from autocoder.errors import FixerError
from autocoder.schema import PatchFields, TaskRow
from autocoder.workers.implementation import fixers, items, patching, publishing, verify
from autocoder.workers.implementation.fixers import test_files
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.scratchdir import scratch_dir
from autocoder.workers.implementation.stages import _chain
from autocoder.workers.implementation.stages._chain import InProgress
from autocoder.workers.implementation.stages.approach_evaluation import key_of
from autocoder.workers.implementation.workitem import WorkItem

DONE = ("verified", "checked")  # patch labels that complete a task
LANGUAGES = {".py": "python", ".toml": "toml", ".txt": "text", ".cfg": "ini", ".md": "markdown"}


class ImplementationPlan:
    id: ClassVar[str] = "implementation_plan"
    name: ClassVar[str] = "Implementation Plan"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        progress = _chain.in_progress(ctx, self.id)
        fix, test_fix, spec_ids = _fixes(ctx, progress)
        combined = fix if test_fix is None else _both(fix, test_fix)
        patch = patching.make_patch(
            ctx.root, ctx.commit, progress.item, combined, ctx.options, scratch_dir(ctx)
        )
        new_tests = [f for f in patch.added if is_test_file(f)]
        checked = verify.verify_patch(
            ctx.root, ctx.commit, progress.item, patch,
            recheck=_recheck(ctx, progress.item),
            cache=ctx.cache, options=ctx.options, scratch_dir=scratch_dir(ctx),
            new_tests=new_tests,
            before_after_test=new_tests[0] if test_fix is not None and new_tests else None,
        )  # fmt: skip
        note = never_ran(progress.item, checked)
        result = progress.result(
            self.id, _conclusion(patch, checked) + (f" {note}" if note else ""),
            _content(patch, checked, new_tests), ctx=ctx,
            code_changes=code_changes(patch, new_tests),
            test_code=patch.new_texts.get(new_tests[0], "") if new_tests else "",
            verification={"status": checked.status, "summary": checked.summary(),
                          "failed_step": checked.failed_step or "", "note": note,
                          **checked.as_evidence()},
            patch_id=patch.id,
        )  # fmt: skip
        # Published last: a stage that fails before (the model's note) leaves no orphan PR.
        published = publishing.published_fields(
            ctx, progress.item, patch, checked, progress.conclusions
        )
        row = PatchFields(
            id=patch.id, item_id=progress.item.id, fingerprints=progress.item.fingerprints,
            spec_ids=spec_ids, base_commit=patch.base_commit, fixer=patch.fixer,
            files=list(patch.files), diff=patch.diff, status=checked.status,
            failed_step=checked.failed_step or "", evidence=checked.as_evidence(), **published,
        )  # fmt: skip
        result.items = [row, *_task_outcome(progress, patch, checked, published)]
        result.metrics = {"patch_status": checked.status}
        return result


def _recheck(ctx: RunContext, item: WorkItem) -> Perspective | None:
    """What runs again on the patched copy: the perspective that raised the finding; for a
    task's change, the Security Audit (no new high finding); nothing for a spec's test."""
    if item.kind == "spec":
        return None
    return ctx.perspective_of("Security Audit" if item.kind == "task" else item.source)


def _task_outcome(
    progress: InProgress, patch: patching.Patch, checked: verify.Verification,
    published: dict[str, str],
) -> list[TaskRow]:  # fmt: skip
    """The served task's last row: completed when the patch passed every check that was
    allowed to run (verified, or checked with the target's tests off), else failed with why."""
    patch_ids = [*(progress.task.patch_ids if progress.task else []), patch.id]
    if checked.status in DONE:
        return progress.task_rows("completed", patch_ids=patch_ids, error_detail="",
                                  **publishing.task_fields(published))  # fmt: skip
    return progress.task_rows("failed", patch_ids=patch_ids, error_detail=checked.summary())


def _fixes(ctx: RunContext, progress: InProgress) -> tuple[Fix, Fix | None, list[str]]:
    """The chosen fix, offered again; the test of the spec Testing Strategy picked, if any; and
    the spec ids the patch answers."""
    item = progress.item
    chosen = progress.facts["approach_evaluation"]["chosen"]
    offered, why = fixers.fixes_for(item, ctx.root, ctx.options, ctx)
    fix = next((f for f in offered if key_of(f) == chosen), None)
    if fix is None:
        raise FixerError(f"the chosen fix '{chosen}' is not offered any more: {why or 'changed'}")
    spec = progress.facts["testing_strategy"].get("new_test")
    if item.kind == "spec" or spec is None:
        return fix, None, list(item.spec_ids)
    row = next((s for s in items.specs_for(ctx, spec["subject"]) if s.id == spec["spec_id"]), None)
    if row is None:
        return fix, None, []
    tests = test_files.fixes(items.from_spec(row), ctx.root, ctx.options)
    return fix, (tests[0] if tests else None), ([row.id] if tests else [])


def _both(fix: Fix, test: Fix) -> Fix:
    def apply(tree: Path) -> list[str]:
        return [*fix.apply(tree), *test.apply(tree)]

    return Fix(fix.fixer, f"{fix.title}; {test.title}", fix.safe, fix.rationale, apply)


def code_changes(patch: patching.Patch, new_tests: list[str]) -> dict[str, str]:
    """The seed's ``code_changes``: the changed file (the fix's, not the added test) and its new
    text, the whole diff, the file's language."""
    changed = [f for f in patch.files if f not in new_tests] or list(patch.files)
    file = changed[0]
    return {"file": file, "code": patch.new_texts.get(file, ""), "diff": patch.diff,
            "language": LANGUAGES.get(Path(file).suffix, "text")}  # fmt: skip


def _content(
    patch: patching.Patch, checked: verify.Verification, new_tests: list[str]
) -> dict[str, Any]:
    return {"patch_id": patch.id, "fixer": patch.fixer, "files": list(patch.files),
            "new_tests": new_tests, "status": checked.status,
            "before_after": checked.before_after}  # fmt: skip


def never_ran(item: WorkItem, checked: verify.Verification) -> str:
    """What a reader of a test-only patch must know when nobody has seen its test run: the test
    planning worker did not run it and neither did this one; "" otherwise."""
    ran = any(s.name == "tests" and s.status != "not_run" for s in checked.steps)
    if item.kind != "spec" or item.spec_status != "not_run" or ran:
        return ""
    return (
        "Its test has never run: the test planning worker did not run it and the target's tests "
        "are off here, so it may fail or always skip; run it before merging."
    )


def _conclusion(patch: patching.Patch, checked: verify.Verification) -> str:
    """``patch-... (fixer, files) checked: passed applies, ...``: the label leads the summary."""
    return f"{patch.id} ({patch.fixer}, {', '.join(patch.files)}) {checked.summary()}"
