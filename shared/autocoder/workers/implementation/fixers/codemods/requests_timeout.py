"""bandit B113: a ``requests`` call without ``timeout=`` waits forever on a silent server.

The fix adds ``timeout=30`` to the flagged call. A literal, not a new module constant: a
constant would change lines the finding does not point at, and 30 s keeps every call that
worked before working (it bounds the connect and each read, not the whole download) while a
hung server now raises ``requests.Timeout`` instead of blocking the caller for ever.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._common import (
    LineCallCodemod,
    Offer,
    Refused,
    has_star_args,
    keyword,
    offer,
    with_arg,
)
from autocoder.workers.implementation.workitem import WorkItem

TIMEOUT_S = 30
METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
NAMES = frozenset(f"requests.{m}" for m in METHODS) | {f"requests.api.{m}" for m in METHODS}


class AddTimeout(LineCallCodemod):
    NAMES = NAMES

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if has_star_args(updated):
            raise Refused(f"{name}() takes *args/**kwargs that may already carry a timeout")
        if keyword(updated, "timeout") is not None:
            raise Refused(f"{name}() already has a timeout= argument")
        self.note = name
        return with_arg(updated, _timeout_arg())


def _timeout_arg() -> cst.Arg:
    return cst.Arg(
        keyword=cst.Name("timeout"),
        value=cst.Integer(str(TIMEOUT_S)),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    how = Offer(
        fixer="libcst:requests-timeout",
        safe=False,
        title=lambda name: f"add timeout={TIMEOUT_S} to {name}(...)",
        rationale=lambda name: (
            f"{name}() without a timeout blocks for ever when the server accepts the "
            f"connection and never answers (B113); timeout={TIMEOUT_S} bounds the connect and "
            "each read to 30 s. Not behaviour-preserving: a server slower than that now makes "
            "the call raise requests.Timeout, which callers may not handle."
        ),
    )
    return [offer(item, root, AddTimeout, how)]
