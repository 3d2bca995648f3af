"""The requirements a ``setup.py`` declares, read with :mod:`ast` and never run (running a
target's setup.py executes arbitrary code).

``setup(install_requires=[...], extras_require={...}, tests_require=[...])`` with literal lists,
or with names bound at module level to literal lists (``install_requires=REQUIRES``), is what
almost every setup.py does. A value computed at run time (read from a requirements file, built
by a function) is not guessed: the requirements file itself is read as a declaration anyway.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

Specs = list[tuple[str, bool]]  # (requirement as written, is a development requirement)
DEV_KEYWORDS = frozenset({"tests_require", "setup_requires"})


def setup_py_specs(
    text: str, is_dev_group: Callable[[str], bool]
) -> tuple[str | None, Specs] | None:
    """(the distribution name, the requirements) of the ``setup(...)`` call in ``text``, or
    None when there is no such call with requirements. ``is_dev_group`` tells whether an extra's
    name marks development requirements. SyntaxError for a file that does not parse."""
    tree = ast.parse(text)
    call = next((n for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_setup(n)), None)
    if call is None:
        return None
    names = _module_lists(tree)
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    specs: Specs = [(s, False) for s in _strings(keywords.get("install_requires"), names)]
    specs += [(s, True) for k in DEV_KEYWORDS for s in _strings(keywords.get(k), names)]
    extras = keywords.get("extras_require")
    extras = names.get(extras.id, extras) if isinstance(extras, ast.Name) else extras
    if isinstance(extras, ast.Dict):
        for key, value in zip(extras.keys, extras.values, strict=True):
            group = key.value if isinstance(key, ast.Constant) else ""
            dev = is_dev_group(str(group))
            specs += [(s, dev) for s in _strings(value, names)]
    name = keywords.get("name")
    distribution = name.value if isinstance(name, ast.Constant) else None
    if not specs and distribution is None:
        return None
    return (str(distribution) if distribution is not None else None), specs


def _is_setup(call: ast.Call) -> bool:
    func = call.func
    name = (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else ""
    )
    return name == "setup"


def _module_lists(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level ``NAME = [...]`` / ``(...)`` / ``{...}``: what a keyword may name."""
    out: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple | ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value
    return out


def _strings(value: ast.expr | None, names: dict[str, ast.expr]) -> list[str]:
    """The string literals of a list or tuple (or of the module-level list a name is bound to;
    ``BASE + ["extra"]`` adds both)."""
    if isinstance(value, ast.Name):
        value = names.get(value.id)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _strings(value.left, names) + _strings(value.right, names)
    if isinstance(value, ast.List | ast.Tuple):
        return [
            e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
    return []
