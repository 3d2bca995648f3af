"""What every generated test needs to call a subject.

Sample arguments from type hints and the call expression (:func:`call_code`), which subjects a
test can call directly, the test's import lines in order, and an assertion on the call's result
from the return annotation (:func:`result_check`). Shared by Integration Points, Mocking
Strategy, Failure Mode Analysis and Edge Case Discovery.
"""

from __future__ import annotations

import ast

from autocoder.workers.test_planning.inventory import Inventory, Param, Subject
from autocoder.workers.test_planning.perspectives._constructors import (
    kind_reason,
    lineage,
    own_example,
    required,
)
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
    "frozenset": "frozenset()",
    "tuple": "()",
    "None": "None",
    "MutableMapping": "{}",
    "MutableSequence": "[]",
    "Collection": "[]",
}
VALIDATED = {"BaseModel", "BaseSettings"}  # models that check their fields' types
NOT_CLASSES = {"Any", "Callable", "Union", "Type", "type", "object", "TypeVar", "Literal"}


MOCK_IMPORT = "from unittest import mock"


def base_type(annotation: str | None) -> str | None:
    """``list[int]`` -> list, ``int | None`` -> int, ``Optional[str]`` -> str, ``a.B`` -> B."""
    if not annotation:
        return None
    text = annotation.strip().strip("'\"")
    if text.split("[")[0].split(".")[-1] == "Optional":  # Optional, typing. or t.Optional
        text = text.split("[", 1)[1].rsplit("]", 1)[0]
    first = next((t for t in (p.strip() for p in text.split("|")) if t != "None"), "None")
    return first.split("[")[0].split(".")[-1]


def sample_value(param: Param, inventory: Inventory, depth: int = 0) -> tuple[str, set[str]]:
    """A plain value of the parameter's type (source text) and the imports it needs."""
    name = base_type(param.annotation)
    if name in SAMPLES:
        return SAMPLES[name], set()
    cls = target_class(name, inventory)
    if cls is not None and depth == 0 and unbuildable_reason(cls, inventory, depth + 1) is None:
        args, imports = constructor_args(cls, inventory, {}, depth + 1)
        return f"{cls.qualname}({args})", {import_line(cls), *imports}
    return "mock.MagicMock()", {MOCK_IMPORT}


def target_class(name: str | None, inventory: Inventory) -> Subject | None:
    return next((s for s in inventory.by_name.get(name or "", []) if s.kind == "class"), None)


def init_params(cls: Subject, inventory: Inventory, depth: int = 0) -> tuple[Param, ...]:
    """The parameters that make ``cls`` instances: the first ``__init__`` of its lineage (its
    own, else its bases' among the target's classes), else the fields of a dataclass, attrs
    class or model (a base's fields first), else none known."""
    for klass in lineage(cls, inventory):
        init = inventory.by_id.get(f"{klass.module}:{klass.qualname}.__init__")
        if init is not None:
            return init.params[1:]
    fields = [f for klass in reversed(lineage(cls, inventory)) for f in klass.fields]
    by_name = {f.name: f for f in fields}  # a subclass's field replaces its base's
    return tuple(by_name[name] for name in dict.fromkeys(f.name for f in fields))


def buildable(param: Param, inventory: Inventory, depth: int, validated: bool = False) -> bool:
    """A required parameter a test can fill: a plain type's sample, a target class that can
    itself be built (one level deep), else a ``MagicMock`` standing in for the collaborator its
    type hint names (a class, not ``Callable`` or ``Any``), except for a ``validated`` model
    (pydantic refuses the mock); an untyped one cannot be filled."""
    name = base_type(param.annotation)
    if name in SAMPLES:
        return True
    cls = target_class(name, inventory)
    if cls is not None and depth == 0 and unbuildable_reason(cls, inventory, 1) is None:
        return True
    mockable = name is not None and name[:1].isupper() and name not in NOT_CLASSES
    return mockable and not validated


def unbuildable_reason(cls: Subject, inventory: Inventory, depth: int = 0) -> str | None:
    """Why a test cannot build an instance of ``cls`` (its kind, or a required argument that
    neither the target's own constructions nor its type hint gives), else None."""
    if reason := kind_reason(cls, inventory):
        return reason
    params = init_params(cls, inventory)
    if own_example(cls, params, inventory) is not None:
        return None
    validated = bool(
        VALIDATED & {b.rpartition(".")[2] for k in lineage(cls, inventory) for b in k.bases}
    )
    missing = [p.name for p in required(params) if not buildable(p, inventory, depth, validated)]
    if missing:
        return f"{cls.qualname}() needs {', '.join(missing)}: no example and no usable type hint"
    return None


def constructor_args(
    cls: Subject, inventory: Inventory, values: dict[str, str], depth: int = 0
) -> tuple[str, set[str]]:
    """Source text of the arguments that build ``cls``: ``values`` where given, then the
    target's own construction of it (tests, examples, doctests) for the required parameters
    and those defaulting to None (click's ``Option(param_decls=None)`` needs a name), then
    samples; other defaults are kept, which is what the solved outcomes of :mod:`._solve`
    assume (``Account(owner, balance=0)``)."""
    params = init_params(cls, inventory)
    example = own_example(cls, params, inventory)
    if isinstance(example, str):
        return (example, set()) if not values else arguments(params, inventory, values, depth)
    needed = {p.name for p in params if p.default in (None, "None")}
    given = {name: value for name, value in (example or {}).items() if name in needed}
    return arguments(params, inventory, {**given, **values}, depth)


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
    elif method == "__init__":
        cls = inventory.by_id[f"{subject.module}:{owner}"]
        init, needed = constructor_args(cls, inventory, {**(init_values or {}), **(values or {})})
        expr, imports = f"{owner}({init})", imports | needed
    else:
        cls = inventory.by_id[f"{subject.module}:{owner}"]
        init, needed = constructor_args(cls, inventory, init_values or {})
        expr, imports = f"{owner}({init}).{method}({args})", imports | needed
    if subject.is_async:
        return f"asyncio.run({expr})", {*imports, "import asyncio"}
    return expr, imports


def callable_subject(subject: Subject, inventory: Inventory) -> bool:
    """A function or method a test can call directly: not a class, property or dunder, nor a
    method that needs an instance a test cannot build (see :func:`unbuildable_reason`)."""
    name = subject.qualname.split(".")[-1]
    static = {"staticmethod", "classmethod"} & set(subject.decorators)
    owner = inventory.by_id.get(f"{subject.module}:{subject.owner}")
    return (
        subject.kind != "class"
        and not any(d.split(".")[-1] in ("property", "cached_property") for d in subject.decorators)
        and not any(d.endswith((".setter", ".deleter")) for d in subject.decorators)
        and (name == "__init__" or not (name.startswith("__") and name.endswith("__")))
        and (
            subject.kind != "method"
            or bool(static)
            or owner is None
            or unbuildable_reason(owner, inventory) is None
        )
    )


def unbuildable_classes(inventory: Inventory) -> dict[str, str]:
    """Class id -> why its methods get no test (for the record's skipped entries): the classes
    with methods a test would call on an instance it cannot build."""
    owners = {f"{s.module}:{s.owner}" for s in inventory.subjects if s.kind == "method"}
    found = {}
    for cls in (inventory.by_id[o] for o in sorted(owners) if o in inventory.by_id):
        if (reason := unbuildable_reason(cls, inventory)) is not None:
            found[cls.id] = reason
    return found


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
    """Whether the annotation itself admits None (``int | None``, ``Optional[int]``,
    ``Union[int, None]``); ``list[str | None]`` is a list, never None."""
    try:
        node = ast.parse((annotation or "").strip().strip("'\""), mode="eval").body
    except SyntaxError:
        return "None" in (annotation or "")
    return _admits_none(node)


def _admits_none(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None
    if isinstance(node, ast.Name | ast.Attribute):
        return ast.unparse(node).split(".")[-1] == "None"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _admits_none(node.left) or _admits_none(node.right)
    if isinstance(node, ast.Subscript):
        kind = ast.unparse(node.value).split(".")[-1]
        if kind == "Optional":
            return True
        if kind == "Union":
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return any(_admits_none(item) for item in items)
    return False


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


def unbuildable_entry(inventory: Inventory, examples: int = 10) -> dict[str, str]:
    """The record's skipped entry for :func:`unbuildable_classes` (none when every class can be
    built): merged into the ``skipped`` a perspective gives :func:`.results.finish`."""
    found = unbuildable_classes(inventory)
    if not found:
        return {}
    named = "; ".join(reason for reason in list(found.values())[:examples])
    more = f"; and {len(found) - examples} more" if len(found) > examples else ""
    return {"instances not built": f"{len(found)} classes get no method test: {named}{more}"}
