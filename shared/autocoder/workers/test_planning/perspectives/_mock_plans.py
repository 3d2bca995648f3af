"""The fakes of one Mocking Strategy test: a :class:`Plan` per function with integration points.

:func:`plan_for` gives each boundary the lightest stand-in that keeps the real library (files in
``tmp_path`` or ``mock.mock_open``, ``monkeypatch.setenv``, SQLite in memory, a fixed clock, a
seeded ``random``, ``responses``/``respx`` for HTTP) and replaces the rest with a ``MagicMock``.
Used by the Mocking Strategy perspective.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from autocoder.workers.test_planning.codegen import literal
from autocoder.workers.test_planning.inventory import Subject
from autocoder.workers.test_planning.perspectives._calls import (
    MOCK_IMPORT,
    base_type,
    callable_params,
    module_import,
)
from autocoder.workers.test_planning.perspectives._facts import Boundary, Facts
from autocoder.workers.test_planning.perspectives._fakes import fake_block

PATHY = re.compile(r"(^|_)(path|file|filename|dir|directory|folder)$")
CLOCK = {
    "time.time": "1_700_000_000.0",
    "time.monotonic": "100.0",
    "time.perf_counter": "100.0",
    "time.sleep": "None",
}
DATES = (
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
)
HTTP = ("get", "post", "put", "patch", "delete", "head")
SAMPLE_TEXT = '"sample"'


@dataclass
class Plan:
    """The fakes of one test: set-up lines, argument values, checks, and what each boundary gets."""

    setup: list[str] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)
    init_args: dict[str, str] = field(default_factory=dict)  # of the class, for a method
    checks: list[str] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    prelude: list[str] = field(default_factory=list)  # first lines: importorskip of a mock library
    contexts: list[str] = field(default_factory=list)  # ``with`` blocks around the rest
    fakes: list[Boundary] = field(default_factory=list)  # replaced by a MagicMock in the module
    how: dict[str, str] = field(default_factory=dict)  # boundary call -> what the test does
    labels: list[str] = field(default_factory=list)  # the stand-in of each boundary, in short
    reproducible: bool = False  # clock or randomness pinned: two calls give the same result

    def use(self, b: Boundary, label: str, how: str) -> None:
        self.how[b.call] = how
        self.labels.append(label)


def _path_params(subject: Subject, found: list[Boundary]) -> dict[str, str]:
    """Parameters that name files the function touches -> the name of their file in tmp_path."""
    params = {p.name: p for p in callable_params(subject)}
    named = {b.arg_param for b in found if b.kind == "filesystem" and b.arg_param in params}
    named |= {
        n
        for n, p in params.items()
        if PATHY.search(n) and base_type(p.annotation) in (None, "str", "Path")
    }
    return {
        n: "" if re.search("dir|folder", n) else f"{n}.txt" for n in sorted(n for n in named if n)
    }


def _filesystem(
    plan: Plan, b: Boundary, paths: dict[str, str], facts: Facts, subject: Subject
) -> bool:
    if b.arg is not None or not paths:
        if b.call != "open":
            return False
        plan.setup += [
            'fake_open = mock.mock_open(read_data="{}")',
            'monkeypatch.setattr(subject_module, "open", fake_open, raising=False)',
        ]
        plan.checks.append("assert fake_open.called")
        plan.imports |= {MOCK_IMPORT, module_import(subject)}
        plan.use(b, "mock_open", "mock.mock_open over the module's open: the path is hardcoded")
        return True
    for name, file in paths.items():
        where = f"tmp_path / {literal(file)}" if file else "tmp_path"
        plan.args[name] = f"str({where})"
        create = f'({where}).write_text("{{}}")'
        if file and create not in plan.setup:
            plan.setup.append(create)
        if b.arg_param == name and b.call in ("os.remove", "os.unlink"):
            plan.checks.append(f"assert not ({where}).exists()")
        elif file and b.mode and any(c in b.mode for c in "wax"):
            plan.checks.append(f"assert ({where}).exists()")
            plan.checks += [
                f"assert {SAMPLE_TEXT} in ({where}).read_text()"
                for w in facts.writes
                if w not in paths
            ][:1]
    plan.use(b, "tmp_path", "real files in tmp_path")
    return True


def _environment(plan: Plan, b: Boundary, subject: Subject) -> bool:
    if b.arg is None:
        return False
    value = f"autocoder-{b.arg}"
    plan.setup.append(f"monkeypatch.setenv({b.arg!r}, {value!r})")
    if b.returned and subject.returns in (None, "str"):
        plan.checks.append(f"assert result == {value!r}")
    plan.use(b, "setenv", f"monkeypatch.setenv({b.arg!r}, ...)")
    return True


def _network(plan: Plan, b: Boundary) -> bool:
    method = b.call.rsplit(".", 1)[-1]
    url = f"re.compile({re.escape(b.arg or '')!r} + '.*')"
    if b.call.startswith("requests.") and method in HTTP:
        plan.imports.add("import re")
        plan.prelude.append('responses = pytest.importorskip("responses")')
        plan.contexts.append("with responses.RequestsMock() as http:")
        plan.setup.append(f"http.add(responses.{method.upper()}, {url}, json={{}})")
        plan.checks.append("assert len(http.calls) >= 1")
        plan.use(b, "responses", "responses: the HTTP call answered in-process")
    elif b.call.startswith("httpx.") and method in HTTP:
        plan.imports.add("import httpx")
        plan.prelude.append('respx = pytest.importorskip("respx")')
        plan.contexts.append("with respx.mock(assert_all_called=False) as http:")
        plan.setup.append(
            f"route = http.route(url__startswith={b.arg or ''!r}).mock("
            "return_value=httpx.Response(200, json={}))"
        )
        plan.checks.append("assert route.called")
        plan.use(b, "respx", "respx: the HTTP call answered in-process")
    else:
        return False
    return True


def _local(plan: Plan, b: Boundary, subject: Subject) -> bool:
    """Database, clock and randomness stand-ins that keep the real library."""
    if b.call == "sqlite3.connect":
        plan.imports.add("import sqlite3")
        if b.arg_param:
            plan.args[b.arg_param] = '":memory:"'
        else:
            plan.setup += [
                "connect = sqlite3.connect",
                'monkeypatch.setattr(sqlite3, "connect", '
                'lambda *args, **kwargs: connect(":memory:"))',
            ]
        plan.use(b, "sqlite-memory", "a real SQLite database in memory")
    elif b.call in CLOCK:
        plan.imports.add("import time")
        plan.setup.append(
            f"monkeypatch.setattr(time, {literal(b.call[5:])}, lambda *args: {CLOCK[b.call]})"
        )
        plan.use(
            b, "fixed-clock", "a fixed clock (monkeypatch; freezegun or time-machine do the same)"
        )
        plan.reproducible |= b.call != "time.sleep"
    elif b.call in DATES and b.path.count(".") <= 1:
        plan.imports |= {"import datetime", module_import(subject)}
        base = "datetime.date" if b.call == "datetime.date.today" else "datetime.datetime"
        plan.setup += [
            f"class FixedClock({base}):",
            "    @classmethod",
            "    def now(cls, tz=None):",
            "        return cls(2024, 1, 1)",
            "    today = utcnow = now",
        ]
        owner = f"subject_module.{b.root}" if "." in b.path else "subject_module"
        name = base.split(".")[1] if "." in b.path else b.root
        plan.setup.append(f"monkeypatch.setattr({owner}, {literal(name)}, FixedClock)")
        plan.use(b, "fixed-clock", "a fixed clock: a datetime subclass whose now() is 2024-01-01")
        plan.reproducible = True
    elif b.call.startswith("random.") and b.call != "random.SystemRandom":
        plan.imports.add("import random")
        plan.setup.append("random.seed(1234)")
        plan.use(b, "seed", "random.seed(1234): the real generator, reproducible")
        plan.reproducible = True
    else:
        return False
    return True


SUGGEST = {
    "subprocess": "or pytest-subprocess's fp fixture",
    "network": "aioresponses for aiohttp",
    "database": "or SQLite in memory / a throwaway server",
    "clock": "or freezegun",
    "randomness": "uuid and secrets cannot be seeded",
    "filesystem": "or tmp_path",
    "environment": "or monkeypatch.setenv",
}


def _treat(plan: Plan, b: Boundary, subject: Subject, facts: Facts, paths: dict[str, str]) -> bool:
    if b.kind == "filesystem":
        return _filesystem(plan, b, paths, facts, subject)
    if b.kind == "environment":
        return _environment(plan, b, subject)
    if b.kind == "network":
        return _network(plan, b)
    return _local(plan, b, subject)


def plan_for(subject: Subject, found: list[Boundary], facts: Facts) -> Plan:
    """The fakes for every boundary of ``subject``; a module name that some boundary needs to
    replace with a MagicMock takes all the boundaries going through it along."""
    has_files = any(b.kind == "filesystem" for b in found)
    paths = _path_params(subject, found) if has_files else {}
    faked = {b.root for b in found if not _treat(Plan(), b, subject, facts, paths)}
    plan = Plan()
    for b in found:
        if b.root in faked or not _treat(plan, b, subject, facts, paths):
            plan.fakes.append(b)
            plan.use(
                b,
                "MagicMock",
                f"MagicMock in place of {subject.module}.{b.root} ({SUGGEST[b.kind]})",
            )
    if plan.fakes:
        plan.setup += fake_block(plan.fakes, None, "")
        plan.checks += [
            f"assert fakes[{literal(b.root)}]{f'.{b.path}' if b.path else ''}.called"
            for b in plan.fakes
        ]
        plan.imports |= {MOCK_IMPORT, module_import(subject)}
    return plan
