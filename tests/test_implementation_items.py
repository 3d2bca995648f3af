"""What the implementation worker takes on: which fixes an item may get, the order items are
taken in, and the ledger that keeps an item from being taken twice at a commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import RunOptions
from autocoder.schema import Severity
from autocoder.workers.implementation import fixers, items
from autocoder.workers.implementation.ledger import Ledger
from autocoder.workers.implementation.workitem import WorkItem, item_id

UNSAFE_ONLY = "def f(x):\n    return x == None\n"  # E711: ruff's fix is unsafe (__eq__)


def _item(severity: Severity, *, kind: str = "finding", priority: int = 3,
          tool: str = "ruff", rule: str = "E711", line: int = 2) -> WorkItem:  # fmt: skip
    return WorkItem(
        id=item_id("finding", f"{severity}{kind}{rule}{line}"), kind=kind,  # type: ignore[arg-type]
        source="Code Quality Analysis", tool=tool, rule=rule, severity=severity,
        file="pkg/mod.py", line=line, message=f"{rule}: flagged", priority=priority,
    )  # fmt: skip


@pytest.mark.parametrize(("severity", "offered"), [("medium", 1), ("low", 0)])
def test_a_style_finding_below_medium_gets_no_unsafe_fix(
    tmp_path: Path, severity: Severity, offered: int
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(UNSAFE_ONLY)
    fixes, why = fixers.fixes_for(_item(severity), tmp_path, RunOptions())
    assert len(fixes) == offered
    assert ("only an unsafe fix" in why) == (offered == 0)


def test_items_are_taken_worst_first_and_a_missing_test_after_a_defect_of_its_rank() -> None:
    spec = _item("medium", kind="spec", priority=1, tool="test-planning", rule="unit")
    found = [_item("low"), spec, _item("medium", line=9), _item("high", line=5)]
    ranked = sorted(found, key=items.rank)
    assert [(i.severity, i.kind) for i in ranked] == [
        ("high", "finding"), ("medium", "finding"), ("medium", "spec"), ("low", "finding"),
    ]  # fmt: skip


def test_an_item_is_done_once_per_commit_and_retired_when_its_finding_is_gone() -> None:
    ledger = Ledger()
    ledger.taken["item-a"] = "c1"
    ledger.taken["item-b"] = "c1"
    assert ledger.done_at("item-a", "c1") and not ledger.done_at("item-a", "c2")
    assert ledger.retire_gone({"item-b"}, "c2") == ["item-a"]
    assert Ledger.from_state(ledger.to_state()).retired == ["item-a"]
    assert ledger.retire_gone(set(), "c1") == []  # taken at this very commit: not gone yet


def test_among_equals_the_item_in_code_more_modules_import_comes_first() -> None:
    leaf = _item("medium", line=1).model_copy(update={"fan_in": 0})
    hub = _item("medium", line=2).model_copy(update={"fan_in": 7})
    assert sorted([leaf, hub], key=items.rank) == [hub, leaf]


def _spec(perspective: str, test_code: str, priority: int = 2, status: str = "passed") -> WorkItem:
    return WorkItem(
        id=item_id("spec", perspective), kind="spec", source=perspective, tool="test-planning",
        rule="unit", severity="low", file="pkg/mod.py", line=1, message="m",
        spec_ids=[f"spec-{perspective}"], test_code=test_code, priority=priority,
        spec_status=status,
    )  # fmt: skip


def test_two_perspectives_writing_the_same_test_give_one_item_answering_both() -> None:
    same = "def test_f():\n    assert f(1) == 2\n"
    reformatted = "def test_f():\n    assert f(1)==2  # same tree\n"
    found = items.distinct_tests([_spec("Edge Cases", same, priority=3),
                                  _spec("Failure Modes", reformatted, priority=1),
                                  _spec("Other", "def test_g():\n    assert g()\n")])  # fmt: skip
    assert [(i.source, i.spec_ids) for i in found] == [
        ("Failure Modes", ["spec-Failure Modes", "spec-Edge Cases"]),
        ("Other", ["spec-Other"]),
    ]


def test_a_test_nobody_has_run_comes_after_every_fix() -> None:
    never_ran = _spec("Edge Cases", "def test_f():\n    assert f()\n", priority=1, status="not_run")
    ran = _spec("Failure Modes", "def test_g():\n    assert g()\n", priority=1)
    ranked = sorted([never_ran, _item("low"), ran], key=items.rank)
    assert [i.id for i in ranked] == [_item("low").id, ran.id, never_ran.id]
