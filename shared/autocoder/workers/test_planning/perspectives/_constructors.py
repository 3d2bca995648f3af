"""Whether a generated test may build an instance of a target class, and with which arguments.

A test that builds ``Argument([])`` or ``Subject()`` with made-up inputs fails on its own setup
(``__init__() missing 12 required positional arguments``, "Protocols cannot be instantiated"),
which says nothing about the code. So a class is built only when it is concrete (not a
``Protocol``, an ``Enum``, a ``TypedDict``, an abstract base or a class with abstract methods
left) and every required argument is known: from how the target's own tests, examples and
doctests construct it (:attr:`.Inventory.constructions`), or from the signature's type hints.
"""

from __future__ import annotations

import ast

from autocoder.workers.test_planning.inventory import Inventory, Param, Subject

PROTOCOLS = {"Protocol"}
ENUMS = {"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum"}
TYPED_DICTS = {"TypedDict"}
ABSTRACT = {"ABC", "metaclass=ABCMeta", "metaclass=abc.ABCMeta"}
ABSTRACT_DECORATORS = {"abstractmethod", "abc.abstractmethod", "abstractproperty"}
MAX_DEPTH = 8


def _base_name(base: str) -> str:
    """``typing.Protocol[T]`` -> Protocol, ``enum.Enum`` -> Enum (keywords kept as written)."""
    return base if base.startswith("metaclass=") else base.partition("[")[0].rpartition(".")[2]


def lineage(cls: Subject, inventory: Inventory) -> list[Subject]:
    """``cls`` and its bases among the target's own classes, nearest first (no repeats)."""
    found, queue = [cls], [cls]
    while queue and len(found) < MAX_DEPTH:
        for base in inventory.base_classes(queue.pop(0)):
            if base not in found:
                found.append(base)
                queue.append(base)
    return found


def abstract_methods_left(cls: Subject, inventory: Inventory) -> list[str]:
    """Abstract methods of the lineage that no class nearer ``cls`` implements: the
    ``@abstractmethod`` ones (Python refuses the instance), and those whose body only raises
    ``NotImplementedError`` when the ``__init__`` calls them (click's ``Parameter`` calls
    ``_parse_decls``); another such method fails alone, and a test may check just that."""
    concrete: set[str] = set()
    left: list[str] = []
    init = next((i for i in (inventory.by_id.get(f"{k.id}.__init__")
                             for k in lineage(cls, inventory)) if i is not None), None)  # fmt: skip
    called = set(init.self_calls) if init is not None else set()
    for klass in lineage(cls, inventory):
        for method in inventory.methods_of.get(klass.id, []):
            name = method.qualname.rsplit(".", 1)[-1]
            abstract = ABSTRACT_DECORATORS & set(method.decorators)
            if abstract or (method.not_implemented and name in called):
                left += [name] if name not in concrete and name not in left else []
            else:
                concrete.add(name)
    return left


KINDS = (
    (PROTOCOLS, "is a Protocol, which cannot be instantiated"),
    (ENUMS, "is an Enum: its members are the instances"),
    (TYPED_DICTS, "is a TypedDict, a type for plain dicts"),
)


def kind_reason(cls: Subject, inventory: Inventory) -> str | None:
    """Why no test may instantiate ``cls`` whatever the arguments, else None."""
    name = cls.qualname
    bases = {_base_name(b) for klass in lineage(cls, inventory) for b in klass.bases}
    reasons = [f"{name} {why}" for kinds, why in KINDS if bases & kinds]
    if left := abstract_methods_left(cls, inventory):
        reasons.append(f"{name} has abstract methods left: {', '.join(left[:5])}")
    if ABSTRACT & {_base_name(b) for b in cls.bases}:
        reasons.append(f"{name} is an abstract base class, meant to be subclassed")
    if (len(name) > 4 and name.startswith("Base") and name[4].isupper()) or name.endswith("Mixin"):
        reasons.append(f"{name} is named as a base or mixin, meant to be subclassed")
    return reasons[0] if reasons else None


Example = dict[str, str] | str  # parameter -> source text, or argument text that fits no names


def example_values(text: str, params: tuple[Param, ...]) -> Example | None:
    """``["x"], required=False`` -> {"param_decls": '["x"]', "required": "False"} for the
    parameters of the class; the text itself when it has no known parameters (a library base's
    ``__init__``); None when it does not fit them (too many arguments, an unknown keyword)."""
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        return None
    assert isinstance(call, ast.Call)
    if not params:
        return text
    positional = [p.name for p in params if p.kind == "positional"]
    names = {p.name for p in params if not p.kind.startswith("var_")}
    if len(call.args) > len(positional) or any(k.arg not in names for k in call.keywords):
        return None
    values = {name: ast.unparse(a) for name, a in zip(positional, call.args, strict=False)}
    return values | {str(k.arg): ast.unparse(k.value) for k in call.keywords}


def required(params: tuple[Param, ...]) -> list[Param]:
    return [p for p in params if p.default is None and not p.kind.startswith("var_")]


def own_example(cls: Subject, params: tuple[Param, ...], inventory: Inventory) -> Example | None:
    """The first construction from the target's tests, examples or doctests that gives every
    required parameter of ``cls`` (the one most like the authors' own use), else None."""
    for text in inventory.constructions.get(cls.qualname, []):
        values = example_values(text, params)
        if isinstance(values, str) or (
            values is not None and all(p.name in values for p in required(params))
        ):
            return values
    return None
