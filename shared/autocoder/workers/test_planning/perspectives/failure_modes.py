"""Failure Mode Analysis: per function, every way it can fail, each with a test that makes it fail.

Explicit ``raise`` statements (the arguments that reach them are solved from the conditions on the
way: ``Account.withdraw(0)`` gets ``pytest.raises(ValueError)``), exceptions of the calls it makes
(files, parsers, network, databases, subprocesses: injected through fakes), ``os.environ[...]``
(``KeyError`` when unset), ``None`` returned on a path of a function that otherwise returns
values, unchecked ``param[...]`` and ``int(param)``. Facts come from :mod:`._boundaries`; the
arguments that reach a site are found by :func:`._solve.solve`, which evaluates the conditions on
the way (comparisons, arithmetic, ``len`` of literals only) over candidate values taken from them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._boundaries import (
    function_facts,
    reaching_conditions,
    rebinds,
)
from autocoder.workers.test_planning.perspectives._calls import (
    MOCK_IMPORT,
    call_code,
    callable_subject,
    module_import,
    ordered_imports,
    unbuildable_entry,
)
from autocoder.workers.test_planning.perspectives._facts import (
    BOUNDARY_KINDS,
    Boundary,
    Conds,
    Facts,
    Site,
    caught,
)
from autocoder.workers.test_planning.perspectives._fakes import IN_TMP, fake_block
from autocoder.workers.test_planning.perspectives._setup import setup_lines
from autocoder.workers.test_planning.perspectives._solve import (
    call_reaching,
    exception_ref,
    rebound_names,
    solve,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import make_spec, render, slug, test_name

# Resolved call prefix -> "category | exception to inject | the import it needs".
INJECT = {
    "json.": 'parsing | json.JSONDecodeError("injected", "", 0) | import json',
    "yaml.": 'parsing | yaml.YAMLError("injected") | import yaml',
    "pickle.": 'parsing | pickle.UnpicklingError("injected") | import pickle',
    "tomllib.": 'parsing | tomllib.TOMLDecodeError("injected") | import tomllib',
    "requests.": 'network | requests.ConnectionError("injected") | import requests',
    "httpx.": 'network | httpx.ConnectError("injected") | import httpx',
    "aiohttp.": 'network | aiohttp.ClientConnectionError("injected") | import aiohttp',
    "urllib.request.": 'network | urllib.error.URLError("injected") | import urllib.error',
    "socket.": 'network | ConnectionRefusedError("injected") | ',
    "sqlite3.": 'database | sqlite3.OperationalError("injected") | import sqlite3',
    "subprocess.check_": 'subprocess | subprocess.CalledProcessError(1, "cmd") | import subprocess',
    "subprocess.": 'subprocess | FileNotFoundError(2, "injected") | ',
}


def injection(b: Boundary) -> tuple[str, str, str] | None:
    """(category, exception source, its import) to inject into a boundary call, if it can fail."""
    if b.kind == "filesystem":
        writes = b.mode is not None and any(c in b.mode for c in "wax+")
        error = 'PermissionError(13, "injected")' if writes else 'FileNotFoundError(2, "injected")'
        return "filesystem", error, ""
    found = next((v for prefix, v in INJECT.items() if b.call.startswith(prefix)), None)
    return tuple(found.split(" | ")) if found else None  # type: ignore[return-value]


# The None path: inputs solved to reach ``return None``; if the call raises instead, the inputs
# missed the path (the code refusing them is right), so the test is broken, never a bug.
NONE_PATH = """try:
    result = {call}
except Exception as error:
    raise TypeError(f"setup: the inputs did not reach the None path: {{error!r}}") from error
assert result is None"""


def _test(name: str, exc: str | None, call: str, imports: set[str], setup: list[str]) -> str:
    """A test that runs ``setup`` in its own folder, then expects ``exc`` (None: returns None)."""
    instance, call = setup_lines(call)  # a constructor refusing made-up inputs: a broken test
    body = "".join(f"    {line}\n" for line in [IN_TMP, *setup, *instance])
    check = (
        f"    with pytest.raises({exc}):\n        {call}\n"
        if exc
        else "".join(f"    {line}\n" for line in NONE_PATH.format(call=call).splitlines())
    )
    code = f"def {name}(monkeypatch, tmp_path):\n{body}{check}"
    return render(ordered_imports({*imports, "import pytest"} if exc else imports), code)


class _Planner:
    """Turns one function's failure sites and boundaries into specs."""

    def __init__(
        self, inventory: Inventory, facts: dict[str, Facts], reached: dict[str, dict[int, Conds]]
    ) -> None:
        self.inventory, self.facts, self.reached = inventory, facts, reached
        self.kinds: Counter[str] = Counter()
        self.unreached = 0  # raises no derivable arguments reach: no test
        self.faults_not_reached = 0  # boundaries no arguments reach: a fault there proves nothing
        self.rebound: dict[str, dict[str, list[tuple[int, int]]]] = {}  # id -> name -> bindings

    def _spec(self, subject: Subject, what: str, key: str, line: int, why: str, inputs: str,
              expected: str, code: str, mocks: str = "") -> TestSpec:  # fmt: skip
        self.kinds[what] += 1
        return make_spec(
            perspective=FailureModeAnalysis.name, perspective_id=FailureModeAnalysis.id,
            subject=subject, kind="unit", key=key, rationale=why, inputs=inputs,
            expected=expected, test_code=code, inventory=self.inventory, mocks=mocks, line=line,
            boost=1,
        )  # fmt: skip

    def _call(
        self, subject: Subject, site: Site, fixed: dict[str, Any]
    ) -> tuple[str, set[str]] | None:
        if rebound_names(site.conds, self.rebound.get(subject.id, {}), site.line):
            return None
        solution = solve(subject, self.inventory, self.facts, list(site.conds), fixed)
        return None if solution is None else call_code(subject, self.inventory, *solution)

    def _guard(self, subject: Subject, found: list[Boundary]) -> tuple[list[str], set[str]]:
        """Fakes for the function's own boundaries: a test of its logic never reaches out."""
        if not any(b.patchable and b.kind in BOUNDARY_KINDS for b in found):
            return [], set()
        return fake_block(found, None, ""), {MOCK_IMPORT, module_import(subject)}

    def raised(self, subject: Subject, site: Site) -> TestSpec | None:
        exception = exception_ref(subject, self.inventory, site.detail)
        if exception is None or site.in_handler or caught(site.caught, site.detail):
            return None
        when = " and ".join(c if t else f"not ({c})" for c, t in site.conds) or "always"
        name = test_name(subject, f"raises_{site.detail}_when_{slug(_words(when), 40)}")
        solved = self._call(subject, site, {})
        if solved is None:  # no arguments reach it: a test reading the source would prove nothing
            self.unreached += 1
            return None
        inputs = solved[0]
        setup, guard = self._guard(subject, self.facts[subject.id].boundaries)
        code = _test(name, exception[0], inputs, exception[1] | solved[1] | guard, setup)
        why, key = f"{subject.id} raises {site.detail} when {when}.", f"raise:{site.detail}:{when}"
        expected = f"raises {site.detail}"
        return self._spec(subject, "raise", key, site.line, why, inputs, expected, code)

    def value_site(self, subject: Subject, site: Site) -> TestSpec | None:
        """An unchecked ``param[key]``, ``int(param)`` or a ``None`` return, when reachable."""
        exc = {"index": "IndexError" if site.detail.lstrip("-").isdigit() else "KeyError",
               "convert": "ValueError"}.get(site.what)  # fmt: skip
        bad = {"IndexError": [], "KeyError": {}, "ValueError": "not-a-number"}.get(exc or "")
        if exc and site.line not in self.reached.get(subject.id, {}):
            return None  # ``s and s[0]``, a loop, after a return: the bad value may not get there
        solved = self._call(subject, site, {site.param or "": bad} if exc else {})
        if solved is None or (exc and caught(site.caught, exc)):
            return None
        call, imports = solved
        setup, guard = self._guard(subject, self.facts[subject.id].boundaries)
        imports |= guard
        if exc is None and "MagicMock(" in call:
            return None  # a MagicMock argument on the way to ``return None``: isinstance, strptime
            # and arithmetic refuse it, so the test breaks on its own input (seen on click)
        if exc is None:
            code = _test(test_name(subject, "returns_none"), None, call, imports, setup)
            why = f"{subject.id} returns values but falls back to None on one path."
            key = f"none:{site.conds}"
            return self._spec(subject, "none", key, site.line, why, call, "returns None", code)
        index = site.what == "index"
        what = f"{site.param}[{site.detail}]" if index else f"{site.detail}({site.param})"
        code = _test(test_name(subject, f"{what}_raises_{exc}"), exc, call, imports, setup)
        why = f"{subject.id} uses {what} unchecked: {exc} on bad input."
        key, expected = f"{site.what}:{what}", f"raises {exc}"
        return self._spec(subject, site.what, key, site.line, why, call, expected, code)

    def _reaching(self, subject: Subject, b: Boundary) -> tuple[str, set[str]] | None:
        """The call whose arguments get to ``b`` (:func:`._solve.call_reaching`), or None."""
        conds = self.reached.get(subject.id, {}).get(b.line)
        return call_reaching(subject, self.inventory, self.facts, conds)

    def environment(
        self, subject: Subject, b: Boundary, reaching: tuple[str, set[str]]
    ) -> TestSpec:
        call, imports = reaching
        fakes, guard = self._guard(
            subject, [x for x in self.facts[subject.id].boundaries if x.root != b.root]
        )
        setup = [*fakes, f"monkeypatch.delenv({b.arg!r}, raising=False)"]
        imports |= guard
        name = test_name(subject, f"without_{b.arg}_raises_keyerror")
        code = _test(name, "KeyError", call, imports, setup)
        why = f"{subject.id} reads os.environ[{b.arg!r}]: KeyError when it is unset."
        inputs, mocks = f"{b.arg} unset", "monkeypatch.delenv"
        return self._spec(subject, "environment", f"env:{b.arg}", b.line, why, inputs,
                          "raises KeyError", code, mocks)  # fmt: skip

    def boundary(self, subject: Subject, fact: Facts, b: Boundary) -> TestSpec | None:
        """A fault injected into ``b`` propagates: only with arguments solved to reach ``b``
        (else the test fails on "DID NOT RAISE", a defect of the test, not of the code)."""
        reaching = self._reaching(subject, b)
        if reaching is None:
            self.faults_not_reached += injection(b) is not None or b.call == "os.environ[]"
            return None
        if b.call == "os.environ[]" and b.arg is not None:
            return self.environment(subject, b, reaching)
        inject = injection(b)
        if inject is None or not b.patchable or fact.caught_at(b.line, inject[1].split("(")[0]):
            return None
        category, error, needed = inject
        exc = error.split("(", 1)[0]
        call, imports = reaching
        imports |= {needed, MOCK_IMPORT, module_import(subject)}
        name = test_name(subject, f"propagates_{exc}_from_{b.call}")
        code = _test(name, exc, call, imports, fake_block(fact.boundaries, b, error))
        why = f"{subject.id} calls {b.call} ({category}) without handling {exc}."
        inputs, mocks = (
            f"{b.call} raises {exc}",
            f"patch {subject.module}.{b.root}; {b.call} raises {exc}",
        )
        key, expected = f"call:{b.call}:{exc}", f"{exc} propagates to the caller"
        return self._spec(subject, category, key, b.line, why, inputs, expected, code, mocks)


def _words(condition: str) -> str:
    """``qty <= 0`` -> ``qty le 0``: operators a test name can keep."""
    for op, word in (
        ("<=", "le"),
        (">=", "ge"),
        ("==", "eq"),
        ("!=", "ne"),
        ("<", "lt"),
        (">", "gt"),
    ):
        condition = condition.replace(op, f" {word} ")
    return condition


class FailureModeAnalysis:
    id: ClassVar[str] = "failure_modes"
    name: ClassVar[str] = "Failure Mode Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        facts = function_facts(ctx, inventory)
        callable_ones = [s for s in inventory.subjects if callable_subject(s, inventory)]
        planner = _Planner(inventory, facts, reaching_conditions(ctx, callable_ones))
        planner.rebound = rebinds(ctx, callable_ones)
        specs: list[TestSpec | None] = []
        for subject in (s for s in callable_ones if s.id in facts):
            fact = facts[subject.id]
            specs += [planner.raised(subject, s) for s in fact.sites if s.what == "raise"]
            specs += [planner.value_site(subject, s) for s in fact.sites if s.what != "raise"]
            specs += [planner.boundary(subject, fact, b) for b in fact.boundaries]
        unique = {s.id: s for s in specs if s is not None}
        subjects = {s.subject for s in unique.values()}
        kinds = ", ".join(f"{n} {k}" for k, n in planner.kinds.most_common())
        summary = (
            f"{len(unique)} failure modes in {len(subjects)} functions ({kinds}); each has a test "
            "that makes it happen."
            if unique
            else "No raise, failing call, None return or unchecked index in "
            f"{len(facts)} functions."
        )
        metrics = {
            "failure_modes": len(unique),
            "functions_that_can_fail": len(subjects),
            "by_failure": dict(planner.kinds.most_common()),
            "raises_not_reached": planner.unreached,
            "faults_not_reached": planner.faults_not_reached,
        }
        return finish(
            ctx, list(unique.values()), summary, metrics, skipped=unbuildable_entry(inventory)
        )
