"""Error Handling: bare or broad ``except``, swallowed exceptions, and error paths no test takes.

A handler that catches everything, or only passes, returns None or logs, gets a test that makes
the first patchable call of its ``try`` body fail and asserts the failure stays visible (raised,
logged at WARNING or above, or printed to stderr). A ``raise`` guarded by a literal comparison on
a parameter (``if amount <= 0``) that no ``pytest.raises`` of the target's tests pairs with its
function gets a test that takes that path. Calls are built from signatures by :mod:`._expressions`.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any, ClassVar

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import cached_per_file, require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.codegen import dotted, is_dotted
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._expressions import (
    call_expression,
    call_imports,
    parse_file,
    sample,
    trigger,
)
from autocoder.workers.test_planning.perspectives._syntax import function_nodes
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import (
    import_line,
    make_spec,
    module_alias,
    render,
    slug,
    test_name,
)

TOOL, VERSION = "autocoder-tp-error_handling", f"{__version__}-3"
BROAD = {"Exception", "BaseException"}
LOGS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print"}
FALSY = {"'x'": "''", "1": "0", "1.0": "0.0", "b'x'": "b''", "True": "False", "[]": "[]",
         "{}": "{}", "set()": "set()", "()": "()"}  # fmt: skip
Found = list[tuple[dict[str, Any], Subject]]


def module_names(tree: ast.Module) -> set[str]:
    """Names bound at module level (imports, definitions, assignments): patchable on the module."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


# -- facts per file (cached by content) ----------------------------------------------------------
def _names(node: ast.expr | None) -> list[str]:
    items = [] if node is None else node.elts if isinstance(node, ast.Tuple) else [node]
    return [ast.unparse(n) for n in items]


def _quiet(stmt: ast.stmt) -> bool:
    """``pass``, ``continue``, ``return None`` or a logging / print call."""
    if isinstance(stmt, ast.Pass | ast.Continue | ast.Return):
        value = getattr(stmt, "value", None)
        return value is None or (isinstance(value, ast.Constant) and value.value is None)
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return isinstance(call, ast.Call) and ast.unparse(call.func).split(".")[-1] in LOGS


def _injection(body: list[ast.stmt], patchable: set[str]) -> str | None:
    """The first call in ``body`` a test can patch on the module, e.g. ``open`` or ``os.remove``."""
    for node in (n for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Call)):
        func = node.func
        if isinstance(func, ast.Name) and (func.id in patchable or hasattr(builtins, func.id)):
            return func.id
        value = func.value if isinstance(func, ast.Attribute) else None
        if isinstance(value, ast.Name) and value.id in patchable:
            return ast.unparse(func)
    return None


def _handler(qualname: str, node: ast.Try, h: ast.ExceptHandler, patchable: set[str]) -> Any:
    types = _names(h.type)
    broad, swallows = not types or bool(BROAD & set(types)), all(_quiet(s) for s in h.body)
    if any(isinstance(n, ast.Raise) for n in ast.walk(h)) or not (broad or swallows):
        return None
    rule = "bare-except" if not types else "broad-except" if broad else "swallowed"
    return {"qualname": qualname, "line": h.lineno, "rule": rule, "types": types,
            "swallows": swallows, "inject": _injection(node.body, patchable)}  # fmt: skip


def _raise(qualname: str, stmt: ast.Raise, guard: list[str] | None) -> dict[str, Any]:
    exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
    name = ast.unparse(exc) if exc is not None else "?"
    return {"qualname": qualname, "line": stmt.lineno, "exception": name, "guard": guard}


def _facts(qualname: str, func: ast.FunctionDef | ast.AsyncFunctionDef, patchable: set[str]) -> Any:
    params = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
    handlers, raises = [], []
    for node in ast.walk(func):
        if isinstance(node, ast.Try):
            handlers += [_handler(qualname, node, h, patchable) for h in node.handlers]
        elif isinstance(node, ast.If):
            guard = trigger(node.test, params) if node in func.body else None  # taken for sure
            raises += [_raise(qualname, s, guard) for s in node.body
                       if isinstance(s, ast.Raise) and s.exc is not None]  # fmt: skip
    return [h for h in handlers if h], raises


def _test_pairs(tree: ast.Module) -> list[list[list[str]]]:
    """[exception names, called names] of each ``with pytest.raises(...)`` in a test file."""
    pairs = []
    for node in (n for n in ast.walk(tree) if isinstance(n, ast.With)):
        for call in (i.context_expr for i in node.items if isinstance(i.context_expr, ast.Call)):
            if "raises" in ast.unparse(call.func).rsplit(".", 1)[-1].lower() and call.args:
                called = {ast.unparse(c.func).split(".")[-1] for s in node.body
                          for c in ast.walk(s) if isinstance(c, ast.Call)}  # fmt: skip
                pairs.append([[n.split(".")[-1] for n in _names(call.args[0])], sorted(called)])
    return pairs


def _scan(ctx: RunContext, file: str) -> dict[str, Any]:
    tree = parse_file(ctx, file)
    if tree is None or is_test_file(file):
        pairs = _test_pairs(tree) if tree else []
        return {"handlers": [], "raises": [], "pairs": pairs}
    patchable = module_names(tree)
    found = [_facts(q, f, patchable) for q, f in function_nodes(tree)]
    return {"handlers": [h for hs, _ in found for h in hs], "pairs": [],
            "raises": [r for _, rs in found for r in rs]}  # fmt: skip


# -- specs ---------------------------------------------------------------------------------------
def _exception(name: str, subject: Subject) -> tuple[str, str] | None:
    """(import line, expression) of an exception class as ``subject``'s module names it; None
    when the handler or raise does not name it (``except errors[0]``)."""
    if not is_dotted(name):
        return None
    if hasattr(builtins, name):
        return "", name
    if "." not in name:
        return f"from {dotted(subject.module)} import {name}", name
    return module_alias(subject, "target_module"), f"target_module.{name}"


def _tested(fact: dict[str, Any], subject: Subject, pairs: list[list[list[str]]]) -> bool:
    wanted = {fact["exception"].split(".")[-1], *BROAD}
    names = {subject.qualname.split(".")[-1], subject.owner}
    return any(wanted & set(excs) and names & set(called) for excs, called in pairs)


def _raise_spec(fact: dict[str, Any], subject: Subject, inventory: Inventory) -> TestSpec | None:
    param, value = fact["guard"]
    if value == "FALSY":
        annotation = next((p.annotation for p in subject.params if p.name == param), None)
        value = FALSY.get(sample(annotation) or "", "None")
    call = call_expression(subject, inventory, {param: value})
    if call is None:
        return None
    named = _exception(fact["exception"], subject)
    if named is None:
        return None
    head, exc = named
    label = slug(value.replace("-", "minus_")) if value.strip("'\"b") else "empty"
    body = (f"def {test_name(subject, f'raises_{exc}_when_{param}_is_{label}')}():\n"
            f"    with pytest.raises({exc}):\n        {call}\n")  # fmt: skip
    return make_spec(
        perspective=ErrorHandling.name, perspective_id=ErrorHandling.id, subject=subject,
        kind="unit", key=f"raise:{fact['exception']}:{param}", line=fact["line"], boost=1,
        rationale=f"{subject.qualname} raises {fact['exception']} at line {fact['line']} and no "
        "pytest.raises of the target's tests takes that path.", inventory=inventory,
        inputs=f"{param}={value}; other required parameters sampled from their annotations",
        expected=f"{fact['exception']} is raised",
        test_code=render(["import pytest", *call_imports(call), head, import_line(subject)], body),
    )  # fmt: skip


def _handler_spec(fact: dict[str, Any], subject: Subject, inventory: Inventory) -> TestSpec | None:
    call, target = call_expression(subject, inventory, {}), fact["inject"]
    if call is None or target is None:
        return None
    caught = [t for t in fact["types"] if t not in BROAD]
    named = _exception(caught[0], subject) if caught else ("", "RuntimeError")
    if named is None:
        return None
    head, exc = named
    owner, _, attr = target.rpartition(".")
    where = f"target_module.{owner}" if owner else "target_module"
    patch = f"{where}, {attr!r}, fail" + ("" if owner else ", raising=False")
    name = test_name(subject, f"does_not_hide_{target}_failures")
    body = f"""def {name}(monkeypatch, caplog, capsys, recwarn):
    reached = []

    def fail(*args, **kwargs):
        reached.append(args)
        raise {exc}("injected failure")

    monkeypatch.setattr({patch})
    caplog.set_level(logging.WARNING)
    try:
        {call}
    except (Exception, SystemExit):
        raised = True
    else:
        raised = False
    if not reached:
        pytest.skip("the call with sampled arguments does not reach the try block")
    visible = raised or caplog.records or capsys.readouterr().err or len(recwarn)
    assert visible, "the failure was swallowed: not raised, logged or printed"
"""
    imports = ["import logging", *call_imports(call), "import pytest"]
    imports += [module_alias(subject, "target_module")]
    imports += [head, import_line(subject)]
    caught_text = ", ".join(fact["types"]) or "everything (bare except)"
    return make_spec(
        perspective=ErrorHandling.name, perspective_id=ErrorHandling.id, subject=subject,
        kind="unit", key=f"handler:{fact['rule']}:{caught_text}:{target}", line=fact["line"],
        rationale=f"{fact['rule']} at line {fact['line']} catches {caught_text} and "
        + ("only passes, returns None or logs" if fact["swallows"] else "does not re-raise"),
        inputs=f"{target} patched to raise {exc}; required parameters sampled",
        expected="the failure stays visible: raised, logged at WARNING+, warned, or on stderr",
        mocks=f"monkeypatch {target} on {subject.module}", boost=2 if fact["swallows"] else 1,
        test_code=render(imports, body), inventory=inventory,
    )  # fmt: skip


class ErrorHandling:
    id: ClassVar[str] = "error_handling"
    name: ClassVar[str] = "Error Handling"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        facts = cached_per_file(ctx.cache, TOOL, VERSION, ctx.sources, ctx.sources.python,
                                lambda miss: {f: _scan(ctx, f) for f in miss})  # fmt: skip
        pairs = [p for fact in facts.values() for p in fact["pairs"]]
        found = {kind: [(f, inventory.by_id[f"{ctx.sources.module(file)}:{f['qualname']}"])
                        for file, per in facts.items() for f in per[kind]
                        if f"{ctx.sources.module(file)}:{f['qualname']}" in inventory.by_id]
                 for kind in ("handlers", "raises")}  # fmt: skip
        handlers = found["handlers"]
        untested = [(f, s) for f, s in found["raises"] if not _tested(f, s, pairs)]
        specs = [_handler_spec(f, s, inventory) for f, s in handlers]
        specs += [_raise_spec(f, s, inventory) for f, s in untested if f["guard"]]
        made = list({s.id: s for s in specs if s is not None}.values())  # one per id
        covered = {(m.subject, m.line) for m in made}
        left = [_where(f, s) for f, s in handlers + untested if (s.id, f["line"]) not in covered]
        metrics = _metrics(handlers, untested, len(left))
        summary = _summary(handlers, untested, len(made), metrics)
        return finish(ctx, made, summary, metrics, {"not_turned_into_tests": left[:30]})


def _where(fact: dict[str, Any], subject: Subject) -> str:
    return f"{subject.file}:{fact['line']} ({subject.qualname})"


def _metrics(handlers: Found, untested: Found, left: int) -> dict[str, Any]:
    rules = [f["rule"] for f, _ in handlers]
    return {
        "bare_except": rules.count("bare-except"),
        "broad_except": rules.count("broad-except"),
        "swallowed": sum(1 for f, _ in handlers if f["swallows"]),
        "untested_error_paths": len(untested),
        "findings_without_test": left,
    }


def _summary(handlers: Found, untested: Found, made: int, m: dict[str, Any]) -> str:
    if not handlers and not untested:
        return (
            "No bare or broad except, no swallowed exception, and every guarded raise is taken "
            "by a pytest.raises of the target's tests: no error handling specs."
        )
    first = ", ".join(_where(f, s) for f, s in (handlers + untested)[:3])
    return (
        f"{len(handlers)} handlers can hide failures ({m['bare_except']} bare, {m['broad_except']} "
        f"broad, {m['swallowed']} only pass, return None or log) and {len(untested)} raise "
        f"statements are taken by no pytest.raises of the target's tests; {made} became tests, "
        f"{m['findings_without_test']} could not (no patchable call, or arguments not derivable "
        f"from the signature). First: {first}."
    )
