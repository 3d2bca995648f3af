"""bandit B608 / AC-WEB-SQLI: the SQL injection fix, in the two shapes the flagged line takes:
the call itself (:mod:`.sql_params`) or the assignment that builds the SQL right before the
call (:mod:`.sql_variable`)."""

from __future__ import annotations

from pathlib import Path

from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._common import Offer, Refused, offer
from autocoder.workers.implementation.fixers.codemods.sql_params import ParameterizeSql
from autocoder.workers.implementation.fixers.codemods.sql_variable import ParameterizeSqlVariable
from autocoder.workers.implementation.workitem import WorkItem


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    """The call form first (``cur.execute(f"...")``), then ``sql = f"..."`` executed by the
    next statement; the refusal names both reasons."""
    try:
        return [offer(item, root, ParameterizeSql, SQL_OFFER)]
    except Refused as as_call:
        try:
            return [offer(item, root, ParameterizeSqlVariable, SQL_OFFER)]
        except Refused as as_variable:
            raise Refused(f"{as_call}; as an assigned statement: {as_variable}") from as_variable


SQL_OFFER = Offer(
    fixer="libcst:sql-parameters",
    safe=False,
    title=lambda note: f"pass the spliced SQL values as execute() parameters ({note})",
    rationale=lambda note: (
        "The SQL text was built by splicing values into it, so a value holding a quote "
        "rewrites the statement (SQL injection, CWE-89). The values are now bound by the "
        f"driver ({note}), each where SQL expects a value. This changes the SQL sent: a "
        "value is bound with its own Python type instead of as text spliced into the "
        "statement (a number that was quoted is now compared as a number), and a literal "
        "'%' is doubled for %s-style drivers."
    ),
)
