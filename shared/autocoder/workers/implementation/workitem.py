"""What the implementation worker takes on: one work item, from a peer's finding or spec.

An item is plain, frozen data that survives the stage handoff as JSON (``model_dump(mode="json")``
and back with ``WorkItem.model_validate``). Its ``id`` depends only on what it answers (the
finding's fingerprint, or the spec's id), never on a line number or a commit, so the same defect
keeps its id while unrelated code moves, and a branch ``autocoder/<id>`` stays the same.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autocoder.schema import Severity

ItemKind = Literal["finding", "dependency", "spec", "task"]


class WorkItem(BaseModel):
    """One thing to change: a finding a fixer can fix, a dependency declaration, a spec's test
    that is not yet in the target's test tree, or a team's task (``task_id``; one served by a
    finding keeps the finding's kind, tool and rule, so the same fixers serve it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="item-<16 hex>: stable across commits and restarts")
    kind: ItemKind
    source: str = Field(description="the peer perspective that raised it: 'Security Audit'")
    tool: str = Field(description="'bandit', 'ruff', 'deptry', 'autocoder-web', 'test-planning'")
    rule: str = Field(description="'B113', 'F401', 'DEP002'; a spec's kind for a spec")
    severity: Severity
    file: str = Field(description="repo-relative file of the evidence")
    line: int = Field(ge=0)
    message: str
    fingerprints: list[str] = Field(default_factory=list, description="findings it answers")
    spec_ids: list[str] = Field(default_factory=list, description="specs it answers")
    subject: str = Field(default="", description="a spec's module:qualname")
    test_code: str = Field(default="", description="a spec's pytest code")
    spec_status: str = Field(default="", description="a spec's test run: 'passed', 'not_run'")
    priority: int = Field(default=3, ge=1, le=5, description="1 = do first")
    fan_in: int = Field(default=0, ge=0, description="first-party modules importing the file")
    task_id: str = Field(default="", description="the task it serves, if a team asked for it")


def item_id(kind: ItemKind, answers: str) -> str:
    """The stable id of the item answering ``answers`` (a fingerprint or a spec id)."""
    return "item-" + hashlib.sha256(f"{kind}\0{answers}".encode()).hexdigest()[:16]
