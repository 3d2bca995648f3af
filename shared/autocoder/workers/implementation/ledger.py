"""Which items the worker took, at which commit, and which it retired: Deep Understanding's state.

An item is taken at most once per target commit. At a new commit, an item taken before whose
finding the peers no longer report is retired: the code it pointed at changed, so there is
nothing left to answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KEPT = 5000  # ids remembered per list; the oldest go first


@dataclass
class Ledger:
    taken: dict[str, str | None] = field(default_factory=dict)  # item id -> commit taken at
    unfixable: dict[str, str | None] = field(default_factory=dict)  # id -> commit no fix was made
    retired: list[str] = field(default_factory=list)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Ledger:
        return cls(
            dict(state.get("taken", {})),
            dict(state.get("unfixable", {})),
            list(state.get("retired", [])),
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "taken": dict(list(self.taken.items())[-KEPT:]),
            "unfixable": dict(list(self.unfixable.items())[-KEPT:]),
            "retired": self.retired[-KEPT:],
        }

    def done_at(self, item_id: str, commit: str | None) -> bool:
        """Taken, or found unfixable, at this commit already."""
        return any(
            item_id in seen and seen[item_id] == commit for seen in (self.taken, self.unfixable)
        )

    def retire_gone(self, present: set[str], commit: str | None) -> list[str]:
        """Retire the items taken at another commit that the peers no longer report; return them."""
        gone = [i for i, at in self.taken.items() if at != commit and i not in present]
        for item in gone:
            del self.taken[item]
            self.retired.append(item)
        return gone
