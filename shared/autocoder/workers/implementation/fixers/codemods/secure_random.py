"""bandit B311: the ``random`` module's generator is predictable (Mersenne Twister); tokens,
passwords and keys need the operating system's generator.

``random.choice(x)`` becomes ``secrets.choice(x)``, ``random.randrange(n)`` becomes
``secrets.randbelow(n)``, and the other draws (``randint``, ``random``, ``uniform``,
``choices``, ``sample``, ``shuffle``, ``getrandbits``, two-argument ``randrange``) become the
same method of ``secrets.SystemRandom()``, whose API is ``random.Random``'s, so arguments and
results keep their meaning. Refused in a module that calls ``random.seed`` (it wants
reproducible draws, which the OS generator cannot give) and where nothing around the draw
(:mod:`._context`) names a token, password, key or PIN: bandit flags every draw, and lorem
ipsum or a retry jitter gains nothing from the change.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import QualifiedNameProvider

from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods._common import (
    LineCallCodemod,
    Offer,
    Refused,
    has_star_args,
    offer,
)
from autocoder.workers.implementation.fixers.codemods._context import SECRET_DRAWS, mentions
from autocoder.workers.implementation.workitem import WorkItem

SYSTEM_RANDOM = frozenset(
    {"randint", "random", "uniform", "choices", "sample", "shuffle", "getrandbits", "randrange",
     "triangular", "betavariate", "expovariate", "gauss", "normalvariate"}
)  # fmt: skip
NAMES = frozenset(f"random.{m}" for m in SYSTEM_RANDOM | {"choice"})


class SecretsRandom(LineCallCodemod):
    NAMES = NAMES

    def __init__(self, context: CodemodContext, line: int) -> None:
        super().__init__(context, line)
        self.seeded = False

    def visit_Call(self, node: cst.Call) -> None:
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, node.func, set())}
        self.seeded = self.seeded or "random.seed" in names

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self.seeded and self.matched:
            raise Refused("the module calls random.seed: it wants reproducible draws")
        return updated_node

    def rewrite(self, name: str, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if has_star_args(updated):
            raise Refused(f"{name}() takes *args/**kwargs")
        method = name.removeprefix("random.")
        positional = [a for a in updated.args if a.keyword is None]
        if method == "choice":
            func: cst.BaseExpression = _secrets("choice")
        elif method == "randrange" and len(updated.args) == 1 and len(positional) == 1:
            func = _secrets("randbelow")
        else:
            func = cst.Attribute(cst.Call(_secrets("SystemRandom")), cst.Name(method))
        AddImportsVisitor.add_needed_import(self.context, "secrets")
        RemoveImportsVisitor.remove_unused_import_by_node(self.context, original.func)
        self.note = f"{name}(...) -> {cst.Module([]).code_for_node(func)}(...)"
        return updated.with_changes(func=func)


def _secrets(attr: str) -> cst.Attribute:
    return cst.Attribute(cst.Name("secrets"), cst.Name(attr))


def fixes(item: WorkItem, root: Path) -> list[Fix]:
    if not mentions(root, item, SECRET_DRAWS):
        raise Refused(
            "nothing around the draw names a token, password, key, PIN or the like: B311 flags "
            "every use of random, and a shuffle or sample data needs no OS generator"
        )
    how = Offer(
        fixer="libcst:secure-random",
        safe=False,
        title=lambda note: f"draw from the OS generator: {note}",
        rationale=lambda note: (
            f"{note}: random's Mersenne Twister can be predicted from its past outputs, so a "
            "token or password drawn from it can be guessed (CWE-330). The OS generator takes "
            "the same arguments and gives the same kind of result, but it cannot be seeded: "
            "a test that patched random or fixed its seed to get this value no longer does."
        ),
    )
    return [offer(item, root, SecretsRandom, how)]
