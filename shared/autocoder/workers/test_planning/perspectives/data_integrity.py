"""Data Integrity: writes that are not atomic, serialisation round-trips, transactions without
rollback.

A function that opens a file for writing and never renames a temporary file over it gets a test
that makes the write fail halfway and asserts the old content survived. Encoder/decoder pairs in
one module or class (encode/decode, dumps/loads, to_dict/from_dict, serialize/deserialize...) get
a Hypothesis round-trip property. A function that commits after several SQLite statements with no
rollback and no ``with connection:`` gets a test whose second statement fails.
"""

from __future__ import annotations

import ast
from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import SpecKind, TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._expressions import call_expression, call_imports
from autocoder.workers.test_planning.perspectives._integrity_scan import file_facts
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import (
    import_line,
    make_spec,
    module_alias,
    render,
    test_name,
)

STRATEGIES = {"str": "st.text()", "bytes": "st.binary()", "int": "st.integers()",
              "float": "st.floats(allow_nan=False, allow_infinity=False)", "none": "st.none()",
              "bool": "st.booleans()", "dict": "st.dictionaries(st.text(), st.integers())",
              "list": "st.lists(st.integers())"}  # fmt: skip
GENERICS = {"list": "st.lists({})", "set": "st.sets({})", "optional": "st.none() | {}",
            "dict": "st.dictionaries({}, {})"}  # fmt: skip
HYPOTHESIS = ['import pytest\n\npytest.importorskip("hypothesis")',
              "from hypothesis import given, settings",
              "from hypothesis import strategies as st"]  # fmt: skip
KINDS = ("writes", "pairs", "transactions")
SETTINGS = "@settings(max_examples=100, deadline=None, database=None)"
CRASHING_FILE = '''class _CrashingFile:
    """A file whose every write fails, like a full disk."""

    def __init__(self, handle):
        self._handle = handle

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __iter__(self):
        return iter(self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._handle.close()

    def write(self, *args):
        raise OSError("disk full (injected)")

    writelines = write
'''


# -- test code -----------------------------------------------------------------------------------
def strategy(annotation: str | None) -> str | None:
    """A Hypothesis strategy for an annotation (``dict[str, int]``), None when there is none."""
    try:
        node = ast.parse(annotation or "", mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = strategy(ast.unparse(node.left)), strategy(ast.unparse(node.right))
        return f"{left} | {right}" if left and right else None
    if not isinstance(node, ast.Subscript):
        return STRATEGIES.get(ast.unparse(node).rsplit(".", 1)[-1].lower())
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    inner = [strategy(ast.unparse(i)) for i in items]
    template = GENERICS.get(ast.unparse(node.value).rsplit(".", 1)[-1].lower(), "")
    return template.format(*inner) if template.count("{}") == len(inner) and all(inner) else None


def _write_test(
    fact: dict[str, Any], subject: Subject, inventory: Inventory
) -> tuple[str, str] | None:
    """The crash test of an in-place write, None when no call of the subject can be built (a
    test reading its source for ``os.replace`` would pass on broken code: none is written)."""
    annotation = next((p.annotation or "" for p in subject.params if p.name == fact["path"]), "")
    path = "target" if "Path" in annotation else "str(target)"
    patchable = fact["path"] and fact["call"] == "open"  # the builtin, looked up on the module
    call = call_expression(subject, inventory, {fact["path"]: path}) if patchable else None
    if call is None:
        return None
    body = f"""{CRASHING_FILE}

def {test_name(subject, "keeps_the_old_file_when_a_write_fails")}(tmp_path, monkeypatch):
    target = tmp_path / "existing.data"
    target.write_text("previous content")
    real_open = open
    crashing = lambda *args, **kwargs: _CrashingFile(real_open(*args, **kwargs))
    monkeypatch.setattr(target_module, "open", crashing, raising=False)
    try:
        {call}
    except OSError:
        pass
    assert target.read_text() == "previous content"
"""
    imports = [*call_imports(call), module_alias(subject, "target_module")]
    code = render([*imports, import_line(subject)], body)
    return f"{fact['path']}={path} holding 'previous content'; every write fails", code


def _pair_test(enc: Subject, dec: Subject, inventory: Inventory) -> str | None:
    head = [*HYPOTHESIS, import_line(enc), import_line(dec)]
    name = test_name(enc, f"then_{dec.qualname.split('.')[-1]}_round_trips")
    method = enc.qualname.split(".")[-1]
    data = [p for p in enc.params if p.name not in ("self", "cls") and not p.kind.startswith("var")]
    if enc.kind == "method" and not data and {"classmethod", "staticmethod"} & set(dec.decorators):
        return render(head, f"{SETTINGS}\n@given(obj=st.builds({enc.owner}))\ndef {name}(obj):\n"
                      f"    data = obj.{method}()\n"
                      f"    assert {dec.qualname}(data).{method}() == data\n")  # fmt: skip
    values = strategy(data[0].annotation) if len(data) == 1 else None
    encoded = call_expression(enc, inventory, {data[0].name: "value"}) if values else None
    if encoded is None or enc.kind != dec.kind or enc.is_async or dec.is_async:
        return None
    instance = encoded.rpartition(").")[0]
    decoder = f"{instance}).{dec.qualname.split('.')[-1]}" if instance else dec.qualname
    return render(head, f"{SETTINGS}\n@given(value={values})\ndef {name}(value):\n"
                  f"    assert {decoder}({encoded}) == value\n")  # fmt: skip


def _transaction_test(
    fact: dict[str, Any], subject: Subject, inventory: Inventory
) -> tuple[str, str] | None:
    """The half-failing transaction test, None when no call of the subject can be built."""
    conn = fact["connection"]
    values = {conn: "connection"} if conn and conn != "connect" else {}
    call = call_expression(subject, inventory, values) if conn else None
    if call is None:
        return None
    patch = 'monkeypatch.setattr(target_module.sqlite3, "connect", lambda *a, **k: connection)'
    body = f"""def {test_name(subject, "rolls_back_when_a_statement_fails")}(monkeypatch):
    connection = MagicMock(spec=sqlite3.Connection)
    connection.__enter__.return_value = connection
    calls = []

    def execute(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return MagicMock()

    for owner in (connection, connection.cursor.return_value):
        owner.execute.side_effect = owner.executemany.side_effect = execute
    {patch if conn == "connect" else ""}
    try:
        {call}
    except sqlite3.Error:
        pass
    if len(calls) < 2:
        pytest.skip("the call with sampled arguments does not reach a second statement")
    assert connection.rollback.called or connection.__exit__.called, "no rollback"
    assert not connection.commit.called, "committed half a transaction"
"""
    imports = [*call_imports(call), "import sqlite3", "from unittest.mock import MagicMock"]
    imports.insert(0, "import pytest")
    imports += [module_alias(subject, "target_module"), import_line(subject)]
    return "a MagicMock(spec=sqlite3.Connection) whose 2nd statement fails", render(imports, body)


# -- specs ---------------------------------------------------------------------------------------
def _make(subject: Subject, inventory: Inventory, kind: SpecKind, key: str, line: int,
          **texts: str) -> TestSpec:  # fmt: skip
    return make_spec(perspective=DataIntegrity.name, perspective_id=DataIntegrity.id, boost=2,
                     subject=subject, kind=kind, key=key, line=line, inventory=inventory,
                     rationale=texts["rationale"], inputs=texts["inputs"], mocks=texts["mocks"],
                     expected=texts["expected"], test_code=texts["code"])  # fmt: skip


def _write_spec(w: dict[str, Any], s: Subject, inventory: Inventory) -> TestSpec | None:
    if (test := _write_test(w, s, inventory)) is None:
        return None
    inputs, code = test
    return _make(s, inventory, "integration", f"atomic-write:{w['call']}:{w['path']}", w["line"],
                 rationale=f"{w['call']}() at line {w['line']} truncates the file in place",
                 inputs=inputs, code=code, expected="a failed write leaves the previous content",
                 mocks="open patched on the module; tmp_path")  # fmt: skip


def _transaction_spec(t: dict[str, Any], s: Subject, inventory: Inventory) -> TestSpec | None:
    if (test := _transaction_test(t, s, inventory)) is None:
        return None
    inputs, code = test
    return _make(s, inventory, "unit", f"transaction:{t['owner']}", t["line"], inputs=inputs,
                 rationale=f"commits at line {t['line']} after several statements, no rollback",
                 code=code, expected="a failing statement is rolled back, nothing committed",
                 mocks="unittest.mock.MagicMock(spec=sqlite3.Connection)")  # fmt: skip


def _pair_spec(p: dict[str, Any], enc: Subject, dec: Subject, inventory: Inventory) -> Any:
    code = _pair_test(enc, dec, inventory)
    return code and _make(
        enc, inventory, "property", f"round-trip:{p['decoder']}", p["line"], code=code, mocks="",
        rationale=f"{p['encoder']} and {p['decoder']}: one must read back what the other wrote",
        inputs="generated by Hypothesis from the annotation",
        expected=f"{p['decoder']}({p['encoder']}(x)) == x",
    )  # fmt: skip


def _specs(fact: dict[str, Any], module: str, inventory: Inventory) -> list[TestSpec | None]:
    get = inventory.by_id.get
    out = [_write_spec(w, s, inventory) for w in fact["writes"]
           if (s := get(f"{module}:{w['qualname']}"))]  # fmt: skip
    out += [_transaction_spec(t, s, inventory) for t in fact["transactions"]
            if (s := get(f"{module}:{t['qualname']}"))]  # fmt: skip
    pairs = [(p, get(f"{module}:{p['encoder']}"), get(f"{module}:{p['decoder']}"))
             for p in fact["pairs"]]  # fmt: skip
    return [*out, *(_pair_spec(p, e, d, inventory) if e and d else None for p, e, d in pairs)]


class DataIntegrity:
    id: ClassVar[str] = "data_integrity"
    name: ClassVar[str] = "Data Integrity"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        facts = file_facts(ctx)
        specs = [
            s for f, fact in facts.items() for s in _specs(fact, ctx.sources.module(f), inventory)
        ]
        made = list({s.id: s for s in specs if s is not None}.values())  # one per id
        metrics = {k: sum(len(f[k]) for f in facts.values()) for k in KINDS}
        metrics["without_test"] = specs.count(None)
        evidence = [f"{s.file}:{s.line} {s.subject} ({s.kind})" for s in made]
        return finish(ctx, made, _summary(metrics, len(made)), metrics, {"evidence": evidence[:30]})


def _summary(m: dict[str, int], made: int) -> str:
    if not (m["writes"] or m["pairs"] or m["transactions"]):
        return ("No file written in place, no encoder/decoder pair and no transaction without "
                "rollback: no data integrity specs.")  # fmt: skip
    return (
        f"{m['writes']} writes truncate a file in place with no temporary file renamed over it, "
        f"{m['pairs']} serialisation pairs, {m['transactions']} transactions commit without "
        f"rollback; {made} specs, {m['without_test']} without a test (no call of the subject could "
        "be built from its signature, or a pair whose input type is not annotated)."
    )
