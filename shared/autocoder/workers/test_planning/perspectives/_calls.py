"""What every generated test needs to call a subject.

Sample arguments from type hints and the call expression (:func:`call_code`), which subjects a
test can call directly, the test's import lines in order, and an assertion on the call's result
from the return annotation (:func:`result_check`). Shared by Integration Points, Mocking
Strategy, Failure Mode Analysis and Edge Case Discovery.
"""

from __future__ import annotations

from autocoder.workers.test_planning.inventory import Inventory, Param, Subject
from autocoder.workers.test_planning.specs import import_line, module_alias

SAMPLES = {
    "int": "1",
    "float": "1.0",
    "str": '"sample"',
    "bool": "True",
    "bytes": 'b"sample"',
    "list": "[]",
    "List": "[]",
    "Sequence": "[]",
    "Iterable": "[]",
    "dict": "{}",
    "Dict": "{}",
    "Mapping": "{}",
    "set": "set()",
    "tuple": "()",
    "None": "None",
}


MOCK_IMPORT = "from unittest import mock"


def base_type(annotation: str | None) -> str | None:
    """``list[int]`` -> list, ``int | None`` -> int, ``Optional[str]`` -> str, ``a.B`` -> B."""
    if not annotation:
        return None
    text = annotation.strip().strip("'\"")
    if text.startswith(("Optional[", "typing.Optional[")):
        text = text.split("[", 1)[1].rsplit("]", 1)[0]
    first = next((t for t in (p.strip() for p in text.split("|")) if t != "None"), "None")
    return first.split("[")[0].split(".")[-1]


def sample_value(param: Param, inventory: Inventory, depth: int = 0) -> tuple[str, set[str]]:
    """A plain value of the parameter's type (source text) and the imports it needs."""
    name = base_type(param.annotation)
    if name in SAMPLES:
        return SAMPLES[name], set()
    cls = next((s for s in inventory.by_name.get(name or "", []) if s.kind == "class"), None)
    if cls is not None and depth == 0:
        args, imports = arguments(init_params(cls, inventory), inventory, {}, depth + 1)
        return f"{cls.qualname}({args})", {import_line(cls), *imports}
    return "mock.MagicMock()", {MOCK_IMPORT}


def init_params(cls: Subject, inventory: Inventory, depth: int = 0) -> tuple[Param, ...]:
    """The parameters of the ``__init__`` that makes ``cls`` instances: its own, else the first
    one among its bases that are the target's classes (none known: no parameters)."""
    init = inventory.by_id.get(f"{cls.module}:{cls.qualname}.__init__")
    if init is not None:
        return init.params[1:]
    for base in inventory.base_classes(cls) if depth < 8 else ():
        if params := init_params(base, inventory, depth + 1):
            return params
    return ()


def arguments(
    params: tuple[Param, ...], inventory: Inventory, values: dict[str, str], depth: int = 0
) -> tuple[str, set[str]]:
    """Source text of the arguments: ``values`` where given, samples for required parameters."""
    out: list[str] = []
    imports: set[str] = set()
    by_keyword = False
    for p in params:
        if p.kind.startswith("var_") or (p.default is not None and p.name not in values):
            by_keyword = by_keyword or p.kind == "positional"
            continue
        value = values.get(p.name)
        if value is None:
            value, needed = sample_value(p, inventory, depth)
            imports |= needed
        by_keyword = by_keyword or p.kind == "keyword"
        out.append(f"{p.name}={value}" if by_keyword else value)
    return ", ".join(out), imports


def callable_params(subject: Subject) -> tuple[Param, ...]:
    static = "staticmethod" in subject.decorators
    return subject.params[1:] if subject.kind == "method" and not static else subject.params


def call_code(
    subject: Subject,
    inventory: Inventory,
    values: dict[str, str] | None = None,
    init_values: dict[str, str] | None = None,
) -> tuple[str, set[str]]:
    """The expression that calls ``subject`` (a method on a fresh instance), and its imports;
    ``values`` and ``init_values`` (source text) replace samples of its and its class's params."""
    args, imports = arguments(callable_params(subject), inventory, values or {})
    imports.add(import_line(subject))
    owner, _, method = subject.qualname.partition(".")
    if subject.kind != "method" or {"staticmethod", "classmethod"} & set(subject.decorators):
        expr = f"{subject.qualname}({args})"
    else:
        cls = inventory.by_id[f"{subject.module}:{owner}"]
        init, needed = arguments(init_params(cls, inventory), inventory, init_values or {})
        imports |= needed
        expr = f"{owner}({init if method != '__init__' else args})"
        expr += f".{method}({args})" if method != "__init__" else ""
    if subject.is_async:
        return f"asyncio.run({expr})", {*imports, "import asyncio"}
    return expr, imports


def callable_subject(subject: Subject, inventory: Inventory) -> bool:
    """A function or method a test can call directly: not a class, property or dunder, nor a
    method that needs an instance of a class meant only to be subclassed."""
    name = subject.qualname.split(".")[-1]
    static = {"staticmethod", "classmethod"} & set(subject.decorators)
    owner = inventory.by_id.get(f"{subject.module}:{subject.owner}")
    return (
        subject.kind != "class"
        and "property" not in subject.decorators
        and not any(d.endswith((".setter", ".deleter")) for d in subject.decorators)
        and (name == "__init__" or not (name.startswith("__") and name.endswith("__")))
        and (subject.kind != "method" or bool(static) or owner is None or instantiable(owner))
    )


ABSTRACT_BASES = {"ABC", "abc.ABC", "metaclass=ABCMeta", "metaclass=abc.ABCMeta", "Protocol",
                  "typing.Protocol"}  # fmt: skip


def instantiable(cls: Subject) -> bool:
    """Whether a test may make a plain instance: not an abstract base (``ABC``, a ``Protocol``),
    a mixin (``...Mixin``) or a base named for subclassing (``BaseForm``)."""
    name = cls.qualname
    base_named = len(name) > 4 and name.startswith("Base") and name[4].isupper()
    return not (base_named or name.endswith("Mixin") or ABSTRACT_BASES & set(cls.bases))


def ordered_imports(imports: set[str]) -> list[str]:
    """``import x`` lines, then ``from`` imports merged per module; other lines (an
    ``importorskip``) last, so they run after the imports they use."""
    names: dict[str, set[str]] = {}
    for line in imports:
        if line.startswith("from "):
            module, _, what = line[5:].partition(" import ")
            names.setdefault(module, set()).update(w.strip() for w in what.split(","))
    plain = sorted(i for i in imports if i.startswith("import "))
    merged = [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(names.items())]
    return [
        *plain,
        *merged,
        *sorted(i for i in imports if i and not i.startswith(("import ", "from "))),
    ]


def module_import(subject: Subject) -> str:
    return module_alias(subject, "subject_module")


CHECKS = {"float": "(int, float)", "int": "int", "str": "str", "bool": "bool", "bytes": "bytes",
          "list": "list", "List": "list", "dict": "dict", "Dict": "dict", "tuple": "tuple",
          "set": "set"}  # fmt: skip


def optional(annotation: str | None) -> bool:
    return "None" in (annotation or "") or "Optional" in (annotation or "")


def result_check(subject: Subject) -> str:
    """An assertion on ``result`` from the return annotation ("" when it says nothing)."""
    if subject.qualname.endswith(".__init__"):
        return f"assert isinstance(result, {subject.owner})"
    if subject.returns == "None":
        return "assert result is None"
    if subject.returns is None or optional(subject.returns):
        return ""
    check = CHECKS.get(base_type(subject.returns) or "")
    return f"assert isinstance(result, {check})" if check else ""
