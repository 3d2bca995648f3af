"""The facts :mod:`.context` hands the stages: plain dataclasses that ``asdict`` makes JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MAX_LISTED = 20  # entries of a list in a record; the total says how many there are

DefinitionKind = Literal["function", "method", "class"]
ReferenceHow = Literal["call", "reference", "self-call", "import"]


@dataclass(frozen=True)
class Definition:
    """A ``def`` or ``class`` of a file: where it starts (its first decorator) and ends, its
    header (normalised by ``ast.unparse``) and its docstring's first paragraph ("" without
    one)."""

    qualname: str  # as Python spells __qualname__: "Cls.method", "outer.<locals>.inner"
    kind: DefinitionKind
    start: int
    end: int
    signature: str
    docstring: str


@dataclass(frozen=True)
class Reference:
    """A place that names a definition or imports its module: ``caller`` is the qualname of the
    definition the place is in, ``<module>`` at module level; ``column`` counts from 1."""

    file: str
    line: int
    caller: str
    how: ReferenceHow
    column: int = 1


@dataclass(frozen=True)
class ImportPlace:
    """A module in the target's import graph (first-party modules only; test modules are not
    counted as importers: :func:`.context.tests_referring` lists them). ``in_cycle`` counts
    imports that run when the module is imported (not those inside a function or under
    ``if TYPE_CHECKING``); ``cycle`` is a shortest such loop through it."""

    module: str
    file: str
    package: str
    imports: list[str]  # the first MAX_LISTED, sorted
    imports_total: int
    imported_by: list[str]
    imported_by_total: int
    in_cycle: bool
    cycle: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class References:
    """References bounded for a record: the first :data:`MAX_LISTED`, how many in all and in
    how many files."""

    shown: list[Reference]
    total: int
    files: int


@dataclass(frozen=True)
class PublicApi:
    """Whether a definition is part of the target's public API, with every reason found.

    ``public`` is true when its own name path has no private part and ``__all__`` (if the module
    has a literal one) lists it, or when a module without a private part re-exports it."""

    module: str
    qualname: str
    public: bool
    reasons: list[str]
    private_parts: list[str]
    in_all: bool | None  # None: the module has no literal __all__
    exported_as: list[str]
    documented_in: list[str]  # documentation files naming it: the first MAX_LISTED
    documented_total: int
