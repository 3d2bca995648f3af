"""Where the implementation worker's work comes from: the peers' newest passes at the target's
commit, turned into ranked :class:`WorkItem` s.

- Findings of the Security Audit, Dependency Analysis and Code Quality Analysis that a fixer
  family handles (:func:`fixers.handles`): a finding no fixer can change is not work.
- Test specs of every test planning perspective whose test passed or was not run (a failing or
  blocked test is not worth adding to a team's tree) and is not in the target's tests yet. Specs
  of several perspectives with the same test (same syntax tree) are one item answering them all.

Only passes made at the target's current commit count (:func:`autocoder.store.peers.latest_pass`):
a finding from another commit may point at code that is not there any more.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from autocoder.engine.perspective import RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.schema import FINDINGS, SPECS, FindingRow, Severity, SpecRow, severity_rank
from autocoder.store.peers import latest_pass
from autocoder.store.reader import latest_per_perspective
from autocoder.workers.implementation import context, fixers
from autocoder.workers.implementation.fixers.test_files import normalised_tests
from autocoder.workers.implementation.workitem import ItemKind, WorkItem, item_id

ANALYSIS = "autocoder-analysis-results"
TEST_PLANNING = "autocoder-test-planning-results"
FINDING_SOURCES = ("Security Audit", "Dependency Analysis", "Code Quality Analysis")
DEPENDENCY_TOOL = "deptry"
SPEC_STATUSES = ("passed", "not_run")  # a spec whose test failed or could not run is not taken
# A missing test is worth less than a defect of the same rank: P1 ranks with medium findings.
SPEC_SEVERITY: dict[int, Severity] = {1: "medium", 2: "low", 3: "info", 4: "info", 5: "info"}
KIND_ORDER = {"finding": 0, "dependency": 1, "spec": 2, "task": 3}  # "task": one no finding serves

InTree = Callable[[SourceFiles, str], bool]  # is this test code already in the target's tests?


@dataclass
class Pool:
    """The items at one commit, best first, and what each source gave or why it gave nothing."""

    items: list[WorkItem] = field(default_factory=list)
    read: dict[str, str] = field(default_factory=dict)  # "Security Audit" -> "iteration 7: ..."

    def why_empty(self) -> str:
        return "; ".join(f"{source}: {said}" for source, said in self.read.items())


def collect(ctx: RunContext, in_tree: InTree) -> Pool:
    """Every item the peers' passes at ``ctx.commit`` offer, ranked by :func:`rank`."""
    pool = Pool()
    found: dict[str, WorkItem] = {}
    for source in FINDING_SOURCES:
        passed = latest_pass(ctx.peers(ANALYSIS), source, FINDINGS, ctx.commit, where=ANALYSIS)
        if isinstance(passed, str):
            pool.read[source] = passed
            continue
        items = [from_finding(row) for row in passed.rows_as(FindingRow)]
        handled = [item for item in items if fixers.handles(item)]
        found.update((item.id, item) for item in handled)
        pool.read[source] = (
            f"iteration {passed.iteration}: {len(handled)} of {len(items)} findings are of a "
            "kind a fixer handles"
        )
    found.update((item.id, item) for item in _spec_items(ctx, in_tree, pool.read))
    reach = context.fan_in(ctx.sources, ctx.cache)
    with_reach = [i.model_copy(update={"fan_in": reach.get(i.file, 0)}) for i in found.values()]
    pool.items = sorted(with_reach, key=rank)
    return pool


def _spec_items(ctx: RunContext, in_tree: InTree, read: dict[str, str]) -> list[WorkItem]:
    peer = ctx.peers(TEST_PLANNING)
    if peer is None:
        read["test planning"] = f"no {TEST_PLANNING} dataset"
        return []
    out: list[WorkItem] = []
    for source in sorted(latest_per_perspective(peer)):
        passed = latest_pass(peer, source, SPECS, ctx.commit, where=TEST_PLANNING)
        if isinstance(passed, str):
            read[source] = passed
            continue
        specs = passed.rows_as(SpecRow)
        usable = [s for s in specs if s.status in SPEC_STATUSES]
        new = [s for s in usable if not in_tree(ctx.sources, s.test_code)]
        if specs:
            read[source] = (
                f"iteration {passed.iteration}: {len(new)} of {len(specs)} specs to write "
                f"({len(specs) - len(usable)} failed or blocked, {len(usable) - len(new)} "
                "already in the tests)"
            )
        out.extend(from_spec(s) for s in new)
    return distinct_tests(out)


def distinct_tests(specs: list[WorkItem]) -> list[WorkItem]:
    """One item per test: specs whose tests have the same syntax tree (two perspectives that
    wrote the same test) become the best-ranked one, answering every spec id."""
    by_test: dict[frozenset[str], list[WorkItem]] = {}
    for item in specs:
        by_test.setdefault(_test_key(item.test_code), []).append(item)
    out = []
    for same in by_test.values():
        best, *rest = sorted(same, key=rank)
        ids = [*best.spec_ids, *(i for other in rest for i in other.spec_ids)]
        out.append(best.model_copy(update={"spec_ids": ids}) if rest else best)
    return out


def _test_key(test_code: str) -> frozenset[str]:
    try:
        return normalised_tests(ast.parse(test_code)) or frozenset({test_code.strip()})
    except (SyntaxError, ValueError):
        return frozenset({test_code.strip()})


def from_finding(row: FindingRow) -> WorkItem:
    kind: ItemKind = "dependency" if row.tool == DEPENDENCY_TOOL else "finding"
    return WorkItem(
        id=item_id(kind, row.fingerprint), kind=kind, source=row.perspective_name, tool=row.tool,
        rule=row.rule, severity=row.severity, file=row.file, line=row.line, message=row.message,
        fingerprints=[row.fingerprint],
    )  # fmt: skip


def from_spec(row: SpecRow) -> WorkItem:
    return WorkItem(
        id=item_id("spec", row.id), kind="spec", source=row.perspective_name,
        tool="test-planning", rule=row.kind, severity=SPEC_SEVERITY[row.priority], file=row.file,
        line=row.line, message=row.rationale, spec_ids=[row.id], subject=row.subject,
        test_code=row.test_code, priority=row.priority, spec_status=row.status,
    )  # fmt: skip


def rank(item: WorkItem) -> tuple[bool, int, int, int, int, str, int]:
    """Worst first: a test nobody has run yet after everything else (it may fail or always skip);
    then severity, then a defect before a declaration before a missing test, then the spec's
    priority, then the code's fan-in (a module many others import first); ties by place, so the
    order is the same on every run. (A team's tasks come before all of these: see taskboard.)"""
    never_ran = item.kind == "spec" and item.spec_status == "not_run"
    return (never_ran, severity_rank(item.severity), KIND_ORDER[item.kind], item.priority,
            -item.fan_in, item.file, item.line)  # fmt: skip


def specs_for(ctx: RunContext, subject: str) -> list[SpecRow]:
    """The test planning specs at ``ctx.commit`` whose subject is ``subject`` and whose test
    passed or was not run, best priority first."""
    peer = ctx.peers(TEST_PLANNING)
    if peer is None:
        return []
    found: list[SpecRow] = []
    for source in sorted(latest_per_perspective(peer)):
        passed = latest_pass(peer, source, SPECS, ctx.commit, where=TEST_PLANNING)
        if not isinstance(passed, str):
            found += [s for s in passed.rows_as(SpecRow)
                      if s.subject == subject and s.status in SPEC_STATUSES]  # fmt: skip
    return sorted(found, key=lambda s: (s.priority, s.id))
