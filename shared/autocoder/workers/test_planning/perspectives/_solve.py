"""Which arguments reach a site, and what it raises.

:func:`solve` evaluates the conditions on the way to a site (comparisons, arithmetic, ``len`` of
literals only) over candidate values taken from them; :func:`site_exception` is what the site
raises and :func:`exception_ref` how a test names it. Shared by Failure Mode Analysis and Edge Case
Discovery.
"""

from __future__ import annotations

import ast
import builtins
from itertools import islice, product
from types import CodeType
from typing import Any

from autocoder.workers.test_planning.codegen import dotted, is_dotted
from autocoder.workers.test_planning.inventory import Inventory, Param, Subject
from autocoder.workers.test_planning.perspectives._calls import (
    SAMPLES,
    base_type,
    call_code,
    callable_params,
    init_params,
    module_import,
)
from autocoder.workers.test_planning.perspectives._facts import Conds, Facts, Site, caught

SAFE = (
    ast.Expression,
    ast.Compare,
    ast.BoolOp,
    ast.UnaryOp,
    ast.BinOp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Call,
    ast.cmpop,
    ast.boolop,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
)


MAX_TRIALS = 4096


class _SelfAttributes(ast.NodeTransformer):
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return ast.Name(id=f"self__{node.attr}", ctx=ast.Load())
        return self.generic_visit(node)


def condition(source: str) -> ast.Expression | None:
    """The condition as an expression over plain names (``self.x`` -> ``self__x``), or None when
    it is more than comparisons, arithmetic, ``len`` and literals (then it is not evaluated)."""
    tree = ast.parse(source, mode="eval")
    tree.body = _SelfAttributes().visit(tree.body)
    for node in ast.walk(tree):
        if not isinstance(node, SAFE) or (
            isinstance(node, ast.Call) and getattr(node.func, "id", "") != "len"
        ):
            return None
    return ast.fix_missing_locations(tree)


def holds(code: CodeType, env: dict[str, Any]) -> bool | None:
    """The compiled :func:`condition` evaluated over ``env``; None when it cannot be."""
    try:  # only comparisons, arithmetic and len() of literals reach eval (see condition())
        return bool(eval(code, {"__builtins__": {"len": len}}, env))  # noqa: S307
    except Exception:
        return None


def literal(source: str | None) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(source) if source is not None else None
    except (ValueError, SyntaxError, TypeError):
        return False, None


def sample_literal(param: Param | None) -> tuple[bool, Any]:
    """The sample value of a parameter as a Python value, when it is a literal."""
    return literal(SAMPLES.get(base_type(param.annotation) or "") if param else None)


def _candidates(name: str, trees: list[ast.Expression], param: Param, search: bool) -> list[Any]:
    known, default = literal(param.default)
    sample_known, sample = sample_literal(param)
    plain = [
        v
        for ok, v in ((known and param.default is not None, default), (sample_known, sample))
        if ok
    ]
    if not search:
        return plain[:1]
    found: list[Any] = []
    for node in (n for t in trees for n in ast.walk(t) if isinstance(n, ast.Compare)):
        operands = [node.left, *node.comparators]
        constants = [o.value for o in operands if isinstance(o, ast.Constant)]
        if any(isinstance(o, ast.Name) and o.id == name for o in operands):
            found += [w for c in constants for w in around(c)]
        elif any(isinstance(o, ast.Call) and ast.unparse(o) == f"len({name})" for o in operands):
            found += ["x" * w for c in constants if isinstance(c, int) for w in around(c) if w >= 0]
    extras: dict[str, list[Any]] = {"str": [""], "list": [[]], "dict": [{}], "bool": [False, True],
                                    "int": [0]}  # fmt: skip
    extra = extras.get(base_type(param.annotation) or "", [])
    if param.annotation and ("Optional" in param.annotation or "None" in param.annotation):
        extra = [*extra, None]  # ``if x is None`` / ``if not x`` on an optional parameter
    return list({(type(v), repr(v)): v for v in [*found, *plain, *extra]}.values())


def around(value: Any) -> list[Any]:
    if isinstance(value, bool) or value is None:
        return [value]
    if isinstance(value, int | float):
        return [value, value + 1, value - 1]
    return [value, ""] if isinstance(value, str) else []


def solve(
    subject: Subject,
    inventory: Inventory,
    facts: dict[str, Facts],
    conds: list[tuple[str, bool]],
    fixed: dict[str, Any],
    search: bool = True,
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Arguments (source text) for ``subject`` and its class that make every condition hold,
    ``fixed`` values kept; only defaults and samples unless ``search``. None when none is found,
    and for a condition on ``*args`` or ``**kwargs`` (a call cannot be written to set them)."""
    trees = [condition(c) for c, _ in conds]
    if any(t is None for t in trees):
        return None
    exprs = [t for t in trees if t is not None]
    params = {p.name: p for p in callable_params(subject) if not p.kind.startswith("var_")}
    owner = inventory.by_id.get(f"{subject.module}:{subject.owner}")
    init = {p.name: p for p in init_params(owner, inventory)} if owner else {}
    attrs = facts.get(f"{subject.module}:{subject.owner}.__init__", Facts()).self_attrs
    env: dict[str, Any] = {}
    choices: dict[str, list[Any]] = {}
    for name in sorted(
        {n.id for t in exprs for n in ast.walk(t) if isinstance(n, ast.Name)} - {"len"}
    ):
        source = attrs.get(name.removeprefix("self__")) if name.startswith("self__") else None
        if name in fixed:
            env[name] = fixed[name]
        elif name in params or source in init:
            choices[name] = _candidates(name, exprs, params.get(name) or init[str(source)], search)
        elif (value := literal(source))[0] and source is not None:
            env[name] = value[1]
        else:
            return None
    codes = [compile(t, "<condition>", "eval") for t in exprs]
    for combo in islice(product(*choices.values()), MAX_TRIALS):
        trial = {**env, **dict(zip(choices, combo, strict=True))}
        if all(holds(c, trial) is want for c, (_, want) in zip(codes, conds, strict=True)):
            values = {k: repr(v) for k, v in {**fixed, **trial}.items() if k in params}
            inits = {attrs[k[6:]]: repr(v) for k, v in trial.items() if attrs.get(k[6:]) in init}
            return values, inits
    return None


def rebound_names(conds: Conds, rebound: dict[str, list[tuple[int, int]]], line: int) -> set[str]:
    """The names of ``conds`` assigned before ``line`` in a block holding it (``name = name or
    x``): a condition on such a name is not about the argument, solving it would miss the site."""
    trees = [t for c, _ in conds if (t := condition(c)) is not None]
    names = {n.id for t in trees for n in ast.walk(t) if isinstance(n, ast.Name)}
    return {n for n in names if any(a < line <= b for a, b in rebound.get(n, []))}


def solve_arguments(
    subject: Subject, inventory: Inventory, facts: dict[str, Facts], conds: Conds | None
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Arguments that get every call of ``subject`` to a line reached under ``conds``
    (:func:`._boundaries.reaching_conditions`; None: not known to be reached), or None."""
    if conds is None:
        return None
    return solve(subject, inventory, facts, list(conds), {}) if conds else ({}, {})


def call_reaching(
    subject: Subject, inventory: Inventory, facts: dict[str, Facts], conds: Conds | None
) -> tuple[str, set[str]] | None:
    """The call of ``subject`` (and its imports) whose arguments reach a line reached under
    ``conds``; None when no arguments are found to get there."""
    solution = solve_arguments(subject, inventory, facts, conds)
    return None if solution is None else call_code(subject, inventory, *solution)


def exception_ref(subject: Subject, inventory: Inventory, exc: str) -> tuple[str, set[str]] | None:
    """How a test names an exception ``subject``'s module raises, or None: not a class, not a
    dotted name (``raise errors[0]``), or a lower-case name, which is a factory rather than a
    class (``raise t.cast(...)``, ``raise make_error()``: ``pytest.raises`` needs the class)."""
    if exc in vars(builtins):
        return (exc, set()) if isinstance(vars(builtins)[exc], type) else None
    found = inventory.by_id.get(f"{subject.module}:{exc}")
    if (found is not None and found.kind != "class") or not is_dotted(exc):
        return None
    if not exc.rpartition(".")[2][:1].isupper():
        return None
    if "." in exc:
        return f"subject_module.{exc}", {module_import(subject)}
    return exc, {f"from {dotted(subject.module)} import {exc}"}


def site_exception(site: Site, value: Any = None) -> str | None:
    """The exception a site raises (for index and convert: when ``value`` triggers it)."""
    if site.in_handler:
        return None
    if site.what == "raise":
        exc: str | None = site.detail
    elif site.what == "index":
        exc = _lookup_error(literal(site.detail)[1], value)
    elif site.what == "convert":
        exc = "ValueError" if isinstance(value, str) and not _number(value) else None
    else:
        exc = None
    return exc if exc is not None and not caught(site.caught, exc) else None


def _lookup_error(key: Any, value: Any) -> str | None:
    """``value[key]`` fails with: KeyError, IndexError or nothing (an unknown value: when empty)."""
    if isinstance(value, dict):
        return None if key in value else "KeyError"
    if isinstance(value, list | tuple | str) and isinstance(key, int):
        return None if -len(value) <= key < len(value) else "IndexError"
    return None if value else ("IndexError" if isinstance(key, int) else "KeyError")


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
