"""What one iteration of a worker hands on to the next, whatever perspective runs next: the way
a worker whose perspectives are stages (plan, then design, then patch...) passes conclusions on.

- A perspective hands on :attr:`PerspectiveResult.handoff`; the next iteration of the same worker
  reads it as :attr:`RunContext.handoff`, with :attr:`RunContext.handoff_from` naming the
  perspective that handed it on.
- Only an ``ok`` iteration hands on: its handoff replaces the last one, an empty one included
  (it concluded nothing to pass on). An ``error`` or ``skipped`` iteration hands on nothing new:
  the last successful handoff stays, so a stage that fails does not erase what the stage before
  it concluded, and the stage after it can tell from ``handoff_from`` that it was not its own
  predecessor.
- A handoff is plain JSON that survives a round trip unchanged (objects with string keys, lists,
  strings, finite numbers, booleans, None) and at most :data:`MAX_HANDOFF_BYTES`, so the next
  iteration reads the same thing with or without a restart in between. Anything else (a tuple, a
  set, a Path, an int key, NaN) is refused with a ConfigError naming the perspective, and that
  iteration becomes an error record.
- It is kept in the store's state under ``"handoff"``, next to the insights and the perspectives'
  own states, with the handoff before it: after a crash between writing the state and the record,
  the iteration whose record is missing runs again and gets the handoff it got the first time.
  The state is redacted like every write, so a handoff holds no secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from autocoder.errors import ConfigError

STATE_KEY = "handoff"  # where the worker's state keeps it
MAX_HANDOFF_BYTES = 1_000_000  # the state is written, and pushed, after every iteration


@dataclass(frozen=True)
class Handoff:
    """What one iteration handed on, and which one: iteration 0 means nothing yet."""

    data: dict[str, Any] = field(default_factory=dict)
    iteration: int = 0
    perspective_id: str | None = None

    def to_state(self) -> dict[str, Any]:
        return {"iteration": self.iteration, "perspective_id": self.perspective_id,
                "data": self.data}  # fmt: skip

    @classmethod
    def from_state(cls, state: Any) -> Handoff:
        if not isinstance(state, dict) or not isinstance(state.get("data"), dict):
            return cls()
        return cls(dict(state["data"]), int(state.get("iteration", 0)), state.get("perspective_id"))


@dataclass(frozen=True)
class Handoffs:
    """The current handoff and the one before it, as the worker's state keeps them."""

    current: Handoff = field(default_factory=Handoff)
    previous: Handoff = field(default_factory=Handoff)

    @classmethod
    def restore(cls, state: dict[str, Any], stored_iteration: int) -> Handoffs:
        """From the worker's state, given the last iteration whose record was stored: a handoff
        from a later iteration (its record never landed, so it runs again) is set aside."""
        saved = state.get(STATE_KEY)
        current = Handoff.from_state(saved)
        previous = Handoff.from_state(saved.get("previous") if isinstance(saved, dict) else None)
        if current.iteration > stored_iteration:
            return cls(previous, Handoff())
        return cls(current, previous)

    def advanced(self, iteration: int, perspective_id: str, data: dict[str, Any]) -> Handoffs:
        """After an ok iteration: its handoff is current, the one it read is kept before it."""
        return Handoffs(Handoff(data, iteration, perspective_id), self.current)

    def to_state(self) -> dict[str, Any]:
        return {**self.current.to_state(), "previous": self.previous.to_state()}


def checked(perspective_name: str, data: Any) -> dict[str, Any]:
    """``data`` as the next iteration will read it (a copy), or ConfigError saying what is wrong."""
    fix = (
        "hand on only JSON: dicts with string keys, lists, strings, finite numbers, booleans "
        "and None"
    )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{perspective_name} handed on a {type(data).__name__}, not a dict; {fix}"
        )
    try:
        text = json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ConfigError(
            f"{perspective_name} handed on something that is not JSON ({e}); {fix}"
        ) from None
    copy: dict[str, Any] = json.loads(text)
    if copy != data:
        raise ConfigError(
            f"{perspective_name} handed on values that JSON changes (a tuple, or a key that is "
            f"not a string) and the next iteration would read them differently; {fix}"
        )
    if len(text.encode()) > MAX_HANDOFF_BYTES:
        raise ConfigError(
            f"{perspective_name} handed on {len(text.encode())} bytes, more than "
            f"{MAX_HANDOFF_BYTES}; hand on conclusions, and keep bulky data in the result cache"
        )
    return copy
