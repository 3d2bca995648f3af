"""What a perspective is, what it gets, what it returns, and the registry that holds them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from autocoder.engine.cache import ResultCache
from autocoder.engine.sources import SourceFiles
from autocoder.errors import ConfigError
from autocoder.schema import Finding
from autocoder.store.reader import DatasetReader


@dataclass(frozen=True)
class RunOptions:
    """Switches that change what a perspective is allowed to do."""

    run_target_tests: bool = False  # executes the target's code: off unless asked for
    network: bool = True  # e.g. pip-audit; when False the part says "skipped: no network"
    tool_timeout_s: float = 600.0
    tool_memory_mb: int = 4096  # address-space limit of each subprocess (analysers, tests, git)
    max_file_bytes: int = 1_000_000  # larger target files are skipped, with the reason


class ModelAsk(Protocol):
    """The optional language model as a perspective sees it: its name, and one call."""

    name: str

    def __call__(self, system: str, user: str, max_tokens: int) -> Any: ...


@dataclass(frozen=True)
class RunContext:
    """Everything a perspective may look at for one run."""

    root: Path  # the checkout being analysed
    commit: str | None
    sources: SourceFiles
    cache: ResultCache
    options: RunOptions = field(default_factory=RunOptions)
    # The perspective's own state from its previous run (e.g. an API snapshot), from the store.
    previous_state: dict[str, Any] = field(default_factory=dict)
    # This worker's own dataset (records and extra configs written so far), or None.
    reader: DatasetReader | None = None
    # Another worker's dataset by name (e.g. "autocoder-analysis-results"), or None when absent.
    peers: Callable[[str], DatasetReader | None] = lambda _name: None
    # What the last successful iteration of this worker handed on, whatever its perspective, and
    # that perspective's id (None when nothing was handed on yet): see :mod:`.handoff`.
    handoff: dict[str, Any] = field(default_factory=dict)
    handoff_from: str | None = None
    # Another worker's perspective by display name ("Security Audit"), or None: to run it again,
    # e.g. on a patched scratch copy, without this worker importing the other's package.
    perspective_of: Callable[[str], Perspective | None] = lambda _name: None
    # Hands a checked patch (an ``autocoder.publish.Publishable``) and the checkout it was made
    # on to the publisher the service set up, which returns a ``Published`` or raises a
    # PublishError; None when publishing is off. Typed loosely: publishing sits above the engine.
    publish: Callable[[Any, Path], Any] | None = None
    # Asks the optional language model ``(system, user, max_tokens)`` for an
    # ``autocoder.llm.Completion``, within the daily token budget; raises LLMError. None: no
    # model is configured and the stages stay deterministic.
    ask_model: ModelAsk | None = None


@dataclass
class PerspectiveResult:
    """What one run found. ``findings`` is complete; the record keeps the top ones and totals."""

    summary: str
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # small, perspective-specific
    skipped: dict[str, str] = field(default_factory=dict)  # part -> reason ("skipped: no network")
    tools: dict[str, str] = field(default_factory=dict)  # tool -> version used
    state: dict[str, Any] = field(default_factory=dict)  # handed back as previous_state next run
    items: list[BaseModel] = field(default_factory=list)  # e.g. test specs, for an extra config
    handoff: dict[str, Any] = field(default_factory=dict)  # the next iteration's ctx.handoff (JSON)


class Perspective(Protocol):
    """One way of looking at the target. ``run`` is blocking; the engine runs it off the loop."""

    id: ClassVar[str]  # slug, e.g. "code_quality"
    name: ClassVar[str]  # display name, e.g. "Code Quality Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult: ...


class Registry:
    """The perspectives of one worker, in rotation order. Refuses duplicates at start-up."""

    def __init__(self, perspectives: Iterable[Perspective]) -> None:
        self._items: list[Perspective] = []
        for perspective in perspectives:
            self._add(perspective)
        if not self._items:
            raise ConfigError("a worker needs at least one perspective; the registry is empty")

    def _add(self, perspective: Perspective) -> None:
        for known in self._items:
            if known.id == perspective.id or known.name == perspective.name:
                raise ConfigError(
                    f"perspective {perspective.name!r} ({perspective.id!r}) is registered twice; "
                    f"it clashes with {known.name!r} ({known.id!r}): give each a unique id and name"
                )
        self._items.append(perspective)

    def __iter__(self) -> Iterator[Perspective]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def at(self, position: int) -> Perspective:
        return self._items[position % len(self._items)]

    def position_of(self, perspective_id: str) -> int | None:
        for index, perspective in enumerate(self._items):
            if perspective.id == perspective_id:
                return index
        return None

    def listing(self) -> list[dict[str, str]]:
        return [
            {"position": str(i + 1), "id": p.id, "name": p.name} for i, p in enumerate(self._items)
        ]
