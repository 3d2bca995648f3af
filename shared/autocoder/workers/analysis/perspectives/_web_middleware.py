"""Django's CSRF middleware in a settings module: missing from ``MIDDLEWARE``, or there only as a
commented-out line (``# "django.middleware.csrf.CsrfViewMiddleware",``), which is how it is
usually switched off while a form "does not work" and then forgotten.

Read from the module's tree and its text (comments are not in the tree); nothing is imported.
"""

from __future__ import annotations

import ast

CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
MISSING = (
    f"MIDDLEWARE lacks {CSRF_MIDDLEWARE}: no view is protected against cross-site posts (CWE-352)"
)
COMMENTED_OUT = (
    f"CSRF middleware disabled: {CSRF_MIDDLEWARE} is commented out of MIDDLEWARE, so no view is "
    "protected against cross-site posts (CWE-352); restore the line"
)


def csrf_middleware_problems(tree: ast.Module, lines: list[str]) -> list[tuple[int, str]]:
    """(line, message) for a Django ``MIDDLEWARE`` list without the CSRF middleware: at the
    commented-out entry when there is one, else at the list. A list naming no ``django.``
    middleware is another framework's and says nothing."""
    node = _middleware_assignment(tree)
    if node is None or not isinstance(node.value, ast.List | ast.Tuple):
        return []
    names = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
    if CSRF_MIDDLEWARE in names or not any(str(n).startswith("django.") for n in names):
        return []
    span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
    commented = [n for n in span if _comments_out_csrf(lines[n - 1] if n <= len(lines) else "")]
    if commented:
        return [(n, COMMENTED_OUT) for n in commented]
    return [(node.lineno, MISSING)]


def _middleware_assignment(tree: ast.Module) -> ast.Assign | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "MIDDLEWARE" for t in node.targets
        ):
            return node
    return None


def _comments_out_csrf(line: str) -> bool:
    """``# "django.middleware.csrf.CsrfViewMiddleware",`` (the entry itself after the ``#``)."""
    code, hash_mark, comment = line.partition("#")
    return bool(hash_mark) and not code.strip() and CSRF_MIDDLEWARE in comment.split("#")[0]
