"""The target's testable surface: modules, functions, methods and classes, with their signatures.

Extracted with ``ast`` once per file content (cached), so every perspective starts from the same
facts: what exists, where, how complex, who imports it, and which tests reference it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from autocoder import __version__
from autocoder.engine.modules import DOCS_DIRS, EXAMPLE_DIRS, is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.codegen import is_dotted
from autocoder.workers.test_planning.extract import extract_files

TOOL = "autocoder-inventory"
VERSION = f"{__version__}-7"  # 7: fields, constructions, not_implemented, self_calls


def importable(module: str) -> bool:
    """Whether ``from <module> import name`` can be written: every part is an identifier and
    none a keyword (a folder named with a newline, a dash or ``class`` gives no subject; the
    perspectives report such files, see :func:`.results.invalid_subject_files`)."""
    return is_dotted(module)


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str | None
    default: str | None  # source text of the default
    kind: str  # positional | keyword | var_positional | var_keyword


@dataclass(frozen=True)
class Subject:
    """A function, method or class of the target that a test can call."""

    module: str
    qualname: str
    file: str
    line: int
    end_line: int
    kind: str  # function | method | class
    is_async: bool
    params: tuple[Param, ...]
    returns: str | None
    decorators: tuple[str, ...]
    complexity: int  # 1 + branches, from the AST
    docstring: str
    bases: tuple[str, ...] = ()  # a class's base classes as written (``models.Model``)
    fields: tuple[Param, ...] = ()  # a dataclass's, attrs class's or model's constructor fields
    not_implemented: bool = False  # a method that only raises NotImplementedError
    self_calls: tuple[str, ...] = ()  # an __init__'s self.method(...) calls

    @property
    def id(self) -> str:
        return f"{self.module}:{self.qualname}"

    @property
    def public(self) -> bool:
        return not any(part.startswith("_") for part in self.qualname.split("."))

    @property
    def owner(self) -> str:
        """The top-level name to import: the class of a method, else the subject itself."""
        return self.qualname.split(".")[0]


@dataclass
class Inventory:
    """Everything the perspectives share about the target's code, with its indexes built once."""

    subjects: list[Subject]
    modules: dict[str, str]  # module -> file (code, not tests)
    imports: dict[str, list[str]]  # file -> imported dotted names
    test_names: set[str]  # every name and attribute mentioned in test files
    module_of: dict[str, str]  # every Python file -> its dotted name
    unparsable: dict[str, str] = field(default_factory=dict)  # file -> error
    # class name -> argument lists (source) the target's tests, examples and doctests build it with
    constructions: dict[str, list[str]] = field(default_factory=dict)

    @cached_property
    def by_id(self) -> dict[str, Subject]:
        return {s.id: s for s in self.subjects}

    @cached_property
    def by_name(self) -> dict[str, list[Subject]]:
        """The subjects by the last part of their qualname."""
        found: dict[str, list[Subject]] = {}
        for subject in self.subjects:
            found.setdefault(subject.qualname.split(".")[-1], []).append(subject)
        return found

    @cached_property
    def methods_of(self) -> dict[str, list[Subject]]:
        """Class id (``pkg.mod:Class``) -> its methods, in source order."""
        found: dict[str, list[Subject]] = {}
        for subject in (s for s in self.subjects if s.kind == "method"):
            found.setdefault(f"{subject.module}:{subject.owner}", []).append(subject)
        return found

    @cached_property
    def by_dotted(self) -> dict[str, Subject]:
        """``pkg.mod.Class.method`` -> that subject: what a resolved call names."""
        return {f"{s.module}.{s.qualname}": s for s in self.subjects}

    @cached_property
    def _fan_in(self) -> dict[str, int]:
        """module -> how many other files import it or a name from it (every dotted prefix)."""
        importers: dict[str, set[str]] = {}
        for file, imported in self.imports.items():
            own = self.module_of.get(file)
            for name in imported:
                parts = name.split(".")
                for end in range(1, len(parts) + 1):
                    if (prefix := ".".join(parts[:end])) != own:
                        importers.setdefault(prefix, set()).add(file)
        return {module: len(files) for module, files in importers.items()}

    def fan_in(self, module: str) -> int:
        return self._fan_in.get(module, 0)

    def base_classes(self, cls: Subject) -> list[Subject]:
        """The bases of ``cls`` that are the target's own classes: in its module, or imported
        into it by name (``from pkg.base import Base``); others (a library's) are left out."""
        found: list[Subject] = []
        imported = self.imports.get(cls.file, [])
        for base in cls.bases:
            first, _, rest = base.partition(".")
            names = [f"{cls.module}.{base}"]
            names += [f"{i}.{rest}" if rest else i for i in imported if i.endswith(f".{first}")]
            hit = next((self.by_dotted[n] for n in names if n in self.by_dotted), None)
            if hit is not None and hit.kind == "class":
                found.append(hit)
        return found

    def tested(self, subject: Subject) -> bool:
        """A test file names the subject (its function, method or class name)."""
        return (
            subject.qualname.split(".")[-1] in self.test_names or subject.owner in self.test_names
        )


def _subject_from_json(module: str, file: str, data: dict[str, Any]) -> Subject:
    tuples = ("params", "decorators", "bases", "fields", "self_calls")
    plain = {k: v for k, v in data.items() if k not in tuples}
    return Subject(
        module=module,
        file=file,
        params=tuple(Param(**p) for p in data["params"]),
        decorators=tuple(data["decorators"]),
        bases=tuple(data["bases"]),
        fields=tuple(Param(**p) for p in data.get("fields", [])),
        self_calls=tuple(data.get("self_calls", [])),
        **plain,
    )


EXAMPLE_FOLDERS = EXAMPLE_DIRS | DOCS_DIRS


def example_file(file: str) -> bool:
    """A test, or a file under an ``examples/`` or ``docs/`` folder: its constructions show how
    the authors mean a class to be built."""
    return is_test_file(file) or any(part in EXAMPLE_FOLDERS for part in file.split("/")[:-1])


def _add_constructions(found: dict[str, list[str]], fact: dict[str, Any], file: str) -> None:
    """The file's doctest constructions, and its code's when it is a test or an example."""
    sources = [fact.get("doctest_constructions", {})]
    sources += [fact.get("constructions", {})] if example_file(file) else []
    for source in sources:
        for name, calls in source.items():
            known = found.setdefault(name, [])
            known.extend(c for c in calls if c not in known)


def build_inventory(ctx: RunContext) -> Inventory:
    files = ctx.sources.python
    facts = cached_per_file(
        ctx.cache,
        TOOL,
        VERSION,
        ctx.sources,
        files,
        lambda miss: extract_files(ctx.sources, miss),
    )
    subjects: list[Subject] = []
    modules: dict[str, str] = {}
    test_names: set[str] = set()
    unparsable: dict[str, str] = {}
    module_of = {file: ctx.sources.module(file) for file in files}
    constructions: dict[str, list[str]] = {}
    for file in files:
        fact = facts[file] or {"subjects": [], "imports": [], "names": [], "error": None}
        _add_constructions(constructions, fact, file)
        if fact["error"]:
            unparsable[file] = fact["error"]
        if is_test_file(file):
            test_names.update(fact["names"])
            continue
        module = module_of[file]
        if not importable(module):  # e.g. migrations/0011_x.py: no test can import it by name
            continue
        modules[module] = file
        subjects.extend(_subject_from_json(module, file, s) for s in fact["subjects"])
    imports = {f: facts[f]["imports"] for f in files if facts[f]}
    return Inventory(subjects, modules, imports, test_names, module_of, unparsable, constructions)
