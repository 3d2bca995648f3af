"""The checks that run the target's code, only with ``AUTOCODER_RUN_TARGET_TESTS=1``: its tests
(and the new ones) before and after the patch, and a test written for the fix, which should
fail without it and pass with it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autocoder.engine import testrun
from autocoder.engine.testrun import TestOutcome, TestRun
from autocoder.errors import ToolTimeout
from autocoder.workers.implementation._verify_steps import TESTS_OFF, Step, Trees, step
from autocoder.workers.implementation.wording import plural

# A module that fails to collect must not hide the others' outcomes (pytest stops otherwise).
EXTRA_ARGS = ("--continue-on-collection-errors",)
NOT_PASSING = ("failed", "error")
TestKey = tuple[str, str]  # (classname, name) of a junit test case


def check_tests(trees: Trees) -> Step:
    """The target's tests on both copies, the new ones on the patched copy: a test that passed
    before and fails (or is gone) after, or a new test that does not pass, fails the step. A run
    in which no test passes, or one whose tests import a module the environment lacks, proves
    nothing: the step did not run (so the patch is unverified), naming the module and the fix."""
    if not trees.options.run_target_tests:
        return step("tests", "not_run", TESTS_OFF, "not allowed")
    runs: list[TestRun] = []
    checked = _check_tests(trees, runs)
    missing = testrun.missing_modules("\n".join(run.output for run in runs))
    if not missing:
        return checked
    if checked.status == "failed":  # a test that broke is a failure whatever else is missing
        return checked
    names = ", ".join(missing)
    return step("tests", "not_run", (
        f"the tests import {names}, which the worker's environment lacks: install "
        f"{'it' if len(missing) == 1 else 'them'} beside autocoder (pip install {' '.join(missing)}"
        f") so they can run. {checked.detail}"
    ), "could not run")  # fmt: skip


def _check_tests(trees: Trees, runs: list[TestRun]) -> Step:
    existing = testrun.configured_testpaths(trees.base)
    targets = [trees.patched / p.relative_to(trees.base) for p in existing]
    targets += [p for p in (trees.patched / t for t in trees.new_tests) if not _under(p, targets)]
    try:
        before = _run(trees, trees.base, existing)
    except ToolTimeout as e:
        return step("tests", "not_run", f"without the patch: {e}", "could not run")
    runs.append(before)
    try:
        after = _run(trees, trees.patched, targets)
    except ToolTimeout as e:
        return step("tests", "failed", f"with the patch: {e} (without it they finish)")
    runs.append(after)
    if not after.outcomes:
        return step("tests", "not_run", f"pytest ran no test (exit code {after.exit_code}): "
                    f"{after.output}", "could not run")  # fmt: skip
    broken = broken_tests(before.outcomes, after.outcomes)
    new = {t: [o for o in after.outcomes if belongs_to(o, t)] for t in trees.new_tests}
    bad_new = [
        f"{t}: " + (_listing(found) if found else "not collected")
        for t, found in new.items()
        if not found or any(o.status != "passed" for o in found)
    ]
    if broken or bad_new:
        said = []
        if broken:
            said.append(f"{plural(len(broken), 'test')} passed without the patch and not with "
                        "it: " + "; ".join(broken))  # fmt: skip
        if bad_new:
            said.append("new tests that do not pass: " + "; ".join(bad_new))
        return step("tests", "failed", " / ".join(said) + f"\n{after.output}")
    if not any(o.status == "passed" for o in after.outcomes):
        nothing = f"no test passes, so the run proves nothing: {_passed_detail(before, after, 0)}"
        return step("tests", "not_run", nothing, "could not run")
    return step("tests", "passed", _passed_detail(before, after, sum(map(len, new.values()))))


def check_before_after(trees: Trees) -> Step:
    """The fix's own test on the unpatched copy (with just that file added) and on the patched
    one; both outcomes are kept. It must pass after; failing before is what shows it tests the
    fix, so that is recorded, not required."""
    test = trees.before_after_test or ""
    if not trees.options.run_target_tests:
        return step("before/after", "not_run", TESTS_OFF, "not allowed")
    text = trees.patch.new_texts.get(test)
    if text is None or not (trees.patched / test).is_file():
        return step("before/after", "not_run", f"{test} is not a file the patch adds",
                    "could not run")  # fmt: skip
    (trees.base / test).parent.mkdir(parents=True, exist_ok=True)
    (trees.base / test).write_text(text, encoding="utf-8")  # the last step: base is not reused
    outcomes: dict[str, str] = {}
    runs: dict[str, TestRun | None] = {}
    for when, tree in (("before", trees.base), ("after", trees.patched)):
        try:
            run = _run(trees, tree, [tree / test])
        except ToolTimeout:
            runs[when], outcomes[when] = None, "timed out"
        else:
            runs[when], outcomes[when] = run, outcome_of(run)
    trees.before_after = _record(test, outcomes, runs)
    shown = trees.before_after["failed_before_passed_after"]
    if outcomes["after"] != "passed":
        tail = runs["after"].output if runs["after"] is not None else ""
        return step("before/after", "failed", f"{test} {outcomes['after']} with the fix\n{tail}")
    said = f"{test} {outcomes['before']} without the fix and passed with it"
    return step("before/after", "passed", said if shown else f"{said}: it does not tell them apart")


def broken_tests(before: Sequence[TestOutcome], after: Sequence[TestOutcome]) -> list[str]:
    """Tests that passed before and failed, erred or were gone after."""
    now = {(o.classname, o.name): o for o in after}
    broken = []
    for o in before:
        if o.status != "passed":
            continue
        found = now.get((o.classname, o.name))
        if found is None:
            broken.append(f"{_name(o)} (no longer collected)")
        elif found.status in NOT_PASSING:
            broken.append(f"{_name(o)} ({found.status}: {found.detail})")
    return broken


def belongs_to(outcome: TestOutcome, test_file: str) -> bool:
    """Whether a junit case comes from ``test_file`` (its node id's path, dotted, is the
    classname's start; a module that failed to collect is named by its dotted path)."""
    module = test_file.removesuffix(".py").replace("/", ".")
    return (outcome.classname == module or outcome.classname.startswith(module + ".")
            or outcome.name in (module, test_file))  # fmt: skip


def outcome_of(run: TestRun) -> str:
    if not run.outcomes:
        return "collected no test"
    if any(o.status in NOT_PASSING for o in run.outcomes):
        return "failed"
    return "passed" if all(o.status == "passed" for o in run.outcomes) else "skipped"


def _run(trees: Trees, tree: Path, tests: list[Path]) -> TestRun:
    return testrun.run_tests(
        tests, source_root=tree, timeout_s=trees.options.tool_timeout_s,
        memory_mb=trees.options.tool_memory_mb, extra_args=EXTRA_ARGS,
        cache_dir=trees.test_cache_dir,
    )  # fmt: skip


def _record(test: str, outcomes: dict[str, str], runs: dict[str, TestRun | None]) -> dict[str, Any]:
    def summary(run: TestRun | None) -> dict[str, int]:
        return run.summary() if run is not None else {}

    return {
        "test": test,
        "before": {"outcome": outcomes["before"], "tests": summary(runs["before"])},
        "after": {"outcome": outcomes["after"], "tests": summary(runs["after"])},
        "failed_before_passed_after": outcomes["before"] == "failed"
        and outcomes["after"] == "passed",
    }


def _passed_detail(before: TestRun, after: TestRun, new: int) -> str:
    counts = after.summary()
    failing_before = sum(1 for o in before.outcomes if o.status in NOT_PASSING)
    return (
        f"{counts['passed']} of {counts['total']} tests passed on the patched copy, no test that "
        f"passed without the patch fails with it"
        + (f"; {failing_before} failed without it too" if failing_before else "")
        + (f"; {plural(new, 'new test')} passed" if new else "")
    )


def _under(path: Path, folders: list[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def _listing(outcomes: list[TestOutcome]) -> str:
    """The outcomes that are not a pass, with their reason."""
    return ", ".join(f"{_name(o)} {o.status}" + (f" ({o.detail})" if o.detail else "")
                     for o in outcomes if o.status != "passed")  # fmt: skip


def _name(outcome: TestOutcome) -> str:
    return f"{outcome.classname}::{outcome.name}" if outcome.classname else outcome.name
