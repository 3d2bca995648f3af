"""The test code of Edge Case Discovery: one test trying every edge value of a parameter (with
``pytest.raises`` where a value reaches a ``raise``), and a Hypothesis property over typed inputs
that allows only the exceptions the code and its callees raise.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from autocoder.workers.test_planning.inventory import Inventory, Subject
from autocoder.workers.test_planning.perspectives._boundaries import callees
from autocoder.workers.test_planning.perspectives._calls import (
    call_code,
    callable_params,
    init_params,
    ordered_imports,
    result_check,
)
from autocoder.workers.test_planning.perspectives._edge_values import Value, strategy
from autocoder.workers.test_planning.perspectives._facts import Facts, Site
from autocoder.workers.test_planning.perspectives._fakes import IN_TMP
from autocoder.workers.test_planning.perspectives._setup import setup_lines
from autocoder.workers.test_planning.perspectives._solve import (
    exception_ref,
    sample_literal,
    site_exception,
    solve,
)
from autocoder.workers.test_planning.specs import render, test_name

# Text for Hypothesis from a fixed alphabet: no unicode tables to build (seconds) in the target.
ALPHABET_LINE = 'ALPHABET = string.printable + "éüßø✓€日本\\u00a0\\u200b"'


PARSE_ERRORS = {
    "json.": ("json.JSONDecodeError", "import json"),
    "yaml.": ("yaml.YAMLError", 'yaml = pytest.importorskip("yaml")'),
    "pickle.": ("pickle.UnpicklingError", "import pickle"),
    "tomllib.": ("tomllib.TOMLDecodeError", "import tomllib"),
}


def outcome(
    subject: Subject, inventory: Inventory, facts: dict[str, Facts], param: str, value: Any
) -> tuple[str, set[str]] | None:
    """The exception ``subject`` raises with ``param=value`` and sample arguments elsewhere."""
    params = {p.name: p for p in subject.params}
    for site in sorted(facts[subject.id].sites, key=lambda s: s.line):
        sample = sample_literal(params.get(site.param or ""))[1]
        exc = site_exception(site, value if site.param == param else sample)
        ref = exception_ref(subject, inventory, exc) if exc else None
        if ref and solve(subject, inventory, facts, list(site.conds), {param: value}, False):
            return ref
    return None


def _by_design(site: Site) -> Site:
    """A ``raise`` in an ``except`` block counts as one the code raises by design (it turns a
    library's error into its own: ``except PackageNotFoundError: raise ToolMissing(...)``), even
    though no test can say which input reaches it."""
    return dataclasses.replace(site, in_handler=False) if site.what == "raise" else site


def callee_exceptions(
    subject: Subject, inventory: Inventory, facts: dict[str, Facts]
) -> tuple[list[str], set[str]]:
    """What the parsers and the target's functions ``subject`` calls raise."""
    refs, imports = dict[str, None](), set[str]()
    for b in facts[subject.id].boundaries:
        for prefix, (exc, needed) in PARSE_ERRORS.items():
            if b.call.startswith(prefix):
                refs[exc] = None
                imports.add(needed)
    for callee in (c for c in callees(inventory, subject.id, facts[subject.id]) if c.id in facts):
        for site in facts[callee.id].sites:
            raised = site_exception(_by_design(site), "")
            if raised and (ref := exception_ref(callee, inventory, raised)):
                refs[ref[0]] = None
                imports |= ref[1]
    return list(refs), imports


def _call_block(call: str, check: str, allowed: list[str], indent: str = "    ") -> str:
    lines = [f"result = {call}", check] if check else [call]
    if allowed:
        lines = [
            "try:",
            f"    {lines[0]}",
            f"except ({', '.join(allowed)},):",
            "    return  # a failure the code documents",
            *lines[1:],
        ]
    return "".join(f"{indent}{line}\n" for line in lines)


def edge_test(
    subject: Subject,
    inventory: Inventory,
    facts: dict[str, Facts],
    param: str,
    what: str,
    values: list[Value],
) -> tuple[str, dict[str, list[str]]] | None:
    """One test trying every value of ``param``, and which values raise what; None when none
    raises: a call that returns proves only that it returns, which is no behaviour to pin
    (beside a raising value it is the other side of the boundary, and stays)."""
    call, imports = call_code(subject, inventory, {param: param})
    groups: dict[str, list[str]] = {}
    for source, value in values:
        ref = outcome(subject, inventory, facts, param, value)
        imports |= ref[1] if ref else set()
        groups.setdefault(ref[0] if ref else "", []).append(source)
    if set(groups) <= {""}:
        return None
    allowed, more = callee_exceptions(subject, inventory, facts) if "" in groups else ([], set())
    body = f"def {test_name(subject, what)}(monkeypatch, tmp_path):\n    {IN_TMP}\n"
    for exc, sources in groups.items():
        body += f"    for {param} in ({', '.join(sources)},):\n"
        if exc:  # the instance is built outside: a constructor's refusal is no expected raise
            instance, method_call = setup_lines(call)
            body += "".join(f"        {line}\n" for line in instance)
            body += f"        with pytest.raises({exc}):\n            {method_call}\n"
        else:
            block = _call_block(call, result_check(subject), allowed, " " * 8)
            body += block.replace("return  #", "continue  #")
    return render(ordered_imports({*imports, *more, "import pytest"}), body), groups


def allowed_exceptions(
    subject: Subject, inventory: Inventory, facts: dict[str, Facts]
) -> tuple[list[str], set[str]]:
    """What ``subject`` may raise by design: its own raises and those of what it calls."""
    own = [site_exception(_by_design(s), "") for s in facts[subject.id].sites]
    refs = [r for e in own if e and (r := exception_ref(subject, inventory, e))]
    callee, imports = callee_exceptions(subject, inventory, facts)
    return list(dict.fromkeys([r[0] for r in refs] + callee)), imports.union(*(r[1] for r in refs))


def property_test(subject: Subject, inventory: Inventory, facts: dict[str, Facts]) -> str | None:
    """A Hypothesis test: for any typed input, only the known exceptions, and the annotated type.
    Hypothesis is imported inside the test, which is skipped where it is not installed."""
    params = [p for p in callable_params(subject) if not p.kind.startswith("var_")]
    given = {p.name: s for p in params if (s := strategy(p))}
    required = all(p.name in given for p in params if p.default is None)
    check = result_check(subject)
    if not (check and given and required) or subject.returns == "None":
        return None  # "returns None for any input" is what its annotation says: nothing to test
    owner = inventory.by_id.get(f"{subject.module}:{subject.owner}")
    method = subject.kind == "method" and not subject.qualname.endswith(".__init__")
    init = {
        p.name: s
        for p in (init_params(owner, inventory) if owner and method else ())
        if (s := strategy(p))
    }
    call, imports = call_code(
        subject, inventory, {k: k for k in given}, {k: f"init_{k}" for k in init}
    )
    given |= {f"init_{k}": v for k, v in init.items()}
    allowed, more = allowed_exceptions(subject, inventory, facts)
    allowed = list(dict.fromkeys([*allowed, "ValueError"]))  # refusing a value is a contract
    strategies = ", ".join(f"{k}={v}" for k, v in given.items())
    body = (
        f"{ALPHABET_LINE}\n\n\ndef {test_name(subject, 'holds_for_any_typed_input')}"
        f"(monkeypatch, tmp_path):\n    {IN_TMP}\n"
        '    pytest.importorskip("hypothesis")\n'
        "    from hypothesis import given, settings, strategies as st\n\n"
        f"    @settings(max_examples=50, deadline=None, database=None)\n    @given({strategies})\n"
        f"    def check({', '.join(given)}):\n{_call_block(call, check, allowed, ' ' * 8)}\n"
        "    check()\n"
    )
    return render(ordered_imports({*imports, *more, "import pytest", "import string"}), body)
