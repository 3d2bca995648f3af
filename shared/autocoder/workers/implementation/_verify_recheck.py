"""The checks that run the perspective that raised the item again: on the patched copy its
finding is gone, and it reports no critical or high finding the unpatched copy did not have.
For a spec's test (no finding): the test file is in the copy and pytest collects it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from autocoder.engine import testrun
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import ToolError, ToolTimeout
from autocoder.schema import Finding
from autocoder.workers.implementation._verify_steps import TESTS_OFF, Step, Trees, step
from autocoder.workers.implementation.wording import plural

HIGH = ("critical", "high")


def check_finding_gone(trees: Trees) -> Step:
    if trees.item.kind == "task":
        return step("finding gone", "not_run", "a task's change answers no finding",
                    "not applicable")  # fmt: skip
    if not trees.item.fingerprints:
        return _spec_test_collects(trees)
    if trees.recheck is None:
        why = f"no worker has the perspective '{trees.item.source}' that raised it, to run again"
        return step("finding gone", "not_run", why, "could not run")
    try:
        trees.findings_after = findings_on(trees, trees.patched)
    except Exception as e:  # whatever it raised: the check could not run
        return step("finding gone", "not_run", _could_not(trees, e), "could not run")
    still = [f for f in trees.findings_after if f.fingerprint in set(trees.item.fingerprints)]
    if still and not _one_of_identical_lines_fixed(trees):
        return step("finding gone", "failed", f"{trees.recheck.name} still reports "
                    + "; ".join(map(_named, still)))  # fmt: skip
    item = trees.item
    return step("finding gone", "passed", f"{trees.recheck.name} run again on the patched copy "
                f"no longer reports {item.tool}/{item.rule} at {item.file}:{item.line} "
                f"({plural(len(item.fingerprints), 'fingerprint')} gone)")  # fmt: skip


def base_fingerprint(fingerprint: str) -> str:
    """The fingerprint without the ``-N`` that tells identical lines apart (their order in the
    file): fixing the first of three identical lines renames the other two, so the item's own
    fingerprint is still reported, by the line that was second."""
    head, _, tail = fingerprint.rpartition("-")
    return head if head and tail.isdigit() else fingerprint


def _one_of_identical_lines_fixed(trees: Trees) -> bool:
    """Whether, for each of the item's fingerprints, fewer findings share its base after the
    patch than before: the flagged line was one of several identical ones, and it is fixed."""
    assert trees.findings_after is not None
    before = Counter(base_fingerprint(f.fingerprint) for f in findings_on(trees, trees.base))
    after = Counter(base_fingerprint(f.fingerprint) for f in trees.findings_after)
    wanted = Counter(base_fingerprint(f) for f in trees.item.fingerprints)
    return all(after[b] <= before[b] - n for b, n in wanted.items())


def check_no_new_high(trees: Trees) -> Step:
    """New: in a (tool, rule, file) group at critical or high that has more findings after the
    patch than before, those whose fingerprint is new. So a finding whose line the patch edited
    (a new fingerprint, the same count) is not counted, while a second one in the file is."""
    if trees.recheck is not None and trees.findings_after is None and trees.item.kind == "task":
        try:  # a task's change answers no finding: the audit runs here for the first time
            trees.findings_after = findings_on(trees, trees.patched)
        except Exception as e:  # whatever it raised: the check could not run
            return step("no new high", "not_run", _could_not(trees, e), "could not run")
    if trees.recheck is None or trees.findings_after is None:
        if not trees.item.fingerprints:
            return step("no new high", "not_run", "a test-only patch that no perspective raised: "
                        "nothing to run again", "not applicable")  # fmt: skip
        return step("no new high", "not_run", "no perspective to run again", "could not run")
    try:
        before = findings_on(trees, trees.base)
    except Exception as e:  # whatever it raised: the check could not run
        return step("no new high", "not_run", _could_not(trees, e), "could not run")
    new = new_high(before, trees.findings_after)
    if new:
        return step("no new high", "failed", f"{trees.recheck.name} reports "
                    f"{plural(len(new), 'new finding')} at critical or high: "
                    + "; ".join(map(_named, new)))  # fmt: skip
    high = sum(1 for f in trees.findings_after if f.severity in HIGH)
    return step("no new high", "passed", f"{trees.recheck.name}: no new critical or high finding "
                f"({high} at critical or high on the patched copy, all there before)")  # fmt: skip


def new_high(before: list[Finding], after: list[Finding]) -> list[Finding]:
    def group(f: Finding) -> tuple[str, str, str]:
        return (f.tool, f.rule, f.file)

    counted_before = Counter(group(f) for f in before if f.severity in HIGH)
    counted_after = Counter(group(f) for f in after if f.severity in HIGH)
    known = {f.fingerprint for f in before}
    grown = {g for g, n in counted_after.items() if n > counted_before[g]}
    return [f for f in after if group(f) in grown and f.fingerprint not in known]


def findings_on(trees: Trees, tree: Path) -> list[Finding]:
    """The perspective's findings on ``tree``, run as on a target of its own (the cache keeps
    what it found in files the patch left alone)."""
    assert trees.recheck is not None
    sources = SourceFiles.discover(tree, max_file_bytes=trees.options.max_file_bytes,
                                   cache=trees.cache)  # fmt: skip
    ctx = RunContext(root=tree, commit=None, sources=sources, cache=trees.cache,
                     options=trees.options)  # fmt: skip
    return list(trees.recheck.run(ctx).findings)


def _spec_test_collects(trees: Trees) -> Step:
    """A spec's test: in the patched copy, and (only when the target's code may run, as
    collecting imports the module under test) collected by pytest."""
    tests = list(trees.new_tests) or [f for f in trees.patch.files if is_test_file(f)]
    missing = [t for t in tests if not (trees.patched / t).is_file()]
    if not tests or missing:
        return step("finding gone", "failed", "the patch adds no test file"
                    if not tests else f"{', '.join(missing)} not in the patched copy")  # fmt: skip
    if not trees.options.run_target_tests:
        why = f"{', '.join(tests)} is in the patched copy; collecting it imports the target's code"
        return step("finding gone", "not_run", f"{why}: {TESTS_OFF}", "not allowed")
    try:
        run = testrun.run_tests(
            [trees.patched / t for t in tests], source_root=trees.patched, collect_only=True,
            timeout_s=trees.options.tool_timeout_s, memory_mb=trees.options.tool_memory_mb,
            cache_dir=trees.test_cache_dir,
        )  # fmt: skip
    except ToolTimeout as e:
        return step("finding gone", "failed", f"collecting {', '.join(tests)}: {e}")
    if run.exit_code != 0 or run.collected == 0:
        return step("finding gone", "failed", f"pytest does not collect {', '.join(tests)} "
                    f"(exit code {run.exit_code}): {run.output}")  # fmt: skip
    return step("finding gone", "passed", f"pytest collects {plural(run.collected, 'test')} from "
                f"{', '.join(tests)} in the patched copy")  # fmt: skip


def _could_not(trees: Trees, error: Exception) -> str:
    name = trees.recheck.name if trees.recheck is not None else trees.item.source
    kind = "" if isinstance(error, ToolError) else f"{type(error).__name__}: "
    said = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{name} could not run on the patched copy: {kind}{said}"


def _named(finding: Finding) -> str:
    return (f"{finding.tool}/{finding.rule} at {finding.file}:{finding.line} "
            f"({finding.severity}): {finding.message[:160]}")  # fmt: skip
