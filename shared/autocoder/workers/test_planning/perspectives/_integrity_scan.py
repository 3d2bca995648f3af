"""The Data Integrity perspective's scan: in-place writes, encoder/decoder pairs, transactions.

Per file (cached by content): calls that truncate a file in a function that renames no temporary
file over it, encoder/decoder pairs (encode/decode, dumps/loads, to_x/from_x...) among a module's
functions or a class's methods, and SQLite commits after several statements with no rollback.
Used by :mod:`.data_integrity`.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.perspectives._expressions import parse_file
from autocoder.workers.test_planning.perspectives._syntax import function_nodes

TOOL, VERSION = "autocoder-tp-data_integrity", f"{__version__}-3"
OPPOSITES = [("encode", "decode"), ("serialize", "deserialize"), ("serialise", "deserialise"),
             ("dumps", "loads"), ("dump", "load"), ("to", "from"), ("pack", "unpack"),
             ("compress", "decompress"), ("encrypt", "decrypt")]  # fmt: skip
# a rename or move over the target, or a temporary file (mkstemp, NamedTemporaryFile) written first
RENAME = (r"(os\.replace|os\.rename|shutil\.move|_move\w*|mkstemp|NamedTemporaryFile)\("
          r"|\.(replace|rename)\([^,()]*\)")  # fmt: skip
EXECUTES = {"execute", "executemany", "executescript"}


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
    found = dict(function_nodes(tree))
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


def _scan_file(ctx: RunContext, file: str) -> dict[str, Any]:
    """A source file's in-place writes, encoder/decoder pairs and unsafe transactions."""
    tree = parse_file(ctx, file)
    facts: dict[str, Any] = {"writes": [], "pairs": [], "transactions": []}
    if tree is None or is_test_file(file):
        return facts
    sqlite = any(isinstance(n, ast.Import) and "sqlite3" in {a.name for a in n.names}
                 for n in ast.walk(tree))  # fmt: skip
    for qualname, func in function_nodes(tree):
        params = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
        calls = [n for n in ast.walk(func) if isinstance(n, ast.Call)]
        facts["writes"] += [{"qualname": qualname, **w} for w in _writes(func, calls, params)]
        found = _transaction(func, calls, params) if sqlite else None
        facts["transactions"] += [{"qualname": qualname, **found}] if found else []
    facts["pairs"] = _pairs(tree)
    return facts


def file_facts(ctx: RunContext) -> dict[str, Any]:
    """Every Python file's scan, cached by content."""
    return cached_per_file(ctx.cache, TOOL, VERSION, ctx.sources, ctx.sources.python,
                           lambda miss: {f: _scan_file(ctx, f) for f in miss})  # fmt: skip
