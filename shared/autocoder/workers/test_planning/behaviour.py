"""Whether a generated test asserts behaviour: the last check a spec passes before it is kept.

A test that only compares ``inspect.signature`` or ``inspect.getsource`` text, checks
``callable``/``isinstance``, or calls the code and asserts nothing passes on broken code as well
as on working code. :func:`.results.finish` drops such specs and counts them (``structural_specs``);
Backwards Compatibility, whose signature checks are the API contract it tests, is exempt.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

# Calls that look at the code instead of running it: a test asserting only these pins its shape.
STRUCTURAL_CALLS = frozenset({"isinstance", "issubclass", "callable", "hasattr", "type", "dir"})
RAISES = frozenset({"pytest.raises", "raises", "pytest.warns", "warns", "pytest.deprecated_call"})
INTERACTIONS = ("assert_called", "assert_awaited", "assert_any_call", "assert_has_calls",
                "assert_not_called", "assert_not_awaited")  # fmt: skip
TestFunction = ast.FunctionDef | ast.AsyncFunctionDef


def _reflective(node: ast.AST, bound: set[str]) -> bool:
    """``node`` reads the code rather than running it: an ``inspect.*`` call, or a name bound to
    one (``source = inspect.getsource(f)``)."""
    return any(
        (isinstance(n, ast.Call) and ast.unparse(n.func).startswith("inspect."))
        or (isinstance(n, ast.Name) and n.id in bound)
        for n in ast.walk(node)
    )


def _reflective_names(func: TestFunction) -> set[str]:
    bound: set[str] = set()
    for node in (n for n in ast.walk(func) if isinstance(n, ast.Assign)):  # in source order
        if _reflective(node.value, bound):
            bound |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return bound


def _shape_only(test: ast.expr, bound: set[str], prop: bool) -> bool:
    """A condition that holds for any code of this shape: a constant, ``inspect`` text, a call
    of :data:`STRUCTURAL_CALLS`, a comparison of ``type(...)``, ``x is not None``. In a
    Hypothesis property (``prop``) the result's type over every generated input is an invariant
    of the code, not its shape: ``isinstance`` counts there."""
    if isinstance(test, ast.Constant) or _reflective(test, bound):
        return True
    if isinstance(test, ast.Call):
        name = ast.unparse(test.func)
        return name in STRUCTURAL_CALLS and not (prop and name == "isinstance")
    if not isinstance(test, ast.Compare):
        return False
    sides = [test.left, *test.comparators]
    typed = any(isinstance(s, ast.Call) and ast.unparse(s.func) == "type" for s in sides)
    not_none = [type(o) for o in test.ops] == [ast.IsNot] and ast.unparse(sides[1]) == "None"
    return typed or not_none


def _checks_a_value(test: ast.expr, bound: set[str], prop: bool) -> bool:
    """An ``assert`` condition about what the code did, not about its shape (any part of an
    ``and``/``or`` will do)."""
    if isinstance(test, ast.BoolOp):
        return any(_checks_a_value(v, bound, prop) for v in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _checks_a_value(test.operand, bound, prop)
    return not _shape_only(test, bound, prop)


def _is_property(func: TestFunction) -> bool:
    """``func`` is, or defines, a Hypothesis property (a function decorated ``@given(...)``)."""
    return any(
        ast.unparse(d.func if isinstance(d, ast.Call) else d).rpartition(".")[2] == "given"
        for n in ast.walk(func)
        if isinstance(n, TestFunction)
        for d in n.decorator_list
    )


def _expects_an_exception(node: ast.AST, bound: set[str]) -> bool:
    """``with pytest.raises(...):`` around a call of the code (not of ``inspect``)."""
    if not isinstance(node, ast.With | ast.AsyncWith) or not any(
        isinstance(i.context_expr, ast.Call) and ast.unparse(i.context_expr.func) in RAISES
        for i in node.items
    ):
        return False
    calls = [n for s in node.body for n in ast.walk(s) if isinstance(n, ast.Call)]
    return any(not _reflective(c, bound) and ast.unparse(c.func) not in STRUCTURAL_CALLS
               for c in calls)  # fmt: skip


def asserts_behaviour(func: TestFunction) -> bool:
    """``func`` checks what the code does: a value or state it asserts, an exception it expects
    from a call, or the calls a fake received."""
    bound, prop = _reflective_names(func), _is_property(func)
    for node in ast.walk(func):
        if isinstance(node, ast.Assert) and _checks_a_value(node.test, bound, prop):
            return True
        if _expects_an_exception(node, bound):
            return True
        if _checks_calls_received(node):
            return True
    return False


def _checks_calls_received(node: ast.AST) -> bool:
    """``fake.assert_called_once_with(...)`` and the like: what the code did to a fake."""
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Attribute) and func.attr.startswith(INTERACTIONS)


def test_functions(tree: ast.Module) -> Iterator[TestFunction]:
    """The functions pytest collects from a module: ``test*`` at the top and in ``Test*``."""
    for node in tree.body:
        if isinstance(node, TestFunction) and node.name.startswith("test"):
            yield node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            yield from (
                f for f in node.body if isinstance(f, TestFunction) and f.name.startswith("test")
            )


def structural_problem(test_code: str) -> str | None:
    """Why ``test_code`` asserts no behaviour (every test must: see :func:`asserts_behaviour`),
    None when it does. A test that only compares ``inspect.signature`` or ``getsource`` text,
    checks ``callable``/``isinstance``, or calls the code and asserts nothing passes on broken
    code as well as on working code: it is dropped, not kept."""
    try:
        tree = ast.parse(test_code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # compile_error reports it
    tests = list(test_functions(tree))
    if not tests:
        return "no test function"
    weak = [t.name for t in tests if not asserts_behaviour(t)]
    if weak:
        return f"{weak[0]} asserts no behaviour (only the code's shape, or nothing)"
    return None
