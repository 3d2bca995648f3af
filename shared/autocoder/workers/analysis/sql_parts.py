"""What is formatted into a SQL string that bandit flags (B608): values from outside, or only
identifiers, placeholders, constants and SQL fragments the code built itself.

Django's ORM builds every query as ``"SELECT %s FROM %s WHERE %s" % (qn(col), qn(table),
where_sql)`` with the values passed separately, so bandit's "string-based query construction"
fires hundreds of times on code that is not injectable. A senior engineer looks at the parts:
``quote_name(...)`` / ``connection.ops.*`` / ``compiler.compile(...)`` results, ``["%s"] * n``
placeholder lists and constants are safe; a parameter of a public function or request data
formatted straight in is an injection. This module reads the parts with ast (never runs code).
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass

# Calls whose result is a quoted identifier or a fragment of SQL the framework built itself.
QUOTING_CALLS = re.compile(
    r"^(quote_name|quote_name_unless_alias|qn|qn2|quote|quote_value|quote_identifier|"
    r"compile|as_sql|as_\w+|sql_\w+|\w+_sql|placeholder|field_cast_sql|lookup_cast|"
    r"escape_string|escape|format_name|split_identifier|truncate_name|names_digest)$"
)
# Calls that turn anything into a number or a fixed shape: nothing can be injected through them.
NUMERIC_CALLS = frozenset({"len", "int", "float", "bool", "range", "enumerate", "id", "hash"})
# Receivers whose methods return SQL the backend made (``connection.ops.limit_offset_sql``).
INTERNAL_RECEIVERS = frozenset({"ops", "connection", "compiler", "schema_editor", "features"})
# Parameters named as identifiers or SQL fragments (``table_names``, ``placeholder_rows``,
# ``update_fields``, ``where_sql``): what a query builder is handed by its framework's own code.
FRAGMENT_PARAMETERS = re.compile(
    r"(^|_)(tables?|columns?|fields?|index(es)?|constraints?|alias(es)?|placeholders?|sql|"
    r"suffix|prefix|lookup_type|db_table|template|connection|compiler)(_|$)"
)
REQUEST_NAMES = re.compile(r"^(request|req)$|^(self\.)?request\b")
SELF_NAMES = frozenset({"self", "cls", "mcs", "metacls"})
BUILTINS = frozenset(dir(builtins))
Function = ast.FunctionDef | ast.AsyncFunctionDef
Comprehension = ast.GeneratorExp | ast.ListComp | ast.SetComp | ast.DictComp


@dataclass(frozen=True)
class Outside:
    """A part of the SQL text that can come from outside, and why."""

    part: str
    why: str


def formatted_parts_from_outside(tree: ast.Module, line: int) -> list[Outside] | None:
    """The parts formatted into the SQL expression at ``line`` that can come from outside
    (empty: every part is safe); None when no formatting expression is found there."""
    function = _enclosing_function(tree, line)
    scope: ast.AST = function if function else tree
    expression = _sql_expression(scope, line)
    if expression is None:
        return None
    reader = _PartReader(function, tree)
    out: list[Outside] = []
    for part in _interpolated(expression):
        out += reader.outside(part)
    return list({o.part: o for o in out}.values())


def _enclosing_function(tree: ast.Module, line: int) -> Function | None:
    spans = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    return max(spans, key=lambda n: n.lineno) if spans else None


def _is_format(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def _sql_expression(scope: ast.AST, line: int) -> ast.expr | None:
    """The outermost formatting expression that starts at ``line`` (else that spans it)."""
    candidates = [
        n
        for n in ast.walk(scope)
        if isinstance(n, ast.expr)
        and _is_format(n)
        and n.lineno <= line <= (n.end_lineno or n.lineno)
    ]
    starting = [n for n in candidates if n.lineno == line] or candidates
    if not starting:
        return None
    return max(starting, key=lambda n: ((n.end_lineno or 0) - n.lineno, n.end_col_offset or 0))


def _interpolated(node: ast.expr) -> list[ast.expr]:
    """The values put into the text: the right of ``%``, every operand of ``+`` that is not a
    literal, the ``{...}`` of an f-string, the arguments of ``.format``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return [*_interpolated_text(node.left), node.right]
    if isinstance(node, ast.BinOp):
        return [*_interpolated(node.left), *_interpolated(node.right)]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        receiver = node.func.value
        return [*_interpolated_text(receiver), *node.args, *(k.value for k in node.keywords)]
    if isinstance(node, ast.Constant):
        return []
    return [node]


def _interpolated_text(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.Constant):
        return []
    return _interpolated(node) if _is_format(node) else [node]


class _PartReader:
    """Reads one function in its module: its parameters, its local assignments, whether it is
    public, and the module's own names (assigned, imported, defined)."""

    def __init__(self, function: Function | None, tree: ast.Module) -> None:
        self.function = function
        self.public = function is not None and not function.name.startswith("_")
        self.params = _parameters(function) if function else set()
        self.assigned = _assignments(function if function else tree)
        self.module = _assignments(tree) if function else {}
        self.defined = _defined_names(tree)
        self.seen: set[str] = set()

    def outside(self, node: ast.expr) -> list[Outside]:
        """The parts of ``node`` that can come from outside."""
        text = ast.unparse(node)
        if REQUEST_NAMES.search(text):
            return [Outside(text, "request data")]
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute) and _internal_receiver(node):
            return []  # connection.features.bare_select_suffix
        if isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
            return self.outside(node.value)
        return self._compound(node)

    def _compound(self, node: ast.expr) -> list[Outside]:
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp | ast.DictComp):
            return self._comprehension(node)
        return [o for child in _children(node) for o in self.outside(child)]

    def _name(self, name: str) -> list[Outside]:
        if name in SELF_NAMES or name in self.seen:
            return []
        quoted_again = any(_is_quoted(value) for value in self.assigned.get(name, []))
        fragment = FRAGMENT_PARAMETERS.search(name)
        if name in self.params and self.public and self.function and not quoted_again:
            if fragment:
                return []  # an identifier or a SQL fragment by its name: the framework's own
            return [Outside(name, f"a parameter of the public function {self.function.name}()")]
        values = self.assigned.get(name) or self.module.get(name)
        if values:
            self.seen.add(name)
            found = [o for value in values for o in self.outside(value)]
            self.seen.discard(name)
            return [Outside(name, f"built from {found[0].part} ({found[0].why})")] if found else []
        if name in self.params or name in self.defined or name in BUILTINS:
            return []  # a private function's parameter, an import, a function or class
        return [Outside(name, "a name this module never defines")]

    def _call(self, node: ast.Call) -> list[Outside]:
        name = _call_name(node.func)
        if name in NUMERIC_CALLS or QUOTING_CALLS.match(name) or _internal_receiver(node.func):
            return []
        if name == "map" and node.args and _is_quoter(node.args[0]):
            return []  # map(self.quote_name, fields)
        if name == "join" and isinstance(node.func, ast.Attribute):
            return [o for arg in node.args for o in self.outside(arg)]
        parts = [*node.args, *(k.value for k in node.keywords)]
        if isinstance(node.func, ast.Attribute):
            parts.append(node.func.value)
        return [o for part in parts for o in self.outside(part)]

    def _comprehension(self, node: Comprehension) -> list[Outside]:
        """The element's parts; the iterable's too when the element uses its items unquoted."""
        targets = {n.id for g in node.generators for n in _names(g.target)}
        from_iter = [o for g in node.generators for o in self.outside(g.iter)]
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        self.seen |= targets
        try:
            element = [o for e in elements for o in self.outside(e)]
        finally:
            self.seen -= targets
        raw = [e for e in elements if not _is_quoted(e) and {n.id for n in _names(e)} & targets]
        return element + (from_iter if raw else [])


def _is_quoter(node: ast.expr) -> bool:
    """A quoting function named, not called: ``self.quote_name``, ``qn``."""
    named = isinstance(node, ast.Attribute | ast.Name)
    return named and bool(QUOTING_CALLS.match(_call_name(node)))


def _names(node: ast.AST) -> list[ast.Name]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Name)]


def _defined_names(tree: ast.Module) -> set[str]:
    """Every name the module imports or defines with ``def``/``class`` (at any depth)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
    return out


def _is_quoted(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and (
        bool(QUOTING_CALLS.match(_call_name(node.func))) or _internal_receiver(node.func)
    )


def _children(node: ast.AST) -> list[ast.expr]:
    return [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _internal_receiver(func: ast.expr) -> bool:
    """``connection.ops.x(...)``, ``self.connection.ops.x(...)``, ``compiler.x(...)``,
    ``connection.features.x``: what the database backend itself provides."""
    node = func.value if isinstance(func, ast.Attribute) else None
    while isinstance(node, ast.Attribute | ast.Name):
        if (node.attr if isinstance(node, ast.Attribute) else node.id) in INTERNAL_RECEIVERS:
            return True
        node = node.value if isinstance(node, ast.Attribute) else None
    return False


def _parameters(function: Function) -> set[str]:
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {a.arg for a in every if a is not None} - SELF_NAMES


def _assignments(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """Name -> every value assigned to it in ``scope`` (``a, b = f()`` gives both ``f()``;
    ``x += y`` gives ``y``; a loop or ``with`` target gives its iterable or context)."""
    out: dict[str, list[ast.expr]] = {}
    for node in ast.walk(scope):
        for target, value in _bindings(node):
            for name in _bound(target):
                out.setdefault(name, []).append(value)
    return out


def _bound(target: ast.expr) -> list[str]:
    """The names a target binds: ``a, *b`` gives both; ``rows[k] = v`` and ``obj.x = v`` put
    ``v`` into ``rows`` and ``obj``."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _bound(element)]
    if isinstance(target, ast.Starred | ast.Subscript | ast.Attribute):
        return _bound(target.value)
    return []


def _bindings(node: ast.AST) -> list[tuple[ast.expr, ast.expr]]:
    """(target, value) pairs that ``node`` binds."""
    if isinstance(node, ast.Assign):
        return [(target, node.value) for target in node.targets]
    if isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
        return [(node.target, node.value)]
    if isinstance(node, ast.For | ast.AsyncFor):
        return [(node.target, node.iter)]
    if isinstance(node, ast.NamedExpr):
        return [(node.target, node.value)]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return [(node.optional_vars, node.context_expr)]
    return []
