"""Call expressions built from signatures, the functions of a file, and guard-triggering values.

:func:`call_expression` is the source of a call of a subject with harmless sample arguments
(:func:`call_imports` the imports it needs), :func:`functions` the top-level functions and methods
of a parsed file, :func:`trigger` the parameter value that makes a guard like ``if amount <= 0``
true. Shared by Error Handling, Data Integrity, Security Analysis and User Experience.
"""

from __future__ import annotations

import ast
import re

from autocoder.engine.perspective import RunContext
from autocoder.workers.test_planning.inventory import Inventory, Param, Subject

SAMPLES = {"str": "'x'", "int": "1", "float": "1.0", "bool": "True", "bytes": "b'x'",
           "list": "[]", "dict": "{}", "set": "set()", "tuple": "()", "sequence": "[]",
           "mapping": "{}"}  # fmt: skip


TRIGGER = {ast.Lt: -1, ast.LtE: 0, ast.Gt: 1, ast.GtE: 0, ast.Eq: 0}


def parse_file(ctx: RunContext, file: str) -> ast.Module | None:
    return ctx.sources.parse(file)  # None when it does not parse: never raises


def sample(annotation: str | None) -> str | None:
    """A harmless value of an annotated type (``'x'`` for ``str | None``), None when unknown."""
    inner = re.sub(r"^(typing\.)?Optional\[(.*)\]$", r"\2", annotation or "")
    return SAMPLES.get(inner.split("|")[0].split("[")[0].strip().rsplit(".", 1)[-1].lower())


def arguments(params: list[Param], values: dict[str, str]) -> str | None:
    """Keyword arguments: ``values`` first, required parameters sampled, defaults left out."""
    out = []
    for p in (p for p in params if not p.kind.startswith("var_")):
        value = values.get(p.name) or (None if p.default is not None else sample(p.annotation))
        if value is None and p.default is None:
            return None
        out += [f"{p.name}={value}"] if value is not None else []
    return ", ".join(out)


def call_expression(subject: Subject, inventory: Inventory, values: dict[str, str]) -> str | None:
    """Source of a call of ``subject``: a method through an instance made from ``__init__``, a
    coroutine function through ``asyncio.run`` (see :func:`call_imports`); None for properties."""
    owner, _, name = subject.qualname.rpartition(".")
    static = subject.kind != "method" or "staticmethod" in subject.decorators
    args = arguments(list(subject.params[0 if static else 1 :]), values)
    init = inventory.by_id.get(f"{subject.module}:{owner}.__init__")
    made = arguments(list(init.params[1:]), {}) if init else ""
    instance = not static and "classmethod" not in subject.decorators
    if args is None or (instance and made is None) or "property" in subject.decorators:
        return None
    call = f"{owner}({made}).{name}({args})" if instance else f"{subject.qualname}({args})"
    return f"asyncio.run({call})" if subject.is_async else call


def call_imports(call: str) -> list[str]:
    return ["import asyncio"] if call.startswith("asyncio.run(") else []


def trigger(test: ast.expr, params: set[str]) -> list[str] | None:
    """[parameter, value making ``test`` true] for ``p OP literal``, ``not p``, ``p is None``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        name, value = ast.unparse(test.operand), "FALSY"
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        name, op = ast.unparse(test.left), type(test.ops[0])
        try:
            literal = ast.literal_eval(test.comparators[0])
        except ValueError:
            return None
        number = isinstance(literal, int | float) and not isinstance(literal, bool)
        shift = TRIGGER.get(op) if number else 0 if op in (ast.Eq, ast.Is) else None
        value = "" if shift is None else repr(literal + shift if number else literal)
    else:
        return None
    return [name, value] if name in params and value else None
