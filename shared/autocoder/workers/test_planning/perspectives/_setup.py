"""Building the instance a method test needs before the test's ``pytest.raises`` block.

``with pytest.raises(TypeError): Argument([])._parse_decls(...)`` passes when the constructor
raises ``TypeError`` on inputs the test made up: the test checks its own setup, not the method.
:func:`setup_outside` moves the construction out of the block, and :func:`setup_lines` guards
it: a constructor that refuses the sampled arguments raises from the test's own line (a broken
test, which the run reports and :func:`.results.finish` drops) instead of passing as the
expected failure or failing as a "possible bug" of the code.
"""

from __future__ import annotations

import ast

INSTANCE = "subject_instance"  # a name no sampled argument uses


def _method_call(tree: ast.Expression) -> ast.Call | None:
    """The ``Owner(...).method(...)`` call of ``call`` (under ``asyncio.run``), else None."""
    node = tree.body
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "asyncio.run" and node.args:
        node = node.args[0]
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(node, ast.Call) and isinstance(func, ast.Attribute):
        return node if isinstance(func.value, ast.Call) else None
    return None


def setup_outside(call: str) -> tuple[str, str]:
    """(``subject_instance = Owner(...)``, the call on it); ("", ``call``) for other calls."""
    try:
        tree = ast.parse(call, mode="eval")
    except SyntaxError:
        return "", call
    method = _method_call(tree)
    if method is None or not isinstance(method.func, ast.Attribute):
        return "", call
    construction = ast.unparse(method.func.value)
    method.func.value = ast.Name(INSTANCE, ast.Load())
    return f"{INSTANCE} = {construction}", ast.unparse(tree)


def setup_lines(call: str) -> tuple[list[str], str]:
    """The lines that build the instance (guarded), and the call on it; ([], ``call``) when the
    call needs no instance."""
    instance, on_instance = setup_outside(call)
    if not instance:
        return [], call
    return [
        "try:  # inputs this test made up: if they do not fit, the test is broken, not the code",
        f"    {instance}",
        "except Exception as error:",
        '    raise TypeError(f"setup: could not build the instance: {error!r}") from error',
    ], on_instance
