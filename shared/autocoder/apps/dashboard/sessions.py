"""What the dashboard keeps per visitor: a bounded number of sessions, each holding shared values.

Gradio keeps a ``SessionState`` for every session hash that ever called an event: a copy of
every component's config plus the last value of every output (for deep links), up to
``Blocks.state_session_capacity`` sessions (10,000 by default), and it does not drop them when
a tab closes. A dashboard tab took about 140 KB that way, and anonymous visitors are free.

So the page bounds the number of sessions (``AUTOCODER_DASHBOARD_SESSIONS``; the oldest is
dropped first, and a tab whose session was dropped simply gets the whole page again at its next
tick), and its events hand every session the *same* already postprocessed output objects
(:class:`SharedOutputs`, with the listener's ``postprocess=False``): Gradio stores them by
reference, so a session costs Gradio's own config copy and a few pointers, not a copy of the
findings table and the charts.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import gradio as gr
from gradio.data_classes import GradioModel, GradioRootModel

# AUTOCODER_DASHBOARD_SESSIONS: about 100 KB each, plus the findings table a closed tab last got
DEFAULT_SESSIONS = 128
SHARED_ENTRIES = 32  # renders kept per snapshot (one per filter combination and tab state)


def bound_sessions(blocks: gr.Blocks, capacity: int) -> None:
    """Keep at most ``capacity`` sessions (read by Gradio when the Blocks are mounted)."""
    blocks.state_session_capacity = capacity


def postprocessed(component: gr.components.Component, value: Any) -> Any:
    """``value`` as Gradio sends it for ``component``; updates and states pass unchanged."""
    is_update = isinstance(value, dict) and "update" in value.get("__type__", "")
    if component.stateful or is_update or isinstance(value, gr.components.Component):
        return value  # a state, gr.skip(), or a component update such as gr.Dropdown(...)
    postprocess: Callable[[Any], Any] = component.postprocess
    result = postprocess(value)
    if isinstance(result, GradioModel | GradioRootModel):
        return result.model_dump()
    return result


class SharedOutputs:
    """One event's postprocessed outputs, computed once per snapshot and key for every session.

    ``await get(generation, key, make)`` returns the outputs cached for ``key`` while
    ``generation`` (the snapshot they were made from) is the same object as last time; a new
    generation drops the old entries. At most ``size`` keys are kept (the least recently used
    goes first).
    """

    def __init__(
        self, components: Sequence[gr.components.Component], size: int = SHARED_ENTRIES
    ) -> None:
        self.components, self.size = tuple(components), size
        self._generation: object | None = None
        self._entries: OrderedDict[Hashable, tuple[Any, ...]] = OrderedDict()

    async def get(
        self, generation: object, key: Hashable, make: Callable[[], Sequence[Any]]
    ) -> tuple[Any, ...]:
        if generation is not self._generation:
            self._generation, self._entries = generation, OrderedDict()
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
            return cached
        made = await asyncio.to_thread(self._make, make)  # charts turn to JSON: off the loop
        if generation is self._generation:
            self._entries[key] = made
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return made

    def _make(self, make: Callable[[], Sequence[Any]]) -> tuple[Any, ...]:
        pairs = zip(self.components, make(), strict=True)
        return tuple(postprocessed(component, value) for component, value in pairs)
