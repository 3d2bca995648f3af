"""bandit B201 / AC-WEB-DEBUG: ``app.run(debug=True)`` starts the Werkzeug debugger, which runs
any Python code typed into an error page.

The fix removes ``debug=True``: Flask then takes debug mode from ``FLASK_DEBUG`` (its own
switch, read by ``app.run`` when ``debug`` is not given), so a developer who wants the debugger
runs ``FLASK_DEBUG=1 python app.py`` and a deployment never gets it by default. Only for a
``.run(...)`` on a name that holds ``Flask(...)`` in the same module: a ``run`` of anything else
is not known to read ``FLASK_DEBUG``.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.metadata import CodeRange, PositionProvider, QualifiedNameProvider

from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._common import (
    LineCallCodemod,
    Offer,
    Refused,
    is_true,
    keyword,
    offer,
    without_arg,
)
from autocoder.workers.implementation.workitem import WorkItem

FLASK = frozenset({"flask.Flask", "flask.app.Flask"})


class DropDebug(LineCallCodemod):
    def __init__(self, context: CodemodContext, line: int) -> None:
        super().__init__(context, line)
        self.apps: set[str] = set()  # module names assigned a Flask(...) app

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and self._is_flask(node.value):
            self.apps |= {t.target.value for t in node.targets if isinstance(t.target, cst.Name)}

    def _is_flask(self, call: cst.Call) -> bool:
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, call.func, set())}
        return bool(names & FLASK)

    def target_name(self, call: cst.Call) -> str | None:
        where = self.get_metadata(PositionProvider, call)
        assert isinstance(where, CodeRange)
        func = call.func
        if not where.start.line <= self.line <= where.end.line:
            return None
        runs = isinstance(func, cst.Attribute) and func.attr.value == "run"
        receiver = func.value if isinstance(func, cst.Attribute) else None
        if runs and isinstance(receiver, cst.Name) and receiver.value in self.apps:
            return f"{receiver.value}.run"
        return None

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        debug = keyword(updated, "debug")
        if debug is None or not is_true(debug.value):
            raise Refused(f"{name}() has no literal debug=True to remove")
        self.note = name
        return without_arg(updated, debug)


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    how = Offer(
        fixer="libcst:flask-debug",
        safe=False,
        title=lambda name: f"remove debug=True from {name}(...)",
        rationale=lambda name: (
            f"{name}(debug=True) serves the interactive debugger to any client that triggers "
            "an error, and it runs Python code (CWE-489). Without the argument Flask reads "
            "FLASK_DEBUG, so debugging is an explicit choice of whoever starts the server: "
            "running the file directly no longer reloads on changes or shows tracebacks."
        ),
    )
    return [offer(item, root, DropDebug, how)]
