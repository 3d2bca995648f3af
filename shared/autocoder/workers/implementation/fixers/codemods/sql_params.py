"""bandit B608 / AC-WEB-SQLI: SQL text built by splicing values, rewritten as a parameterized
``cursor.execute(sql, params)`` with the placeholder of the driver the file imports.

Handles ``f"..."``, ``"..." % x``, ``"...".format(x)`` and ``"..." + x`` (read by
:mod:`._sql_parts`) passed to ``.execute(...)`` with no parameters yet; :mod:`._sql_text`
decides whether each value sits where SQL expects a value. Refused: an unknown or mixed driver,
SQL built elsewhere and passed by name, conversions and format specs (``{x!r}``, ``%5s``),
values used as names.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.metadata import CodeRange, PositionProvider

from autocoder.workers.implementation.fixers.codemods._common import (
    LineCallCodemod,
    Refused,
)
from autocoder.workers.implementation.fixers.codemods._sql_parts import statement
from autocoder.workers.implementation.fixers.codemods._sql_text import parameterize

QMARK = frozenset({"sqlite3", "aiosqlite"})
# django.db cursors take %s for every backend (and want a literal % doubled once params are passed)
FORMAT = frozenset({"psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql", "aiomysql", "django"})


class ParameterizeSql(LineCallCodemod):
    def __init__(self, context: CodemodContext, line: int) -> None:
        super().__init__(context, line)
        self.drivers: set[str] = set()

    def visit_Module(self, node: cst.Module) -> None:
        imports = _ImportedModules()
        node.visit(imports)  # all of them first: an import may come after the call
        self.drivers = imports.names

    def target_name(self, call: cst.Call) -> str | None:
        where = self.get_metadata(PositionProvider, call)
        assert isinstance(where, CodeRange)
        on_line = where.start.line <= self.line <= where.end.line
        if on_line and isinstance(call.func, cst.Attribute) and call.func.attr.value == "execute":
            return "execute"
        return None

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if len(updated.args) != 1 or updated.args[0].keyword or updated.args[0].star:
            raise Refused("execute() already takes parameters or more than the SQL text")
        sql_arg = updated.args[0]
        new_sql, values = self.bind(sql_arg.value)
        return with_params(updated, sql_arg.with_changes(value=new_sql), values)

    def bind(self, sql: cst.BaseExpression) -> tuple[cst.SimpleString, cst.Tuple]:
        """The SQL text with placeholders, and the tuple of values to bind to them."""
        literal, parts = statement(sql)
        placeholder = self._placeholder()
        result = parameterize(parts, placeholder)
        self.note = f"{len(result.values)} value(s), placeholder {placeholder}"
        text = f"{literal.prefix}{literal.quote}{result.sql}{literal.quote}"
        return cst.SimpleString(text), _tuple(result.values)

    def _placeholder(self) -> str:
        styles = {"?" for d in self.drivers & QMARK} | {"%s" for d in self.drivers & FORMAT}
        if len(styles) != 1:
            found = ", ".join(sorted(self.drivers & (QMARK | FORMAT))) or "none"
            raise Refused(f"the placeholder style is unknown: DB-API drivers imported: {found}")
        return styles.pop()


class _ImportedModules(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self.names.add(cst.helpers.get_full_name_for_node_or_raise(alias.name).split(".")[0])

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and not node.relative:
            self.names.add(cst.helpers.get_full_name_for_node_or_raise(node.module).split(".")[0])


def with_params(call: cst.Call, sql_arg: cst.Arg, values: cst.Tuple) -> cst.Call:
    """``call`` taking ``sql_arg`` then ``values``, in the layout of its one argument."""
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    params = cst.Arg(values, whitespace_after_arg=sql_arg.whitespace_after_arg)
    first = sql_arg.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
    return call.with_changes(args=[first, params])


def _tuple(values: list[cst.BaseExpression]) -> cst.Tuple:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    elements = [cst.Element(v, comma=comma) for v in values[:-1]]
    last = cst.Element(
        values[-1], comma=cst.Comma() if len(values) == 1 else cst.MaybeSentinel.DEFAULT
    )
    return cst.Tuple([*elements, last])
