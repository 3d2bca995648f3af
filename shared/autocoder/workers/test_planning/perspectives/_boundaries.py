"""What each of the target's functions touches and where it branches, from one ``ast`` pass.

Boundaries: calls into network clients, databases, the filesystem, subprocesses, environment
variables, clocks and randomness (plus parsers, kind ``parsing``, whose errors callers must expect).
A call counts only when it resolves through the module's imports to a known library
(``import requests as r`` makes ``r.get`` ``requests.get``) or is the builtin ``open``; each says
how a test reaches it: the module-level name it goes through (``root``) and the attribute path
below (``path``): ``monkeypatch.setattr(module, root, fake)``, then ``fake.<path>``.

Sites: where a function can fail or return None (``raise``, ``return None``, unchecked
``param[key]`` and ``int(param)``), each with the conditions on the way to it; and the literal
comparisons of parameters (``qty > 100``) that edge cases come from. Shared by Integration Points,
Mocking Strategy, Failure Mode Analysis and Edge Case Discovery; cached per file content.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from autocoder import __version__
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.inventory import (
    Inventory,
    Subject,
    build_inventory,
    is_test_file,
    module_name,
)

TOOL = "autocoder-tp-boundaries"
VERSION = f"{__version__}-1"
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
Conds = tuple[tuple[str, bool], ...]  # (condition source, must be true) on the way to a site
At = tuple[Conds, tuple[str, ...], bool]  # conditions, enclosing handlers, inside a handler
BOUNDARY_KINDS = ("network", "database", "filesystem", "subprocess", "environment", "clock",
                  "randomness")  # fmt: skip
_TABLE = {
    "network": "requests. httpx. aiohttp. urllib.request. urllib3. socket. http.client. ftplib. "
    "smtplib. websockets.",
    "database": "sqlite3. aiosqlite. sqlalchemy. psycopg2. psycopg. pymysql. MySQLdb. asyncpg. "
    "pymongo. redis.",
    "subprocess": "subprocess. os.system os.popen os.exec os.spawn asyncio.create_subprocess_",
    "environment": "os.environ os.getenv os.putenv os.unsetenv",
    "clock": "time.time time.monotonic time.perf_counter time.sleep time.localtime time.gmtime "
    "datetime.datetime.now datetime.datetime.utcnow datetime.datetime.today datetime.date.today "
    "asyncio.sleep",
    "randomness": "random. secrets. uuid.uuid1 uuid.uuid4 os.urandom numpy.random.",
    "filesystem": "open io.open os.remove os.unlink os.rename os.replace os.makedirs os.mkdir "
    "os.rmdir os.listdir os.scandir os.walk shutil. tempfile. glob. pathlib.Path().",
    "parsing": "json.load yaml.load yaml.safe_load yaml.full_load yaml.unsafe_load pickle.load "
    "tomllib.load",
}
PREFIXES = [(prefix, kind) for kind, text in _TABLE.items() for prefix in text.split()]
EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


@dataclass(frozen=True)
class Boundary:
    """One call of a function into the outside world."""

    kind: str
    call: str  # resolved dotted name: requests.get, os.environ[], pathlib.Path().write_text
    root: str  # the module-level (or builtin) name the call goes through
    path: str  # attribute path below ``root`` ("" when the root itself is called)
    line: int
    arg: str | None  # the first argument when literal (an env var name, a URL's literal prefix)
    arg_param: str | None  # the parameter passed as first argument, if any
    mode: str | None  # open()'s mode when given as a literal
    returned: bool  # the call's value is returned as it is
    patchable: bool  # root is a module-level import or a builtin


@dataclass(frozen=True)
class Site:
    """Where a function can fail or return None, and the conditions on the way there."""

    what: str  # raise | none | index | convert
    detail: str  # the exception raised, the literal index, the converter
    param: str | None
    line: int
    conds: Conds
    caught: tuple[str, ...]  # exception names of the enclosing try blocks
    in_handler: bool


@dataclass(frozen=True)
class Comparison:
    """``param OP literal`` (or ``len(param) OP literal``) somewhere in a function."""

    param: str
    op: str
    value: str  # the literal's source
    line: int
    length: bool


@dataclass(frozen=True)
class Facts:
    boundaries: list[Boundary] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    self_attrs: dict[str, str] = field(default_factory=dict)  # __init__: self.x = <source>
    tries: list[tuple[int, int, list[str]]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # names it calls (last segment)
    targets: list[str] = field(default_factory=list)  # what it calls, resolved (see callee())
    writes: list[str] = field(default_factory=list)  # parameters passed to .write() and the like

    def caught_at(self, line: int, exception: str) -> bool:
        return any(a <= line <= b and caught(names, exception) for a, b, names in self.tries)


# An exception -> the names of its base classes that an ``except`` may use instead.
FAMILY = {"FileNotFoundError": "OSError IOError", "PermissionError": "OSError IOError",
          "ConnectionRefusedError": "ConnectionError OSError", "KeyError": "LookupError",
          "IndexError": "LookupError", "JSONDecodeError": "ValueError",
          "TOMLDecodeError": "ValueError", "ConnectionError": "RequestException OSError",
          "ConnectError": "TransportError RequestError HTTPError", "URLError": "OSError",
          "OperationalError": "DatabaseError Error", "CalledProcessError": "SubprocessError",
          "UnpicklingError": "PickleError", "ClientConnectionError": "ClientError",
          "OverflowError": "ArithmeticError", "ZeroDivisionError": "ArithmeticError"}  # fmt: skip


def caught(names: list[str] | tuple[str, ...], exception: str) -> bool:
    """Whether handlers named ``names`` catch ``exception`` (``*`` is a bare except)."""
    last = exception.rsplit(".", maxsplit=1)[-1]
    return bool(
        set(names) & {"*", "Exception", "BaseException", last, *FAMILY.get(last, "").split()}
    )


def kind_of(call: str) -> str | None:
    for prefix, kind in PREFIXES:
        if call == prefix or ("." in prefix and call.startswith(prefix)):
            return kind
    return None


def aliases(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local name -> dotted import path (anywhere in the module), and the module-level names."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                first = a.name.split(".")[0]
                found[a.asname or first] = a.name if a.asname else first
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    top: set[str] = set()
    for n in tree.body:
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            top.add(n.name)
        elif isinstance(n, ast.Import | ast.ImportFrom):
            top |= {a.asname or a.name.split(".")[0] for a in n.names}
        else:
            top |= {
                t.id
                for t in ast.walk(n)
                if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)
            }
    return found, top


def function_nodes(tree: ast.Module) -> Iterator[tuple[str, FunctionNode]]:
    """Top-level functions and the methods of top-level classes, by qualname (as the inventory)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", item


def chain(node: ast.expr) -> tuple[str, list[str]] | None:
    """``Path(p).write_text`` -> ("Path", ["()", "write_text"]); None for other receivers."""
    steps: list[str] = []
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute):
            steps.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            steps.append("()")
            node = node.func
        else:
            return None
    return node.id, steps[::-1]


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float):
        return str(node.value)
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)  # an f-string's literal prefix: a URL or a path
    return None


def _handler_names(node: ast.Try | ast.TryStar) -> list[str]:
    names: list[str] = []
    for h in node.handlers:
        types = [] if h.type is None else h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        names += [ast.unparse(t).split(".")[-1] for t in types] or ["*"]
    return names


def _own_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The expressions of a statement, not those of the statements nested in its bodies."""
    for name, value in ast.iter_fields(stmt):
        if name not in BODIES and not isinstance(
            stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.AST):
                    yield from ast.walk(item)


OPS = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
WRITES = ("write", "writelines", "write_text", "write_bytes")
FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


class _Function:
    """One pass over one function: its boundaries, failure sites and literal comparisons."""

    def __init__(self, module: tuple[dict[str, str], set[str]], func: FunctionNode) -> None:
        self.aliases, self.top = module
        args = func.args
        self.params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        nodes = list(ast.walk(func))
        self.returned = {id(n.value) for n in nodes if isinstance(n, ast.Return) and n.value}
        self.value_returns = not any(
            isinstance(n, ast.Yield | ast.YieldFrom) for n in nodes
        ) and any(
            isinstance(n, ast.Return) and n.value is not None and not _is_none(n.value)
            for n in nodes
        )
        lists = ("boundaries", "sites", "comparisons", "tries", "calls", "targets", "writes")
        self.out: dict[str, Any] = {**{name: [] for name in lists}, "self_attrs": {}}
        end = self.block(func.body, ((), (), False))
        if self.value_returns and not always_exits(func.body):
            self.site("none", "", None, func.body[-1].end_lineno or func.lineno, (end, (), False))

    def site(self, what: str, detail: str, param: str | None, line: int, at: At) -> None:
        self.out["sites"].append(asdict(Site(what, detail, param, line, *at)))

    def block(self, body: list[ast.stmt], at: At) -> Conds:
        """Visit ``body``; the conditions after it (early exits taken as not happening)."""
        for stmt in body:
            self.statement(stmt, at)
            if isinstance(stmt, ast.If) and isinstance(stmt.body[-1], EXITS) and not stmt.orelse:
                at = ((*at[0], (ast.unparse(stmt.test), False)), at[1], at[2])
        return at[0]

    def statement(self, stmt: ast.stmt, at: At) -> None:
        conds, caught, handler = at
        for node in _own_nodes(stmt):
            self.expression(node, at)
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            self.site("raise", ast.unparse(exc), None, stmt.lineno, at)
        elif isinstance(stmt, ast.Return) and self.value_returns and _is_none(stmt.value):
            self.site("none", "", None, stmt.lineno, at)
        elif isinstance(stmt, ast.Assign) and _self_attribute(stmt):
            attr = stmt.targets[0].attr  # type: ignore[attr-defined]
            self.out["self_attrs"][attr] = ast.unparse(stmt.value)
        if isinstance(stmt, ast.If | ast.While):
            test = ast.unparse(stmt.test)
            self.block(stmt.body, ((*conds, (test, True)), caught, handler))
            self.block(stmt.orelse, ((*conds, (test, False)), caught, handler))
        elif isinstance(stmt, ast.Try | ast.TryStar):
            names = _handler_names(stmt)
            self.out["tries"].append((stmt.body[0].lineno, stmt.body[-1].end_lineno, names))
            self.block(stmt.body, (conds, (*caught, *names), handler))
            for h in stmt.handlers:
                self.block(h.body, (conds, caught, True))
            self.block(stmt.orelse + stmt.finalbody, at)
        elif isinstance(stmt, ast.For | ast.AsyncFor | ast.With | ast.AsyncWith):
            self.block(stmt.body + getattr(stmt, "orelse", []), at)

    def expression(self, node: ast.AST, at: At) -> None:
        name = _subject_param(node)
        guard = rf"\b{name}\b" if isinstance(node, ast.Subscript) else rf"\b{name}\.is\w+\(|match"
        unchecked = bool(name) and not any(re.search(guard, c) for c, _ in at[0])
        if isinstance(node, ast.Call):
            func, target = node.func, self.resolve(node.func)
            self.out["calls"].append(
                func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            )
            self.out["targets"].append(self.callee(func, target))
            self.boundary(node, target, node.args[0] if node.args else None)
            if isinstance(node.func, ast.Attribute) and node.func.attr in WRITES:
                args = [n.id for a in node.args for n in ast.walk(a) if isinstance(n, ast.Name)]
                self.out["writes"] += [a for a in args if a in self.params]
            if unchecked and name in self.params:
                self.site("convert", ast.unparse(node.func), name, node.lineno, at)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            target = self.resolve(node.value)
            if target is not None and target[0] == "os.environ":
                self.boundary(
                    node, ("os.environ[]", target[1], f"{target[2]}.__getitem__"), node.slice
                )
            elif unchecked and name in self.params:
                self.site("index", ast.unparse(node.slice), name, node.lineno, at)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in OPS:
            self.comparison(node)

    def callee(self, func: ast.expr, target: tuple[str, str, str] | None) -> str:
        """What a call names: ``pkg.mod.f`` through an import, ``f`` in the module, ``self.m``."""
        if target is not None:
            return target[0]
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "self":
            return f"self.{func.attr}"
        return ""

    def comparison(self, node: ast.Compare) -> None:
        op, left, right = OPS[type(node.ops[0])], node.left, node.comparators[0]
        if isinstance(left, ast.Constant):
            op, left, right = FLIP[op], right, left
        value = right.value if isinstance(right, ast.Constant) else None
        length = (
            isinstance(left, ast.Call)
            and getattr(left.func, "id", "") == "len"
            and len(left.args) == 1
        )
        name = left.args[0] if length and isinstance(left, ast.Call) else left
        if (
            isinstance(name, ast.Name)
            and name.id in self.params
            and not isinstance(value, bool)
            and (isinstance(value, int | float) or (isinstance(value, str) and not length))
        ):
            self.out["comparisons"].append(
                {
                    "param": name.id,
                    "op": op,
                    "value": repr(value),
                    "line": node.lineno,
                    "length": length,
                }
            )

    def resolve(self, node: ast.expr) -> tuple[str, str, str] | None:
        """(resolved dotted name, root, mock path) of an expression, when it is resolvable."""
        found = chain(node)
        if found is None:
            return None
        root, steps = found
        if root in self.aliases:
            base = self.aliases[root]
        elif root in vars(builtins) and root not in self.top:
            base = root
        else:
            return None
        dotted = base + "".join(s if s == "()" else f".{s}" for s in steps)
        return dotted, root, ".".join("return_value" if s == "()" else s for s in steps)

    def boundary(
        self,
        node: ast.Call | ast.Subscript,
        target: tuple[str, str, str] | None,
        first: ast.expr | None,
    ) -> None:
        kind = kind_of(target[0]) if target else None
        if target is None or kind is None or "()" in target[0].removeprefix("pathlib.Path()"):
            return
        mode = node.args[1] if isinstance(node, ast.Call) and len(node.args) > 1 else None
        mode = next((k.value for k in getattr(node, "keywords", []) if k.arg == "mode"), mode)
        mode = mode if target[0].endswith("open") else None
        if target[0].startswith("pathlib.Path().") and isinstance(node, ast.Call):
            made = node.func.value if isinstance(node.func, ast.Attribute) else None
            first = made.args[0] if isinstance(made, ast.Call) and made.args else None
            mode = ast.Constant("w") if "write" in target[0] else mode
        param = first.id if isinstance(first, ast.Name) and first.id in self.params else None
        patchable = target[1] in self.top or target[1] in vars(builtins)
        returned = id(node) in self.returned
        found = Boundary(kind, target[0], target[1], target[2].strip("."), node.lineno,
                         _literal(first), param, _literal(mode), returned, patchable)  # fmt: skip
        self.out["boundaries"].append(asdict(found))


def always_exits(body: list[ast.stmt]) -> bool:
    """Every path through ``body`` ends in ``return`` or ``raise``."""
    last = body[-1] if body else None
    if isinstance(last, ast.If):
        return always_exits(last.body) and always_exits(last.orelse)
    if isinstance(last, ast.With | ast.AsyncWith):
        return always_exits(last.body)
    if isinstance(last, ast.Try | ast.TryStar):
        handlers = all(always_exits(h.body) for h in last.handlers)
        return (always_exits(last.body) and handlers) or always_exits(last.finalbody)
    return isinstance(last, ast.Return | ast.Raise)


def _is_none(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _self_attribute(stmt: ast.Assign) -> bool:
    """``self.x = name`` or ``self.x = literal``."""
    target = stmt.targets[0]
    return (
        isinstance(target, ast.Attribute)
        and ast.unparse(target.value) == "self"
        and isinstance(stmt.value, ast.Name | ast.Constant)
    )


def _subject_param(node: ast.AST) -> str:
    """The parameter a subscript reads (``p[k]``) or a conversion converts (``int(p)``)."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        literal = isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int | str)
        return node.value.id if literal else ""
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", "") in ("int", "float")
        and node.args
    ):
        return node.args[0].id if isinstance(node.args[0], ast.Name) else ""
    return ""


def scan_module(tree: ast.Module) -> dict[str, dict[str, Any]]:
    """Qualname -> that function's facts, as JSON for the cache."""
    module = aliases(tree)
    return {qualname: _Function(module, func).out for qualname, func in function_nodes(tree)}


def _scan_files(ctx: RunContext, files: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for file in files:
        try:
            out[file] = scan_module(ast.parse(ctx.sources.path(file).read_bytes(), filename=file))
        except (SyntaxError, ValueError):
            out[file] = {}
    return out


def _facts(data: dict[str, Any]) -> Facts:
    sites = [
        Site(**{**s, "conds": tuple(map(tuple, s["conds"])), "caught": tuple(s["caught"])})
        for s in data["sites"]
    ]
    return Facts(
        boundaries=[Boundary(**b) for b in data["boundaries"]],
        sites=sites,
        comparisons=[Comparison(**c) for c in data["comparisons"]],
        self_attrs=data["self_attrs"],
        tries=[(a, b, n) for a, b, n in data["tries"]],
        calls=data["calls"],
        targets=data["targets"],
        writes=data["writes"],
    )


@dataclass
class IndexedInventory(Inventory):
    """The inventory with indexes built once: a reverse import index for ``fan_in`` (the original
    scans every file per call, and :func:`make_spec` asks once per spec: minutes on a
    Django-sized tree), and the subjects by their last name."""

    @cached_property
    def importers(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for file, imported in self.imports.items():
            for name in imported:
                parts = name.split(".")
                for n in range(1, len(parts) + 1):
                    found.setdefault(".".join(parts[:n]), set()).add(file)
        return found

    @cached_property
    def fan_ins(self) -> dict[str, int]:
        return {}

    def fan_in(self, module: str) -> int:
        if module not in self.fan_ins:
            files = self.importers.get(module, set())
            self.fan_ins[module] = sum(1 for f in files if module_name(f) != module)
        return self.fan_ins[module]

    @cached_property
    def by_name(self) -> dict[str, list[Subject]]:
        found: dict[str, list[Subject]] = {}
        for subject in self.subjects:
            found.setdefault(subject.qualname.split(".")[-1], []).append(subject)
        return found


def indexed_inventory(ctx: RunContext) -> IndexedInventory:
    inventory = build_inventory(ctx)
    return IndexedInventory(inventory.subjects, inventory.modules, inventory.imports,
                            inventory.test_names, inventory.unparsable)  # fmt: skip


def named(inventory: Inventory, name: str) -> list[Subject]:
    """The subjects whose qualname ends with ``name``."""
    if isinstance(inventory, IndexedInventory):
        return inventory.by_name.get(name, [])
    return [s for s in inventory.subjects if s.qualname.split(".")[-1] == name]


def function_facts(ctx: RunContext, inventory: Inventory) -> dict[str, Facts]:
    """Subject id (``module:qualname``) -> its facts, for every function and method."""
    files = [f for f in ctx.sources.python if not is_test_file(f)]
    found = cached_per_file(
        ctx.cache,
        TOOL,
        VERSION,
        ctx.sources,
        files,
        lambda miss: _scan_files(ctx, miss),
        default={},
    )
    return {
        f"{module_name(file)}:{qualname}": _facts(data)
        for file in files
        for qualname, data in (found[file] or {}).items()
        if f"{module_name(file)}:{qualname}" in inventory.by_id
    }


def boundaries(ctx: RunContext, inventory: Inventory) -> dict[str, list[Boundary]]:
    """Subject id -> its calls to the outside world (every kind, parsers included)."""
    return {sid: f.boundaries for sid, f in function_facts(ctx, inventory).items() if f.boundaries}
