"""bandit B608 flags the line that *builds* the SQL, which is often an assignment:
``query = f"... {x}"`` followed by ``cur.execute(query)``. Rewritten as
``query = "... ?"`` and ``cur.execute(query, (x,))`` only when the execute statement comes
right after the assignment in the same block and the name is used nowhere else: then the
values (plain names, attributes or items) read one statement later mean the same, and no
other code sees ``query`` (a function's local, used nowhere else, nested functions included).
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m
from libcst.metadata import CodeRange, FunctionScope, PositionProvider, ScopeProvider

from autocoder.workers.implementation.fixers.codemods._common import Refused
from autocoder.workers.implementation.fixers.codemods.sql_params import ParameterizeSql, with_params

PLAIN = m.Name() | m.Attribute(value=m.Name()) | m.Subscript(value=m.Name())


class ParameterizeSqlVariable(ParameterizeSql):
    def target_name(self, call: cst.Call) -> str | None:
        return None  # calls are handled with the assignment they follow, in the block

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._body(original_node.body, updated_node.body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._body(original_node.body, updated_node.body))

    def _body(
        self, original: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]
    ) -> list[cst.BaseStatement]:
        body = list(updated)
        for index, statement in enumerate(original):
            name = self._sql_name(statement)
            if name is None:
                continue
            self.matched.append(f"{name.value} = <SQL>")
            if index + 1 >= len(original):
                raise Refused(f"{name.value} is not executed by the next statement")
            call = _execute_of(original[index + 1], name.value)
            self._require_only_use(name, call)
            new_sql, values = self.bind(_assigned(statement))
            _require_plain(values)
            body[index] = _with_value(body[index], new_sql)
            old_call = _execute_of(body[index + 1], name.value)
            new_call = with_params(old_call, old_call.args[0], values)
            body[index + 1] = cst.ensure_type(
                body[index + 1].visit(_Replace(old_call, new_call)), cst.SimpleStatementLine
            )
        return body

    def _sql_name(self, statement: cst.BaseStatement) -> cst.Name | None:
        """The name assigned on the flagged line by ``statement``, if it is ``NAME = <expr>``."""
        where = self.get_metadata(PositionProvider, statement)
        assert isinstance(where, CodeRange)
        if not where.start.line <= self.line <= where.end.line:
            return None
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        assign = statement.body[0]
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            return None
        target = assign.targets[0].target
        return target if isinstance(target, cst.Name) else None

    def _require_only_use(self, name: cst.Name, call: cst.Call) -> None:
        scope = self.get_metadata(ScopeProvider, name)
        if not isinstance(scope, FunctionScope):
            raise Refused(f"{name.value} is not a function's local: other code may read it")
        uses = [a.node for a in scope.accesses[name.value]]
        mentions = m.findall(scope.node, m.Name(name.value))  # nested functions included
        if len(scope.assignments[name.value]) != 1 or uses != [call.args[0].value]:
            raise Refused(f"{name.value} is assigned or used elsewhere: rewriting it is unsafe")
        if len(mentions) != 2:
            raise Refused(f"{name.value} is named {len(mentions)} times in the function, not 2")


def _require_plain(values: cst.Tuple) -> None:
    """Values read later than before must not compute anything: names, attributes, items."""
    for element in values.elements:
        if not m.matches(element.value, PLAIN):
            code = cst.Module([]).code_for_node(element.value)
            raise Refused(f"{code} would be evaluated one statement later: not a plain name")


class _Replace(cst.CSTTransformer):
    """Puts ``new`` where ``old`` (that very node) is."""

    def __init__(self, old: cst.Call, new: cst.Call) -> None:
        super().__init__()
        self.old, self.new = old, new

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        return self.new if original_node is self.old else updated_node


def _assigned(statement: cst.BaseStatement) -> cst.BaseExpression:
    assert isinstance(statement, cst.SimpleStatementLine)
    assign = statement.body[0]
    assert isinstance(assign, cst.Assign)
    return assign.value


def _with_value(statement: cst.BaseStatement, value: cst.BaseExpression) -> cst.BaseStatement:
    assert isinstance(statement, cst.SimpleStatementLine)
    assign = statement.body[0]
    assert isinstance(assign, cst.Assign)
    return statement.with_changes(body=[assign.with_changes(value=value)])


def _execute_of(statement: cst.BaseStatement, name: str) -> cst.Call:
    """The one ``<x>.execute(name)`` call in ``statement``; :class:`Refused` otherwise."""
    pattern = m.Call(
        func=m.Attribute(attr=m.Name("execute")), args=[m.Arg(value=m.Name(name), keyword=None)]
    )
    found = m.findall(statement, pattern)
    if not isinstance(statement, cst.SimpleStatementLine) or len(found) != 1:
        raise Refused(f"the statement after the assignment is not one <cursor>.execute({name})")
    call = found[0]
    assert isinstance(call, cst.Call)
    return call
