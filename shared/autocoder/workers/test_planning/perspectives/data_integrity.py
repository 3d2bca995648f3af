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
import re
from typing import Any, ClassVar

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import cached_per_file, require_python
from autocoder.schema import SpecKind, TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._expressions import (
    call_expression,
    call_imports,
    functions,
    parse_file,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, test_name

TOOL, VERSION = "autocoder-tp-data_integrity", f"{__version__}-3"
OPPOSITES = [("encode", "decode"), ("serialize", "deserialize"), ("serialise", "deserialise"),
             ("dumps", "loads"), ("dump", "load"), ("to", "from"), ("pack", "unpack"),
             ("compress", "decompress"), ("encrypt", "decrypt")]  # fmt: skip
# a rename or move over the target, or a temporary file (mkstemp, NamedTemporaryFile) written first
RENAME = (r"(os\.replace|os\.rename|shutil\.move|_move\w*|mkstemp|NamedTemporaryFile)\("
          r"|\.(replace|rename)\([^,()]*\)")  # fmt: skip
EXECUTES = {"execute", "executemany", "executescript"}
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


# -- facts per file (cached by content) ----------------------------------------------------------
def _open_mode(call: ast.Call) -> str:
    modes = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "mode")]
    mode = modes[0] if modes else None
    return mode.value if isinstance(mode, ast.Constant) and isinstance(mode.value, str) else "r"


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _writes(func: ast.AST, calls: list[ast.Call], params: set[str]) -> list[dict[str, Any]]:
    """Calls that truncate a file, in a function that renames nothing over it."""
    out = []
    for call in calls:
        name = _name(call)
        if name in ("write_text", "write_bytes") or (name == "open" and "w" in _open_mode(call)):
            path = call.args[0] if name == "open" and call.args else None
            param = path.id if isinstance(path, ast.Name) and path.id in params else None
            out.append({"line": call.lineno, "call": ast.unparse(call.func), "path": param})
    return out if out and not re.search(RENAME, ast.unparse(func)) else []


def _transaction(func: ast.AST, calls: list[ast.Call], params: set[str]) -> dict[str, Any] | None:
    """A commit after two or more statements, with no rollback and no ``with`` block."""
    names = [_name(c) for c in calls]
    commits = [c for c in calls if _name(c) == "commit" and isinstance(c.func, ast.Attribute)]
    if not commits or "rollback" in names or sum(n in EXECUTES for n in names) < 2:
        return None
    if any(isinstance(n, ast.With) for n in ast.walk(func)):
        return None
    owner = ast.unparse(commits[0].func.value)  # type: ignore[attr-defined]
    connect = re.search(rf"\b{re.escape(owner)}\s*=\s*sqlite3\.connect\(", ast.unparse(func))
    source = owner if owner in params else "connect" if connect else None
    return {"line": commits[0].lineno, "connection": source, "owner": owner}


def _pairs(tree: ast.Module) -> list[dict[str, Any]]:
    """Encoder/decoder pairs among the functions of a module or the methods of one class."""
    found = dict(functions(tree))
    out = []
    for qualname, node in found.items():
        prefix, _, name = qualname.rpartition(".")
        words = name.split("_")
        enc, dec = next(((e, d) for e, d in OPPOSITES if e in words), ("", ""))
        partner = ".".join(filter(None, [prefix, "_".join(dec if w == enc else w for w in words)]))
        if enc and partner in found and any(
            isinstance(n, ast.Return) and n.value for n in ast.walk(node)):  # fmt: skip
            out.append({"encoder": qualname, "decoder": partner, "line": node.lineno})
    return out


def _scan(ctx: RunContext, file: str) -> dict[str, Any]:
    tree = parse_file(ctx, file)
    facts: dict[str, Any] = {"writes": [], "pairs": [], "transactions": []}
    if tree is None or is_test_file(file):
        return facts
    sqlite = any(isinstance(n, ast.Import) and "sqlite3" in {a.name for a in n.names}
                 for n in ast.walk(tree))  # fmt: skip
    for qualname, func in functions(tree):
        params = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
        calls = [n for n in ast.walk(func) if isinstance(n, ast.Call)]
        facts["writes"] += [{"qualname": qualname, **w} for w in _writes(func, calls, params)]
        found = _transaction(func, calls, params) if sqlite else None
        facts["transactions"] += [{"qualname": qualname, **found}] if found else []
    facts["pairs"] = _pairs(tree)
    return facts


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


def _static(subject: Subject, what: str, pattern: str, message: str) -> tuple[str, str]:
    body = (f"def {test_name(subject, what)}():\n"
            f"    source = inspect.getsource({subject.qualname})\n"
            f"    assert re.search({pattern!r}, source), {message!r}\n")  # fmt: skip
    code = render(["import inspect", "import re", import_line(subject)], body)
    return f"static: no call could be built from the signature; checks the source for {what}", code


def _write_test(fact: dict[str, Any], subject: Subject, inventory: Inventory) -> tuple[str, str]:
    annotation = next((p.annotation or "" for p in subject.params if p.name == fact["path"]), "")
    path = "target" if "Path" in annotation else "str(target)"
    patchable = fact["path"] and fact["call"] == "open"  # the builtin, looked up on the module
    call = call_expression(subject, inventory, {fact["path"]: path}) if patchable else None
    if call is None:
        message = (
            "writes in place: a crash halfway truncates it; write a temporary file, os.replace"
        )
        return _static(subject, "an atomic replace", RENAME, message)
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
    imports = [*call_imports(call), f"import {subject.module} as target_module"]
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


def _transaction_test(fact: dict[str, Any], subject: Subject, inventory: Inventory) -> Any:
    conn = fact["connection"]
    values = {conn: "connection"} if conn and conn != "connect" else {}
    call = call_expression(subject, inventory, values) if conn else None
    if call is None:
        message = "several statements, a commit and no rollback: a failure leaves half of them"
        return _static(subject, "a rollback", r"\.rollback\(|\bwith\b", message)
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
    imports += [f"import {subject.module} as target_module", import_line(subject)]
    return "a MagicMock(spec=sqlite3.Connection) whose 2nd statement fails", render(imports, body)


# -- specs ---------------------------------------------------------------------------------------
def _make(subject: Subject, inventory: Inventory, kind: SpecKind, key: str, line: int,
          **texts: str) -> TestSpec:  # fmt: skip
    return make_spec(perspective=DataIntegrity.name, perspective_id=DataIntegrity.id, boost=2,
                     subject=subject, kind=kind, key=key, line=line, inventory=inventory,
                     rationale=texts["rationale"], inputs=texts["inputs"], mocks=texts["mocks"],
                     expected=texts["expected"], test_code=texts["code"])  # fmt: skip


def _write_spec(w: dict[str, Any], s: Subject, inventory: Inventory) -> TestSpec:
    inputs, code = _write_test(w, s, inventory)
    return _make(s, inventory, "integration", f"atomic-write:{w['call']}:{w['path']}", w["line"],
                 rationale=f"{w['call']}() at line {w['line']} truncates the file in place",
                 inputs=inputs, code=code, expected="a failed write leaves the previous content",
                 mocks="open patched on the module; tmp_path")  # fmt: skip


def _transaction_spec(t: dict[str, Any], s: Subject, inventory: Inventory) -> TestSpec:
    inputs, code = _transaction_test(t, s, inventory)
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
        facts = cached_per_file(ctx.cache, TOOL, VERSION, ctx.sources, ctx.sources.python,
                                lambda miss: {f: _scan(ctx, f) for f in miss})  # fmt: skip
        specs = [
            s for f, fact in facts.items() for s in _specs(fact, ctx.sources.module(f), inventory)
        ]
        made = list({s.id: s for s in specs if s is not None}.values())  # one per id
        metrics = {k: sum(len(f[k]) for f in facts.values()) for k in KINDS}
        metrics["source_checks"] = sum(1 for s in made if s.inputs.startswith("static"))
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
        f"rollback; {made} specs, {m['source_checks']} of them source checks (no call could be "
        f"built from the signature), {m['without_test']} without a test (pairs whose input type "
        "is not annotated)."
    )
